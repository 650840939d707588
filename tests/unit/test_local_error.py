"""The last failed write, kept for `agent status`; when it cannot be kept, status still sees."""

from __future__ import annotations

from pathlib import Path

from agent.delivery.local_error import (
    LocalError,
    clear_local_error,
    file_system_problem,
    load_local_error,
    record_local_error,
    write_problem,
)
from agent.state_dir import StateWriteError


def test_recorded_until_cleared(tmp_path: Path) -> None:
    assert record_local_error(tmp_path, "/x/spool/1.json: no space left on device", 0.0) is None
    expected = LocalError("/x/spool/1.json: no space left on device", "1970-01-01T00:00:00Z")
    assert load_local_error(tmp_path) == expected
    # The recorded error wins over what the (healthy) file system shows now.
    assert write_problem(tmp_path, tmp_path / "spool") == expected
    clear_local_error(tmp_path)
    assert load_local_error(tmp_path) is None
    assert write_problem(tmp_path, tmp_path / "spool") is None
    clear_local_error(tmp_path)  # nothing to clear: fine


def test_a_record_that_cannot_be_written_is_handed_back_not_raised(tmp_path: Path) -> None:
    blocker = tmp_path / "state"
    blocker.write_text("a file where the state directory should be")
    unrecorded = record_local_error(blocker, "disk full", 0.0)
    assert isinstance(unrecorded, StateWriteError)


def test_an_unreadable_record_is_shown_not_hidden(tmp_path: Path) -> None:
    (tmp_path / "local_error.json").write_text("{broken")
    found = load_local_error(tmp_path)
    assert found is not None and "unreadable" in found.error


def test_a_healthy_file_system_has_no_problem(tmp_path: Path) -> None:
    assert file_system_problem(tmp_path) is None
    assert file_system_problem(tmp_path / "absent") is None  # cannot look: says nothing
