"""The agent's RPM (Fedora / RHEL laptops): rpmlint-clean beyond a documented filter list, the
glibc its binaries need in its Requires and nothing bundled, and it installs into a throwaway
root and runs from there."""

from __future__ import annotations

import os
import re
import subprocess
import tomllib
from pathlib import Path

import pytest

from tests.system.test_packaging import CLEAN_PATH, ROOT, highest_glibc
from tests.system.test_packaging import onedir as onedir  # the session's one build

pytestmark = pytest.mark.system

RPMLINT_CONFIG = ROOT / "packaging" / "rpm" / "rpmlint.toml"


@pytest.fixture(scope="module")
def rpm(onedir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("rpm")
    subprocess.run(
        [str(ROOT / "packaging" / "build_rpm.sh"), str(onedir), str(out)],
        check=True,
        timeout=600,
        capture_output=True,
    )
    (package,) = out.glob("outpost-agent-*.rpm")
    return package


def query(rpm: Path, *what: str) -> str:
    return subprocess.run(
        ["rpm", "-qp", *what, str(rpm)], capture_output=True, text=True, check=True
    ).stdout


def rpmlint(rpm: Path, config: Path) -> list[str]:
    done = subprocess.run(
        ["rpmlint", "-c", str(config), str(rpm)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert "packages: 1" in done.stdout, done.stdout + done.stderr
    return [line for line in done.stdout.splitlines() if re.search(r": [EW]: ", line)]


def test_rpmlint_clean_and_every_filter_still_needed(rpm: Path, tmp_path: Path) -> None:
    assert rpmlint(rpm, RPMLINT_CONFIG) == []
    settings = tomllib.loads(RPMLINT_CONFIG.read_text())
    unfiltered = tmp_path / "unfiltered.toml"
    licences = ", ".join(f'"{name}"' for name in settings["ValidLicenses"])
    unfiltered.write_text(
        f'CompressExtension = "{settings["CompressExtension"]}"\nValidLicenses = [{licences}]\n'
    )
    complaints = rpmlint(rpm, unfiltered)
    for pattern in settings["Filters"]:
        assert [c for c in complaints if re.search(pattern, c)], f"unused filter {pattern!r}"


def test_requires_the_glibc_the_binaries_need_and_nothing_bundled(
    rpm: Path, tmp_path: Path
) -> None:
    requires = query(rpm, "--requires").split("\n")
    tree = tmp_path / "tree"
    tree.mkdir()
    payload = subprocess.run(["rpm2cpio", str(rpm)], capture_output=True, check=True).stdout
    subprocess.run(["cpio", "-idm", "--quiet"], input=payload, cwd=tree, check=True)
    needed = highest_glibc(tree / "usr/lib/outpost")
    assert f"libc.so.6(GLIBC_{needed})(64bit)" in requires
    assert not [r for r in requires if re.match(r"lib(python|ssl|crypto|ffi|sqlite3)", r)]
    provides = query(rpm, "--provides")
    assert ".so" not in provides  # the bundled libraries are not offered to the system


def test_rpm_contents(rpm: Path) -> None:
    files = query(rpm, "-l").split()
    for path in (
        "/usr/bin/agent",
        "/usr/lib/outpost/agent",
        "/usr/lib/systemd/system/outpost-agent.service",
        "/usr/lib/sysusers.d/outpost-agent.conf",
        "/usr/share/man/man1/agent.1.gz",
        "/usr/share/doc/outpost-agent/copyright",
    ):
        assert path in files, path
    assert query(rpm, "-c").split() == ["/etc/outpost/agent.toml"]
    flags = query(rpm, "--queryformat", "[%{FILEFLAGS:fflags} %{FILENAMES}\n]").splitlines()
    assert "cn /etc/outpost/agent.toml" in flags  # config(noreplace): an edited one is kept
    scripts = query(rpm, "--scripts")
    assert "systemd-update-helper install-system-units outpost-agent.service" in scripts
    assert "systemctl" not in scripts  # through systemd's own helper, as the macros do
    assert '/usr/lib/outpost/enrol-at-install "dnf reinstall outpost-agent"' in scripts


def test_installs_into_a_throwaway_root_and_runs(rpm: Path, tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    # No chroot scriptlets (the root has no shell) and no dependencies (it has no glibc).
    subprocess.run(["rpm", "--root", str(root), "--initdb"], check=True)
    installed = subprocess.run(
        ["rpm", "--root", str(root), "-i", "--nodeps", "--noscripts", str(rpm)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert installed.returncode == 0, installed.stderr
    done = subprocess.run(
        [str(root / "usr/bin/agent"), "--version"],
        capture_output=True,
        text=True,
        env={"PATH": CLEAN_PATH},
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout.strip()) == (0, "outpost agent 0.1.0"), done.stderr
    mode = (root / "usr/lib/outpost").stat().st_mode & 0o777
    assert mode == 0o755 and os.access(root / "usr/lib/outpost/agent", os.X_OK)
