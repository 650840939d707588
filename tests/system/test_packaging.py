"""The shipped artefacts: the one-file agent binary runs with no Python around it, and the
.deb carries the binary, the hardened unit, the config template and sound maintainer scripts."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

from agent.facts.schema import report_schema

pytestmark = pytest.mark.system

ROOT = Path(__file__).resolve().parents[2]
BINARY = ROOT / "dist" / "agent"
SOURCES = [ROOT / "agent", ROOT / "packaging" / "pyinstaller"]


def _newest_source() -> float:
    return max(p.stat().st_mtime for d in SOURCES for p in d.rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def binary() -> Path:
    """dist/agent, built now when absent or older than the sources (CI builds it first)."""
    if not BINARY.exists() or BINARY.stat().st_mtime < _newest_source():
        subprocess.run([str(ROOT / "packaging" / "build_binary.sh")], check=True, timeout=600)
    return BINARY


def test_binary_self_check_runs_without_python(binary: Path, tmp_path: Path) -> None:
    clean_env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run(
        [str(binary), "--state-dir", str(tmp_path / "state"), "--self-check", "--json"],
        cwd=tmp_path,
        env=clean_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode in (0, 1, 3), done.stderr
    result = json.loads(done.stdout)
    jsonschema.Draft202012Validator(report_schema()).validate(result["report"])
    statuses = {name: p["status"] for name, p in result["probes"].items()}
    assert {k: v for k, v in statuses.items() if k != "credentials"} == {
        "patch_level": "ok",
        "network": "ok",
        "accounts": "ok",
        "device_security": "ok",
    }
    assert len(result["rules"]) == 17  # every agent-side rule, none lost in packaging


@pytest.fixture(scope="module")
def deb(binary: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    out = tmp_path_factory.mktemp("deb")
    subprocess.run(
        [str(ROOT / "packaging" / "build_deb.sh"), str(binary), str(out)], check=True, timeout=300
    )
    (package,) = out.glob("outpost-agent_*.deb")
    yield package


def test_deb_contents(deb: Path) -> None:
    listing = subprocess.run(
        ["dpkg-deb", "-c", str(deb)], capture_output=True, text=True, check=True
    ).stdout
    entries = {line.split()[-1].removeprefix("."): line.split()[0] for line in listing.splitlines()
               if not line.split()[-1].endswith("/")}  # fmt: skip
    entries |= {
        line.split()[-3].removeprefix("."): line.split()[0]
        for line in listing.splitlines()
        if " -> " in line
    }
    assert entries["/usr/lib/outpost/agent"] == "-rwxr-xr-x"
    assert entries["/usr/bin/agent"].startswith("l")
    assert entries["/lib/systemd/system/outpost-agent.service"] == "-rw-r--r--"
    assert entries["/etc/outpost/agent.toml"] == "-rw-r--r--"
    assert "/usr/share/doc/outpost-agent/operator-guide.md" in entries
    assert "root/root" in listing and "outpost" not in listing.split("root/root")[0]


def test_deb_control_and_maintainer_scripts(deb: Path, tmp_path: Path) -> None:
    subprocess.run(["dpkg-deb", "-e", str(deb), str(tmp_path)], check=True)
    control = (tmp_path / "control").read_text()
    for field in ("Package: outpost-agent", "Depends: adduser", "Architecture: "):
        assert field in control
    assert (tmp_path / "conffiles").read_text().split() == ["/etc/outpost/agent.toml"]
    for script in ("postinst", "prerm", "postrm"):
        path = tmp_path / script
        assert os.access(path, os.X_OK), script
        subprocess.run(["sh", "-n", str(path)], check=True)  # parses
        text = path.read_text()
        assert text.startswith("#!/bin/sh") and "set -e" in text
    postinst = (tmp_path / "postinst").read_text()
    assert "adduser --system" in postinst and "enable outpost-agent.service" in postinst
    postrm = (tmp_path / "postrm").read_text()
    assert 'if [ "$1" = "purge" ]' in postrm  # state is removed on purge only, never on upgrade


def test_agent_unit_is_hardened() -> None:
    unit = (ROOT / "packaging" / "systemd" / "outpost-agent.service").read_text()
    for directive in (
        "User=outpost",
        "ProtectSystem=strict",
        "StateDirectory=outpost",
        "Restart=on-failure",
        "NoNewPrivileges=yes",
        "CapabilityBoundingSet=CAP_DAC_READ_SEARCH",
        "ConditionPathExists=/var/lib/outpost/enrolment.json",
        "KillMode=mixed",
    ):
        assert directive in unit, directive
    assert "--state-dir /var/lib/outpost" in unit and unit.count("ExecStart=") == 1
    verify = subprocess.run(
        [
            "systemd-analyze",
            "verify",
            "--man=no",
            str(ROOT / "packaging/systemd/outpost-agent.service"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    # The binary is not installed here: only that complaint is allowed.
    problems = [
        line
        for line in verify.stderr.splitlines()
        if line.strip() and "/usr/lib/outpost/agent" not in line and "ConditionPath" not in line
    ]
    assert not [p for p in problems if "Unknown" in p or "Invalid" in p or "Failed" in p], problems
