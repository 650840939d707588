"""The spool: durable, in sequence whatever the clock, bounded with counts, leftovers cleaned."""

from __future__ import annotations

import logging
import os
import stat
import time
import uuid
from pathlib import Path

import pytest

import agent.state_dir
from agent.delivery.spool import Spool


def report(n: int) -> dict[str, object]:
    return {"report_id": str(uuid.uuid4()), "n": n}


def test_oldest_first_and_done_removes(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    for n in range(3):
        spool.put(report(n))
    items = list(spool.pending())
    assert [item.report["n"] for item in items] == [0, 1, 2]
    assert [item.path.name[:20] for item in items] == [f"{n:020d}" for n in (1, 2, 3)]
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


def test_the_newest_report_is_never_trimmed_however_large(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool", max_bytes=10)
    spool.put(report(1))
    spool.put(report(2))
    assert [item.report["n"] for item in spool.pending()] == [2]
    assert spool.dropped == 1


def test_order_is_the_sequence_not_the_clock(tmp_path: Path) -> None:
    """An older agent named files by the wall clock; one written while the clock ran a day
    ahead must still be sent before, and trimmed before, a report made after it."""
    folder = tmp_path / "spool"
    spool = Spool(folder, max_reports=2)
    ahead = time.time_ns() + 86_400 * 10**9
    legacy = folder / f"{ahead:020d}-{uuid.uuid4()}.json"
    legacy.write_text('{"report_id": "legacy", "n": 0}')
    older = folder / f"{ahead - 10**9:020d}-{uuid.uuid4()}.json"
    older.write_text('{"report_id": "older", "n": -1}')
    path = spool.put(report(1))
    assert int(path.name.split("-")[0]) == ahead + 1  # max + 1: after every waiting report
    assert [item.report["n"] for item in spool.pending()] == [0, 1]
    assert spool.dropped == 1 and not older.exists()
    spool.put(report(2))
    assert [item.report["n"] for item in spool.pending()] == [1, 2]


def test_corrupt_file_is_quarantined_not_fatal(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    (tmp_path / "spool" / "00000000000000000001-broken.json").write_text("{not json")
    spool.put(report(1))
    assert [item.report["n"] for item in spool.pending()] == [1]
    assert (tmp_path / "spool" / "quarantine" / "00000000000000000001-broken.json").exists()
    assert spool.counters().quarantined == 1


def test_rejected_report_is_set_aside_and_counted(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    spool.put(report(1))
    (item,) = spool.pending()
    spool.reject(item, "collector answered 422: " + "x" * 1000, 1_700_000_000.0)
    assert spool.depth == 0
    assert (tmp_path / "spool" / "rejected" / item.path.name).exists()
    counters = Spool(tmp_path / "spool").counters()
    assert counters.rejected == 1 and counters.dropped == 0
    assert counters.last_rejected is not None
    assert counters.last_rejected.report_id == item.report["report_id"]
    assert counters.last_rejected.at == "2023-11-14T22:13:20Z"
    assert counters.last_rejected.reason.startswith("collector answered 422")
    assert len(counters.last_rejected.reason) == 300


def test_counters_of_an_older_agent_still_read(tmp_path: Path) -> None:
    (tmp_path / "spool").mkdir()
    (tmp_path / "spool" / "counters.json").write_text('{"dropped": 7}')
    counters = Spool(tmp_path / "spool").counters()
    assert (counters.dropped, counters.rejected, counters.last_rejected) == (7, 0, None)
    assert counters.quarantined == 0


def test_leftover_temp_files_are_removed_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "spool"
    folder.mkdir()
    stale = folder / ".00000000000000000001-a.json.123.abcd.tmp"
    stale.write_bytes(b"x" * 100)
    two_minutes_ago = time.time() - 120
    os.utime(stale, (two_minutes_ago, two_minutes_ago))
    fresh = folder / ".00000000000000000002-b.json.456.ef01.tmp"  # a write in progress
    fresh.write_bytes(b"y")
    caplog.set_level(logging.WARNING)
    Spool(folder)
    assert not stale.exists() and fresh.exists()
    assert "removed 1 leftover temp file(s), 100 bytes" in caplog.text


def test_temp_files_count_against_the_byte_bound(tmp_path: Path) -> None:
    folder = tmp_path / "spool"
    spool = Spool(folder, max_bytes=1000)
    spool.put({**report(1), "pad": "x" * 300})
    spool.put({**report(2), "pad": "x" * 300})
    assert spool.dropped == 0
    (folder / ".00000000000000000009-c.json.1.2.tmp").write_bytes(b"z" * 300)
    spool.put({**report(3), "pad": "x" * 100})
    assert [item.report["n"] for item in spool.pending()] == [2, 3]
    assert spool.dropped == 1


def test_every_rename_and_removal_in_the_spool_is_made_durable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash cannot be staged in a unit test, so a spy records which folders are fsynced
    (the real fsync still runs): quarantine, reject and done must each sync their folders."""
    synced: list[Path] = []
    real = agent.state_dir.fsync_dir

    def spy(folder: Path) -> None:
        synced.append(folder)
        real(folder)

    monkeypatch.setattr(agent.state_dir, "fsync_dir", spy)
    folder = tmp_path / "spool"
    spool = Spool(folder)
    (folder / "00000000000000000001-broken.json").write_text("{not json")
    spool.put(report(1))
    spool.put(report(2))
    synced.clear()
    first, second = spool.pending()  # quarantines the broken file on the way
    assert set(synced) == {folder, folder / "quarantine"}
    synced.clear()
    spool.reject(first, "422", 0.0)
    assert {folder, folder / "rejected"} <= set(synced)
    synced.clear()
    spool.done(second)
    assert synced == [folder]
