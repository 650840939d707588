"""Linux patch-level parsers: os-release, apt and dpkg logs, dnf and rpm output, kernel lists."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from datetime import datetime

from agent.facts.context import ParseError

_APT_LIST_LINE = re.compile(r"^(?P<name>[^/\s]+)/(?P<suites>\S+) (?P<version>\S+) (?P<arch>\S+)")
_DNF_PACKAGE_LINE = re.compile(r"^(\S+)\.(\S+)\s+(\S+)\s+(\S+)$")


def parse_os_release(text: str) -> dict[str, str]:
    """Parse /etc/os-release.

    Sample:
        PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
        VERSION_ID="12"
        ID=debian
    """
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, raw = line.partition("=")
        try:
            parts = shlex.split(raw)
        except ValueError as exc:
            raise ParseError(f"os-release line {line!r} is not shell-quoted: {exc}") from exc
        values[key.strip()] = parts[0] if parts else ""
    if "ID" not in values and "NAME" not in values:
        raise ParseError("os-release has neither ID nor NAME")
    return values


@dataclass(frozen=True)
class PendingUpdates:
    """What `apt list --upgradable` lists: how many updates, which of them fix security."""

    total: int
    security: list[str]


def parse_apt_upgradable(text: str) -> PendingUpdates:
    """Parse `apt list --upgradable`; a package is a security fix if a suite ends in -security.

    Sample:
        Listing...
        apt/oldstable-security 2.6.2 amd64 [upgradable from: 2.6.1]
        krb5-locales/oldstable,oldstable-security 1.20.1-2+deb12u5 all [upgradable from: ...]
    """
    total = 0
    security: list[str] = []
    for line in text.splitlines():
        if not line.strip() or line.startswith(("Listing", "WARNING")):
            continue
        match = _APT_LIST_LINE.match(line)
        if match is None or "[upgradable from:" not in line:
            raise ParseError(f"unexpected line from apt list: {line[:80]!r}")
        total += 1
        if any(suite.endswith("-security") for suite in match["suites"].split(",")):
            security.append(match["name"])
    return PendingUpdates(total=total, security=security)


def parse_apt_history(text: str) -> datetime | None:
    """Newest Start-Date of a stanza that upgraded packages (local time, no zone).

    Sample:
        Start-Date: 2025-06-24  14:36:25
        Commandline: apt-get -qqy upgrade
        Upgrade: libsystemd0:amd64 (252.36-1~deb12u1, 252.38-1~deb12u1)
        End-Date: 2025-06-24  14:36:25
    """
    newest: datetime | None = None
    start: datetime | None = None
    for line in text.splitlines():
        if line.startswith("Start-Date:"):
            try:
                start = datetime.strptime(" ".join(line.split()[1:3]), "%Y-%m-%d %H:%M:%S")
            except ValueError as exc:
                raise ParseError(f"bad Start-Date in apt history: {line!r}") from exc
        elif line.startswith("Upgrade:") and start is not None:
            newest = start if newest is None else max(newest, start)
    return newest


def parse_dpkg_log(text: str) -> datetime | None:
    """Newest `upgrade` action in /var/log/dpkg.log (local time).

    Sample:
        2026-11-21 21:30:23 upgrade perl-base:amd64 5.36.0-7+deb12u2 5.36.0-7+deb12u4
    """
    newest: datetime | None = None
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[2] == "upgrade":
            try:
                when = datetime.strptime(f"{fields[0]} {fields[1]}", "%Y-%m-%d %H:%M:%S")
            except ValueError as exc:
                raise ParseError(f"bad timestamp in dpkg.log: {line[:40]!r}") from exc
            newest = when if newest is None else max(newest, when)
    return newest


def parse_apt_periodic(text: str) -> bool:
    """`apt-config dump APT::Periodic::Unattended-Upgrade`: unset (empty) or "0" means off.

    apt.systemd.daily also takes "always" and intervals with s/m/h/d suffixes ("1d", "12h").
    Sample:
        APT::Periodic::Unattended-Upgrade "1";
    """
    match = re.search(r'^APT::Periodic::Unattended-Upgrade "([^"]*)";', text, re.MULTILINE)
    if match is None:
        return False
    value = match[1].strip().lower()
    if value == "always":
        return True
    number = re.fullmatch(r"([0-9]+)[smhd]?", value)
    return bool(number and int(number[1]) > 0)


def parse_check_update(text: str) -> list[str]:
    """Package names from `dnf -C -q check-update` (exit 100 when updates exist).

    Sample:
        curl.x86_64                              8.6.0-8.fc40                    updates
        Obsoleting Packages
        grub2-tools.x86_64                       1:2.06-121.fc40                 updates
    """
    names: list[str] = []
    pending_name: str | None = None
    for line in text.splitlines():
        if line.lower().startswith("obsoleting packages"):  # dnf4 "Packages", dnf5 "packages"
            break
        if not line.strip() or line.startswith("Security: "):
            continue  # dnf4's running-kernel notice (autocheck_running_kernel), not an update
        if pending_name is not None:  # a long name wrapped onto its own line
            line = f"{pending_name} {line.strip()}"
            pending_name = None
        match = _DNF_PACKAGE_LINE.match(line)
        if match:
            names.append(match[1])
        elif len(line.split()) == 1 and "." in line:
            pending_name = line.strip()
        else:
            raise ParseError(f"unexpected line from dnf check-update: {line[:80]!r}")
    return names


def parse_updateinfo_security(text: str) -> list[str]:
    """Packages named by `dnf -C -q updateinfo list --security` (dnf4, LC_ALL=C).

    Sample:
        FEDORA-2024-1a2b3c4d5e Important/Sec. curl-8.6.0-8.fc40.x86_64
    """
    packages: list[str] = []
    for line in text.splitlines():
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 3 or not fields[1].endswith("/Sec."):
            raise ParseError(f"unexpected line from dnf updateinfo: {line[:80]!r}")
        packages.append(fields[2])
    return sorted(set(packages))


def parse_advisory_json(text: str) -> list[str]:
    """Packages named by dnf5 `advisory list --security --json`.

    Sample:
        [{"name":"FEDORA-2024-1a2b3c4d5e","type":"security","severity":"Important",
          "nevra":"curl-8.9.1-2.fc41.x86_64","buildtime":"2024-11-05 01:23:45"}]
    """
    try:
        rows = json.loads(text or "[]")
    except json.JSONDecodeError as exc:
        raise ParseError(f"dnf advisory list did not print JSON: {exc}") from exc
    if not isinstance(rows, list) or not all(isinstance(r, dict) and "nevra" in r for r in rows):
        raise ParseError("dnf advisory list JSON is not a list of advisories with nevra")
    return sorted({str(row["nevra"]) for row in rows})


def parse_rpm_install_times(text: str) -> float | None:
    """Newest install time from `rpm -qa --qf '%{INSTALLTIME}\\n'` (epoch seconds).

    Sample:
        1718097612
        1716204130
    """
    times = [int(line) for line in text.split() if line.isdecimal()]
    return float(max(times)) if times else None


def _version_key(release: str) -> list[tuple[int, int | str]]:
    # (0, n) sorts numbers before (1, "text") so mixed parts never compare int with str.
    return [
        (0, int(part)) if part.isdecimal() else (1, part) for part in re.split(r"[.\-+~_]", release)
    ]


def _flavour(release: str) -> str:
    """The kernel flavour: 'amd64' of 6.1.0-21-amd64, 'generic' of 6.8.0-45-generic, '' else."""
    match = re.match(r"^[0-9.]+-[0-9.]+-(.+)$", release)
    return match[1] if match else ""


def kernel_reboot_pending(running: str, installed: list[str]) -> bool | None:
    """A newer kernel of the running flavour is installed; None when the running one is foreign.

    Sample: running "6.1.0-18-amd64", /lib/modules holds ["6.1.0-18-amd64", "6.1.0-21-amd64"].
    Other flavours (6.1.0-21-rt-amd64) are not candidates: the boot loader keeps the flavour.
    """
    if running not in installed:
        return None
    flavour = _flavour(running)
    same = [k for k in installed if _flavour(k) == flavour]
    return max(same, key=_version_key) != running
