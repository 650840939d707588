"""The agent's systemd sandbox lets every probe see what it reads.

The paths come from the probes themselves: the real probes run on this machine through the
recording Context (`agent facts --record`), which writes down every file, folder and command
they touched; the Kerberos store's declared cache folders and keytabs are added, since a
machine with no caches may not reach them. Each path is then checked against what the unit's
sandbox settings hide from the service (PrivateTmp, ProtectHome, InaccessiblePaths,
TemporaryFileSystem, PrivateDevices, ProtectKernelLogs, ProcSubset).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path, PurePosixPath

import pytest

from agent.facts.probes.credentials.stores.developer_kerberos import FILES

pytestmark = pytest.mark.system

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "packaging" / "systemd" / "outpost-agent.service"
AGENT = str(Path(sys.executable).parent / "agent")
# What PrivateDevices=yes leaves in the private /dev (systemd.exec(5)).
PRIVATE_DEV_KEPT = (
    "/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty",
    "/dev/pts", "/dev/ptmx", "/dev/shm", "/dev/mqueue", "/dev/hugepages", "/dev/log",
    "/dev/stdin", "/dev/stdout", "/dev/stderr", "/dev/fd",
)  # fmt: skip


def unit_settings(text: str) -> dict[str, list[str]]:
    """The [Service] section's directives, each with every value it was given."""
    settings: dict[str, list[str]] = {}
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line
        elif section == "[Service]" and "=" in line:
            key, value = line.split("=", 1)
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def _on(settings: dict[str, list[str]], key: str) -> str:
    return settings.get(key, ["no"])[-1].lower()


def _paths(settings: dict[str, list[str]], key: str) -> list[str]:
    """A path-list directive's paths, without the '-' / '+' prefixes or ':options'."""
    return [p.lstrip("-+").split(":")[0] for v in settings.get(key, []) for p in v.split()]


def hidden_paths(settings: dict[str, list[str]]) -> dict[str, str]:
    """Path prefix -> the directive that hides it (empty or absent) from the service."""
    hidden: dict[str, str] = {}
    if _on(settings, "PrivateTmp") in ("yes", "true", "1"):
        hidden |= {"/tmp": "PrivateTmp=yes", "/var/tmp": "PrivateTmp=yes"}
    home = _on(settings, "ProtectHome")
    if home in ("yes", "true", "1", "tmpfs"):
        hidden |= {p: f"ProtectHome={home}" for p in ("/home", "/root", "/run/user")}
    for path in _paths(settings, "InaccessiblePaths"):
        hidden[path] = f"InaccessiblePaths={path}"
    for path in _paths(settings, "TemporaryFileSystem"):
        hidden[path] = f"TemporaryFileSystem={path}"
    if _on(settings, "ProtectKernelLogs") in ("yes", "true", "1"):
        hidden |= {"/proc/kmsg": "ProtectKernelLogs=yes", "/dev/kmsg": "ProtectKernelLogs=yes"}
    if _on(settings, "ProcSubset") == "pid":
        hidden |= {f"/proc/{n}": "ProcSubset=pid" for n in ("net", "sys", "cpuinfo", "mounts")}
    return hidden


def blocked(path: str, settings: dict[str, list[str]]) -> str | None:
    """Why the service cannot see `path`, or None when it can."""
    pure = PurePosixPath(path)
    for prefix, why in hidden_paths(settings).items():
        if pure == PurePosixPath(prefix) or PurePosixPath(prefix) in pure.parents:
            return why
    if _on(settings, "PrivateDevices") in ("yes", "true", "1") and path.startswith("/dev/"):
        kept = any(path == k or path.startswith(k + "/") for k in PRIVATE_DEV_KEPT)
        return None if kept else "PrivateDevices=yes"
    return None


def probe_paths(tmp_path: Path) -> set[str]:
    """Every path the probes read on this machine, and the Kerberos store's declared ones."""
    record = tmp_path / "recording.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OUTPOST_")}
    done = subprocess.run(
        [AGENT, "--state-dir", str(tmp_path / "state"), "facts", "--record", str(record)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    recording = json.loads(record.read_text())
    paths = {
        path
        for section in ("files", "dirs", "scandirs", "binary_files", "mtimes", "sqlite")
        for path in recording.get(section, {})
    }
    for command in recording.get("commands", {}):
        program = shutil.which(command.split()[0])
        if program:
            paths.add(program)
    kerberos = FILES.linux
    paths.update(kerberos.cache_folders + kerberos.keytabs)
    return paths


def test_the_unit_hides_nothing_the_probes_read(tmp_path: Path) -> None:
    settings = unit_settings(UNIT.read_text())
    paths = probe_paths(tmp_path)
    # The recording really covers the probes: system files, homes, the Kerberos cache folder.
    assert {"/etc/os-release", "/home", "/tmp"} <= paths
    assert not {p: why for p in sorted(paths) if (why := blocked(p, settings))}


def test_the_program_and_its_state_are_visible() -> None:
    settings = unit_settings(UNIT.read_text())
    program = settings["ExecStart"][0].split()[0]
    assert blocked(program, settings) is None
    assert blocked("/var/lib/" + settings["StateDirectory"][0], settings) is None


@pytest.mark.parametrize(
    ("unit", "path", "why"),
    [
        ("[Service]\nPrivateTmp=yes\n", "/tmp/krb5cc_1000", "PrivateTmp=yes"),
        ("[Service]\nPrivateTmp=no\n", "/tmp/krb5cc_1000", None),
        ("[Service]\nProtectHome=yes\n", "/home/a/.netrc", "ProtectHome=yes"),
        ("[Service]\nProtectHome=read-only\n", "/home/a/.netrc", None),
        ("[Service]\nProtectHome=tmpfs\n", "/run/user/1000/krb5cc", "ProtectHome=tmpfs"),
        ("[Service]\nInaccessiblePaths=-/etc/ssh\n", "/etc/ssh/x", "InaccessiblePaths=/etc/ssh"),
        ("[Service]\nInaccessiblePaths=/etc/ssh\n", "/etc/sshd", None),
        ("[Service]\nTemporaryFileSystem=/var:ro\n", "/var/lib/apt", "TemporaryFileSystem=/var"),
        ("[Service]\nPrivateDevices=yes\n", "/dev/tpm0", "PrivateDevices=yes"),
        ("[Service]\nPrivateDevices=yes\n", "/dev/urandom", None),
        ("[Install]\nPrivateTmp=yes\n", "/tmp/x", None),  # not the [Service] section
    ],
)  # fmt: skip
def test_the_sandbox_reading(unit: str, path: str, why: str | None) -> None:
    assert blocked(path, unit_settings(unit)) == why
