"""The shipped artefacts: the one-directory agent build runs with no Python around it, and the
.deb passes lintian, depends on the libc its binaries need, installs into a throwaway root
(nothing touches this machine) and runs from there."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from agent.facts.schema import report_schema
from tests.system.conftest import StartCollector

pytestmark = pytest.mark.system

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "dist" / "onedir" / "agent"
SOURCES = [ROOT / "agent", ROOT / "packaging" / "pyinstaller", ROOT / "requirements"]
CONTROL_TEMPLATE = ROOT / "packaging" / "deb" / "control.in"
CLEAN_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"


def _newest_source() -> float:
    return max(p.stat().st_mtime for d in SOURCES for p in d.rglob("*") if p.is_file())


@pytest.fixture(scope="session")
def onedir() -> Path:
    """dist/onedir/agent, built once per session when absent or older than the sources, from
    the locked dependencies (requirements/*.lock), as the packages are."""
    program = BUILD / "agent"
    if not program.exists() or program.stat().st_mtime < _newest_source():
        build = [str(ROOT / "packaging" / "build_binary.sh"), "onedir", "locked"]
        subprocess.run(build, check=True, timeout=900)
    return BUILD


def build_deb(build: Path, out: Path, path: str = CLEAN_PATH) -> Path:
    subprocess.run(
        [str(ROOT / "packaging" / "build_deb.sh"), str(build), str(out)],
        check=True,
        timeout=300,
        env={**os.environ, "PATH": path},
    )
    (package,) = out.glob("outpost-agent_*.deb")
    return package


@pytest.fixture(scope="session")
def deb(onedir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_deb(onedir, tmp_path_factory.mktemp("deb"))


@pytest.fixture(scope="session")
def unpacked(deb: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package's files (dpkg-deb -x) with its control area in DEBIAN/."""
    where = tmp_path_factory.mktemp("unpacked")
    subprocess.run(["dpkg-deb", "-x", str(deb), str(where)], check=True)
    subprocess.run(["dpkg-deb", "-e", str(deb), str(where / "DEBIAN")], check=True)
    return where


def control_field(deb: Path, name: str) -> str:
    return subprocess.run(
        ["dpkg-deb", "-f", str(deb), name], capture_output=True, text=True, check=True
    ).stdout.rstrip("\n")


def _self_check(program: str, tmp_path: Path) -> dict[str, Any]:
    tmp_path.mkdir()
    done = subprocess.run(
        [program, "--state-dir", str(tmp_path / "state"), "--self-check", "--json"],
        cwd=tmp_path,
        env={"PATH": CLEAN_PATH, "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode in (0, 1, 3), done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_onedir_self_check_runs_without_python(onedir: Path, tmp_path: Path) -> None:
    """The build reports what the virtualenv's agent reports: every probe and rule, none lost
    in packaging (a module or data file PyInstaller missed shows here)."""
    result = _self_check(str(onedir / "agent"), tmp_path / "built")
    jsonschema.Draft202012Validator(report_schema()).validate(result["report"])
    reference = _self_check(str(Path(sys.executable).parent / "agent"), tmp_path / "venv")
    statuses = {name: p["status"] for name, p in result["probes"].items()}
    expected = {name: p["status"] for name, p in reference["probes"].items()}
    # The credential scan's outcome depends on its time budget on a busy machine.
    statuses.pop("credentials"), expected.pop("credentials")
    assert statuses == expected
    assert set(statuses.values()) == {"ok"}
    assert {r["id"] for r in result["rules"]} == {r["id"] for r in reference["rules"]}
    assert len(result["rules"]) >= 17


def _template_description() -> str:
    text = CONTROL_TEMPLATE.read_text()
    return text[text.index("Description: ") + len("Description: ") :].rstrip("\n")


def test_description_is_the_templates_text(deb: Path) -> None:
    description = control_field(deb, "Description")
    assert description == _template_description()
    assert "answers `agent --self-check`." in description


def test_build_runs_nothing_from_the_description(onedir: Path, tmp_path: Path) -> None:
    """With an `agent` on PATH (a developer's machine) the build neither runs it nor breaks."""
    fake = tmp_path / "bin"
    fake.mkdir()
    ran = tmp_path / "agent-ran"
    (fake / "agent").write_text(f"#!/bin/sh\ntouch {ran}\necho 'PASS everything'\n")
    (fake / "agent").chmod(0o755)
    package = build_deb(onedir, tmp_path / "out", path=f"{fake}:{CLEAN_PATH}")
    assert not ran.exists()
    assert control_field(package, "Description") == _template_description()


def _lintian_override_tags() -> set[str]:
    lines = (ROOT / "packaging" / "deb" / "lintian-overrides").read_text().splitlines()
    return {line.split()[1] for line in lines if line.startswith("outpost-agent: ")}


def test_lintian_has_no_errors_or_warnings(deb: Path) -> None:
    done = subprocess.run(
        ["lintian", "--display-info", "--show-overrides", "--tag-display-limit", "0", str(deb)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    lines = done.stdout.splitlines()
    assert not [line for line in lines if line[:2] in ("E:", "W:")], done.stdout
    # The override list is the documented one, and every entry in it is still needed.
    overridden = {line.split()[2] for line in lines if line.startswith("O: ")}
    assert overridden == _lintian_override_tags(), done.stdout
    stale = ("unused-override", "mismatched-override", "malformed-override")
    assert not [line for line in lines if any(tag in line for tag in stale)], done.stdout
    # (lintian's exit status counts overridden tags too when they are shown: not used.)


def _elf_files(tree: Path) -> list[Path]:
    found = []
    for path in tree.rglob("*"):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as handle:
                if handle.read(4) == b"\x7fELF":
                    found.append(path)
    return found


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def highest_glibc(tree: Path) -> str:
    """The newest GLIBC_x.y symbol version any ELF file under `tree` needs (objdump -T)."""
    elves = _elf_files(tree)
    assert len(elves) > 20  # the program, libpython, the extension modules
    symbols = subprocess.run(
        ["objdump", "-T", *map(str, elves)], capture_output=True, text=True, check=True
    ).stdout
    return max(set(re.findall(r"GLIBC_(\d+(?:\.\d+)+)", symbols)), key=_version_key)


def test_libc_dependency_is_what_the_binaries_need(deb: Path, unpacked: Path) -> None:
    elves = _elf_files(unpacked / "usr" / "lib" / "outpost")
    needed = highest_glibc(unpacked / "usr" / "lib" / "outpost")
    depends = control_field(deb, "Depends")
    assert f"libc6 (>= {needed})" in depends, (needed, depends)
    # What PyInstaller bundled is the package's own: no dependency on a copy of it.
    for bundled in ("libssl3", "libffi", "libsqlite3", "libpython"):
        assert bundled not in depends
    for elf in elves:  # no build machine's library path (lintian: custom-library-search-path)
        dynamic = subprocess.run(
            ["readelf", "-d", str(elf)], capture_output=True, text=True, check=True
        ).stdout
        assert "RUNPATH" not in dynamic and "RPATH" not in dynamic, elf


def _listing(deb: Path) -> dict[str, str]:
    """Each path in the package -> its mode and owner column as dpkg-deb -c prints them."""
    out = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True, check=True)
    entries = {}
    for line in out.stdout.splitlines():
        fields = line.split()
        name = fields[5].removeprefix(".").rstrip("/") or "/"
        entries[name] = f"{fields[0]} {fields[1]}"
    return entries


def test_deb_contents_and_modes(deb: Path) -> None:
    entries = _listing(deb)
    assert entries["/"] == "drwxr-xr-x root/root"  # not mktemp's 0700
    assert entries["/usr/lib/outpost/agent"] == "-rwxr-xr-x root/root"
    assert entries["/usr/lib/outpost/enrol-at-install"] == "-rwxr-xr-x root/root"
    assert entries["/usr/lib/outpost/_internal"].startswith("drwxr-xr-x")
    assert entries["/usr/bin/agent"].startswith("l")
    for path in (
        "/lib/systemd/system/outpost-agent.service",
        "/etc/outpost/agent.toml",
        "/usr/lib/sysusers.d/outpost-agent.conf",
        "/usr/lib/tmpfiles.d/outpost-agent.conf",
        "/usr/share/man/man1/agent.1.gz",
        "/usr/share/doc/outpost-agent/copyright",
        "/usr/share/doc/outpost-agent/changelog.gz",
        "/usr/share/doc/outpost-agent/operator-guide.md",
    ):
        assert entries[path] == "-rw-r--r-- root/root", path
    assert all(v.endswith("root/root") for v in entries.values())
    assert not [p for p in entries if "/_internal/lib" in p and ("libz." in p or "libbz2" in p)]


def test_maintainer_scripts_use_debhelpers_way(unpacked: Path) -> None:
    control = unpacked / "DEBIAN"
    assert (control / "conffiles").read_text().split() == ["/etc/outpost/agent.toml"]
    for script in ("postinst", "prerm", "postrm"):
        path = control / script
        assert os.access(path, os.X_OK), script
        subprocess.run(["sh", "-n", str(path)], check=True)  # parses
        text = path.read_text()
        assert text.startswith("#!/bin/sh") and "set -e" in text
        # systemctl only to reload unit files; starting and stopping go through invoke-rc.d's
        # policy (deb-systemd-invoke), enabling through deb-systemd-helper.
        calls = [line for line in text.splitlines() if re.search(r"\bsystemctl\b", line)]
        assert all("daemon-reload" in line for line in calls), calls
    postinst = (control / "postinst").read_text()
    assert "deb-systemd-helper enable 'outpost-agent.service'" in postinst
    assert "systemd-sysusers" in postinst and "deb-systemd-invoke" in postinst
    postrm = (control / "postrm").read_text()
    assert 'if [ "$1" = "purge" ]' in postrm  # state is removed on purge only, never on upgrade


def test_man_page_documents_every_command(unpacked: Path, onedir: Path) -> None:
    page = subprocess.run(
        ["man", "--warnings", "-l", str(unpacked / "usr/share/man/man1/agent.1.gz")],
        capture_output=True,
        text=True,
        env={**os.environ, "MANWIDTH": "100", "PAGER": "cat"},
        check=True,
    )
    assert page.stderr == ""  # groff found nothing to warn about
    usage = subprocess.run(
        [str(onedir / "agent"), "--help"], capture_output=True, text=True, check=True
    ).stdout
    names = re.findall(r"^    (\w+)", usage, flags=re.MULTILINE)
    options = re.findall(r"(--[a-z-]+)", usage.split("options:")[1])
    assert names and options
    for word in [*names, *options]:
        assert word in page.stdout.replace("‐", "-"), word


@pytest.fixture
def throwaway_root() -> Iterator[Path]:
    """An empty dpkg root: a status file and nothing else."""
    # Outside pytest's 0700 folders: the service user runs the agent from it at enrolment.
    root = Path(tempfile.mkdtemp(prefix="outpost-dpkg-root-"))
    root.chmod(0o755)
    (root / "var/lib/dpkg/info").mkdir(parents=True)
    (root / "var/lib/dpkg/updates").mkdir()
    (root / "var/lib/dpkg/status").touch()
    yield root
    shutil.rmtree(root, ignore_errors=True)


def _dpkg(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # Maintainer scripts run on this machine with DPKG_ROOT set (no chroot: the root has no
    # shell); the dependencies are this machine's.
    argv = ["dpkg", f"--root={root}", "--force-script-chrootless", "--force-depends", *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.skipif(os.geteuid() != 0, reason="dpkg --root writes root-owned files")
def test_installs_into_a_throwaway_root_and_runs(deb: Path, throwaway_root: Path) -> None:
    host_passwd = Path("/etc/passwd").read_text()
    wants = "etc/systemd/system/multi-user.target.wants/outpost-agent.service"
    host_enabled = (Path("/") / wants).exists()
    installed = _dpkg(throwaway_root, "-i", str(deb))
    assert installed.returncode == 0, installed.stdout + installed.stderr

    done = subprocess.run(
        [str(throwaway_root / "usr/bin/agent"), "--version"],
        capture_output=True,
        text=True,
        env={"PATH": CLEAN_PATH},
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout.strip()) == (0, "outpost agent 0.1.0"), done.stderr
    # The maintainer scripts made the user, the state folder and the unit's link in that root...
    passwd = (throwaway_root / "etc/passwd").read_text()
    assert re.search(r"^outpost:x:\d+:\d+:Outpost agent:/var/lib/outpost:", passwd, re.M)
    state = (throwaway_root / "var/lib/outpost").stat()
    assert stat.S_IMODE(state.st_mode) == 0o700
    assert (throwaway_root / wants).is_symlink()
    # ... and nothing on this machine.
    assert Path("/etc/passwd").read_text() == host_passwd
    assert (Path("/") / wants).exists() == host_enabled

    purged = _dpkg(throwaway_root, "--purge", "outpost-agent")
    assert purged.returncode == 0, purged.stdout + purged.stderr
    assert not (throwaway_root / "var/lib/outpost").exists()
    assert not (throwaway_root / "usr/lib/outpost").exists()
    assert not (throwaway_root / wants).exists()


def _owner_of(root: Path, user: str) -> tuple[int, int]:
    for line in (root / "etc/passwd").read_text().splitlines():
        fields = line.split(":")
        if fields[0] == user:
            return int(fields[2]), int(fields[3])
    raise AssertionError(f"no {user} in {root}/etc/passwd")


def _put_enrol_env(root: Path, server: str, token: str, mode: int = 0o600) -> Path:
    enrol = root / "etc/outpost/enrol.env"
    enrol.parent.mkdir(parents=True)
    enrol.write_text(f'# written by the device-management system\nOUTPOST_SERVER="{server}"\n'
                     f"OUTPOST_ENROL_TOKEN={token}\n")  # fmt: skip
    enrol.chmod(mode)
    return enrol


@pytest.mark.skipif(os.geteuid() != 0, reason="dpkg --root writes root-owned files")
def test_enrols_at_install_time_from_an_environment_file(
    deb: Path, throwaway_root: Path, start_collector: StartCollector
) -> None:
    collector = start_collector("sqlite")
    registration = collector.register()
    enrol = _put_enrol_env(throwaway_root, collector.url, registration.token)

    installed = _dpkg(throwaway_root, "-i", str(deb))
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert f"enrolled with {collector.url}" in installed.stdout
    assert registration.token not in installed.stdout + installed.stderr
    state = throwaway_root / "var/lib/outpost"
    record = json.loads((state / "enrolment.json").read_text())
    assert registration.device_id in json.dumps(record)
    secret = state / "device_secret"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    # The service user owns its state; the one-time token is gone from the machine.
    owner = _owner_of(throwaway_root, "outpost")
    assert {(p.stat().st_uid, p.stat().st_gid) for p in [state, *state.rglob("*")]} == {owner}
    assert not enrol.exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="dpkg --root writes root-owned files")
@pytest.mark.parametrize(
    ("token", "mode", "says"),
    [
        ("ose_not-a-real-token", 0o600, "enrolment with"),  # the collector refuses it
        ("", 0o600, "needs OUTPOST_SERVER and OUTPOST_ENROL_TOKEN"),
        ("ose_whatever", 0o644, "must be root's alone"),  # others could have read the token
    ],
)
def test_a_failed_install_time_enrolment_keeps_the_file_and_says_why(
    deb: Path, throwaway_root: Path, start_collector: StartCollector, token: str, mode: int,
    says: str,
) -> None:  # fmt: skip
    collector = start_collector("sqlite")
    enrol = _put_enrol_env(throwaway_root, collector.url, token, mode)
    installed = _dpkg(throwaway_root, "-i", str(deb))
    assert installed.returncode == 0, installed.stdout + installed.stderr  # installed anyway
    assert says in installed.stderr
    assert enrol.exists()
    assert not (throwaway_root / "var/lib/outpost/enrolment.json").exists()


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
