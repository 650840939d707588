"""The service's report child runs this agent whatever folder the service was started in."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from agent.service.run import agent_command


def test_a_folder_named_agent_in_the_working_directory_is_not_imported(tmp_path: Path) -> None:
    impostor = tmp_path / "agent"
    impostor.mkdir()
    (impostor / "__init__.py").write_text("raise SystemExit('the impostor agent was imported')\n")
    (impostor / "cli.py").write_text("raise SystemExit('the impostor agent was imported')\n")
    done = subprocess.run(
        [*agent_command(), "--help"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    assert done.returncode == 0, done.stderr
    assert "impostor" not in done.stdout + done.stderr
    assert "--self-check" in done.stdout
