"""The spool: durable, oldest first, bounded with a dropped count, corrupt files set aside."""

from __future__ import annotations

import stat
import uuid
from pathlib import Path

from agent.delivery.spool import Spool


def report(n: int) -> dict[str, object]:
    return {"report_id": str(uuid.uuid4()), "n": n}


def test_oldest_first_and_done_removes(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    for n in range(3):
        spool.put(report(n))
    items = list(spool.pending())
    assert [item.report["n"] for item in items] == [0, 1, 2]
    spool.done(items[0])
    assert spool.depth == 2
    assert stat.S_IMODE(items[1].path.stat().st_mode) == 0o600


def test_full_spool_drops_the_oldest_and_counts_them(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool", max_reports=3)
    for n in range(5):
        spool.put(report(n))
    assert [item.report["n"] for item in spool.pending()] == [2, 3, 4]
    assert spool.dropped == 2
    # The counter lives beside the reports: it is neither a report nor corrupt.
    assert spool.depth == 3
    assert not list((tmp_path / "spool" / "quarantine").iterdir())
    assert Spool(tmp_path / "spool").dropped == 2


def test_byte_bound(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool", max_bytes=200)
    for n in range(10):
        spool.put({**report(n), "pad": "x" * 40})
    assert spool.depth < 10 and spool.dropped == 10 - spool.depth


def test_corrupt_file_is_quarantined_not_fatal(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    spool.put(report(1))
    (tmp_path / "spool" / "00000000000000000001-broken.json").write_text("{not json")
    assert [item.report["n"] for item in spool.pending()] == [1]
    assert (tmp_path / "spool" / "quarantine" / "00000000000000000001-broken.json").exists()


def test_rejected_report_is_set_aside(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    spool.put(report(1))
    (item,) = spool.pending()
    spool.reject(item, "422 schema")
    assert spool.depth == 0
    assert (tmp_path / "spool" / "rejected" / item.path.name).exists()
