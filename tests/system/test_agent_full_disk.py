"""A full or read-only disk under the real `agent send`: one clear line, exit 4, nothing half
written, and `agent status` says so until a write succeeds. The file systems are real: tmpfs
mounts made by the test (root; CI runs as root)."""

from __future__ import annotations

import errno
import json
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.system.conftest import Collector, StartCollector, run_agent

pytestmark = pytest.mark.system
EXIT_CANNOT_SPOOL = 4


@pytest.fixture(scope="module")
def sqlite_collector(start_module_collector: StartCollector) -> Collector:
    return start_module_collector("sqlite")


@contextmanager
def tmpfs(folder: Path, size: str) -> Iterator[Path]:
    """A small real file system at `folder`, unmounted again however the test ends."""
    assert os.geteuid() == 0, "mounting a tmpfs needs root (CI runs these tests as root)"
    folder.mkdir(parents=True, exist_ok=True)
    options = f"size={size},mode=0700"
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], check=True)
    try:
        yield folder
    finally:
        if subprocess.run(["umount", str(folder)], check=False).returncode:
            subprocess.run(["umount", "-l", str(folder)], check=True)


def remount(folder: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(folder)], check=True)


def fill(folder: Path) -> Path:
    """Write zeros until the file system refuses: ENOSPC, as a full disk says it."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, bytes(65536))
    except OSError as exc:
        assert exc.errno == errno.ENOSPC, exc
    finally:
        os.close(fd)
    return filler


def status(state: Path) -> dict[str, Any]:
    done = run_agent(state, "status", "--json")
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def assert_nothing_half_written(state: Path) -> None:
    files = [p for p in state.rglob("*") if p.is_file()]
    assert [p.name for p in files if p.name.endswith(".tmp")] == []
    assert [p.name for p in (state / "spool").rglob("*") if p.is_file()] == []
    assert [p.name for p in files if p.stat().st_size == 0] == []


def assert_refused_clearly(done: subprocess.CompletedProcess[str], reason: str) -> None:
    assert done.returncode == EXIT_CANNOT_SPOOL, done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("agent: cannot spool the report: ") and line.endswith(reason), line


def test_a_full_disk_is_one_clear_line_and_shown_by_status(
    sqlite_collector: Collector, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    with tmpfs(state, "1m"):
        device = sqlite_collector.enrol(state)
        filler = fill(state)
        done = run_agent(state, "send")
        assert_refused_clearly(done, "no space left on device")
        assert_nothing_half_written(state)
        # Even the record of the error could not be written: status finds the full disk itself.
        problem = status(state)["spool"]["write_error"]
        assert problem["at"] is None and "no space left on device" in problem["error"]
        text = run_agent(state, "status").stdout
        assert "spool error" in text and "no space left on device" in text

        filler.unlink()
        again = run_agent(state, "send")
        assert again.returncode == 0, again.stderr
        assert " accepted" in again.stdout
        shown = status(state)["spool"]
        assert shown["write_error"] is None and shown["depth"] == 0
    assert sqlite_collector.device(device.device_id)["reports_received"] == 1


def test_a_full_spool_disk_is_recorded_until_a_write_succeeds(
    sqlite_collector: Collector, tmp_path: Path
) -> None:
    """The spool on its own file system: the error is recorded beside it, with its time."""
    state = tmp_path / "state"
    sqlite_collector.enrol(state)
    with tmpfs(state / "spool", "256k"):
        filler = fill(state / "spool")
        assert_refused_clearly(run_agent(state, "send"), "no space left on device")
        filler.unlink()
        # Room again, but no write has succeeded yet: the recorded error still shows.
        problem = status(state)["spool"]["write_error"]
        assert problem["at"] is not None and "no space left on device" in problem["error"]
        assert "(since " in run_agent(state, "status").stdout
        again = run_agent(state, "send")
        assert again.returncode == 0, again.stderr
        assert status(state)["spool"]["write_error"] is None
        assert not (state / "local_error.json").exists()


def test_a_read_only_state_directory_is_exit_4_and_shown_by_status(
    sqlite_collector: Collector, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    with tmpfs(state, "1m"):
        sqlite_collector.enrol(state)
        remount(state, "ro")
        try:
            assert_refused_clearly(run_agent(state, "send"), "read-only file system")
            problem = status(state)["spool"]["write_error"]
            assert problem["at"] is None and "read-only file system" in problem["error"]
        finally:
            remount(state, "rw")
        assert run_agent(state, "send").returncode == 0
        assert status(state)["spool"]["write_error"] is None
