"""write_private: every byte written or a clear error, nothing half-written or left behind."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from agent.state_dir import StateWriteError, describe_os_error, write_private

PAYLOAD = bytes(range(256)) * 64  # 16 kB


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_a_short_write_is_finished_not_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """os.write may write fewer bytes than asked (a disk filling up, a signal); no real file
    system here does that on demand, so os.write is replaced by one that writes half of what
    it is given, through the real os.write."""
    real_write = os.write
    calls: list[int] = []

    def half_write(fd: int, data: bytes | memoryview) -> int:
        calls.append(len(data))
        return real_write(fd, bytes(data[: max(1, len(data) // 2)]))

    monkeypatch.setattr(os, "write", half_write)
    target = tmp_path / "state" / "report.json"
    write_private(target, PAYLOAD)
    assert target.read_bytes() == PAYLOAD
    assert len(calls) > 10  # 16 kB in halves: the loop went on until the last byte
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert leftovers(target.parent) == []


def test_a_write_that_takes_nothing_is_a_full_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file system that accepts some bytes and then none (os.write returns 0): the same
    stand-in as above, because only a full disk does this and it cannot be asked to."""
    real_write = os.write
    budget = [1000]

    def filling_write(fd: int, data: bytes | memoryview) -> int:
        take = min(len(data), budget[0])
        budget[0] -= take
        return real_write(fd, bytes(data[:take])) if take else 0

    target = tmp_path / "status.json"
    target.write_bytes(b"the previous version")
    monkeypatch.setattr(os, "write", filling_write)
    with pytest.raises(StateWriteError) as caught:
        write_private(target, PAYLOAD)
    assert caught.value.errno == errno.ENOSPC
    assert str(caught.value) == f"{target}: no space left on device"
    assert target.read_bytes() == b"the previous version"  # untouched
    assert leftovers(tmp_path) == []


def test_a_folder_that_cannot_hold_the_file_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "state"
    blocker.write_text("a file where the state directory should be")
    with pytest.raises(StateWriteError) as caught:
        write_private(blocker / "status.json", "{}")
    assert isinstance(caught.value, OSError) and caught.value.errno == errno.EEXIST
    assert str(caught.value).startswith(f"{blocker / 'status.json'}: ")


def test_a_failed_rename_removes_the_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "spool"
    (target / "inside").mkdir(parents=True)  # a non-empty folder cannot be replaced by a file
    with pytest.raises(StateWriteError) as caught:
        write_private(target, PAYLOAD)
    assert caught.value.errno in (errno.EISDIR, errno.ENOTEMPTY, errno.EEXIST)
    assert leftovers(tmp_path) == []
    assert (target / "inside").is_dir()


def test_two_writers_of_one_file_never_share_a_temp_file(tmp_path: Path) -> None:
    """Two processes (the service's child and a hand-run `agent send`) may save status.json
    at once: with one shared temp name, one would rename the other's half-written file."""
    target = tmp_path / "status.json"
    versions = {name: name.encode() * 4096 for name in ("a", "b")}
    seen: set[bytes] = set()
    done = threading.Event()

    def writer(data: bytes) -> None:
        for _ in range(200):
            write_private(target, data)

    def reader() -> None:
        while not done.is_set():
            with contextlib.suppress(FileNotFoundError):
                seen.add(target.read_bytes())

    watching = threading.Thread(target=reader)
    watching.start()
    try:
        with ThreadPoolExecutor(2) as pool:
            for finished in [pool.submit(writer, v) for v in versions.values()]:
                finished.result()  # a writer's error fails the test here
    finally:
        done.set()
        watching.join()
    assert seen <= set(versions.values()), "a reader saw a file that was never written whole"
    assert target.read_bytes() in versions.values()
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("code", "text"),
    [
        (errno.ENOSPC, "no space left on device"),
        (errno.EDQUOT, "disk quota exceeded"),
        (errno.EROFS, "read-only file system"),
        (errno.EIO, "input/output error"),
    ],
)
def test_errors_read_as_plain_words(code: int, text: str) -> None:
    error = StateWriteError(Path("/var/lib/outpost/spool/x.json"), OSError(code, os.strerror(code)))
    assert str(error) == f"/var/lib/outpost/spool/x.json: {text}"
    assert describe_os_error(error) == text
