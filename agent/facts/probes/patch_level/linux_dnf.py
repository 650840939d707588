"""patch_level on Fedora/RHEL: dnf4 and dnf5, from the cache only (never a network refresh)."""

from __future__ import annotations

import json
import re

from agent.facts.context import Context, FactUnavailable, ParseError
from agent.facts.probes.base import attempt
from agent.facts.probes.patch_level.linux_reboot import reboot_pending
from agent.facts.probes.patch_level.model import OsIdentity, PatchLevelData
from agent.report import Gaps, rfc3339

MAX_NAMES = 50
_PACKAGE_LINE = re.compile(r"^(\S+)\.(\S+)\s+(\S+)\s+(\S+)$")


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
        match = _PACKAGE_LINE.match(line)
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
    """Newest install time from `rpm -qa --qf '%{INSTALLTIME}\\n'` (epoch seconds)."""
    times = [int(line) for line in text.split() if line.isdecimal()]
    return float(max(times)) if times else None


def _is_dnf5(ctx: Context) -> bool:
    done = ctx.run(["dnf", "--version"], timeout=15)
    return "dnf5" in done.stdout.splitlines()[0] if done.stdout else False


def _pending(ctx: Context) -> list[str]:
    done = ctx.run(["dnf", "-C", "-q", "check-update"], timeout=60)
    if done.returncode == 0:
        return []
    if done.returncode != 100:
        raise FactUnavailable(f"dnf check-update failed: {done.stderr.strip()[:200]}")
    return parse_check_update(done.stdout)


def _security(ctx: Context, dnf5: bool) -> list[str]:
    argv = (
        ["dnf", "-C", "-q", "advisory", "list", "--security", "--json"]
        if dnf5
        else ["dnf", "-C", "-q", "updateinfo", "list", "--security"]
    )
    done = ctx.run(argv, timeout=60)
    if done.returncode != 0:
        raise FactUnavailable(f"dnf security list failed: {done.stderr.strip()[:200]}")
    return parse_advisory_json(done.stdout) if dnf5 else parse_updateinfo_security(done.stdout)


def _last_update(ctx: Context) -> str | None:
    done = ctx.run(["rpm", "-qa", "--qf", "%{INSTALLTIME}\\n"], timeout=30)
    newest = parse_rpm_install_times(done.stdout)
    return None if newest is None else rfc3339(newest)


def _reboot(ctx: Context, dnf5: bool) -> bool:
    argv = ["dnf", "needs-restarting"] if dnf5 else ["dnf", "needs-restarting", "-r"]
    done = ctx.run(argv, timeout=60)
    if done.returncode == 0:
        return False
    # Exit 1 means "reboot needed" only when the plugin answered; dnf also exits 1 for an
    # unknown command (dnf-plugins-core missing). Anything else: compare kernels instead.
    if done.returncode == 1 and "reboot" in (done.stdout + done.stderr).lower():
        return True
    return reboot_pending(ctx)


def _auto_updates(ctx: Context) -> bool:
    timers = ["dnf-automatic.timer", "dnf-automatic-install.timer", "dnf5-automatic.timer"]
    done = ctx.run(["systemctl", "is-enabled", *timers], timeout=10)
    return any(line.strip() == "enabled" for line in done.stdout.splitlines())


def collect_dnf(ctx: Context, identity: OsIdentity) -> PatchLevelData:
    gaps: Gaps = {}
    dnf5 = bool(attempt(gaps, "package_manager", lambda: _is_dnf5(ctx)))
    pending = attempt(gaps, "pending_updates", lambda: _pending(ctx))
    security = attempt(gaps, "pending_security_updates", lambda: _security(ctx, dnf5))
    if security is None:
        gaps["security_updates"] = gaps["pending_security_updates"]
    return PatchLevelData(
        os=identity,
        package_manager="dnf5" if dnf5 else "dnf",
        last_update_at=attempt(gaps, "last_update_at", lambda: _last_update(ctx)),
        pending_updates=None if pending is None else len(pending),
        pending_security_updates=None if security is None else len(security),
        security_updates=None if security is None else security[:MAX_NAMES],
        updates_checked_at=None,
        reboot_pending=attempt(gaps, "reboot_pending", lambda: _reboot(ctx, dnf5)),
        auto_updates=attempt(gaps, "auto_updates", lambda: _auto_updates(ctx)),
        gaps={**gaps, "updates_checked_at": "dnf does not expose its cache age cheaply"},
    )
