"""patch_level on Linux: os-release, then apt (Debian/Ubuntu) or dnf (Fedora/RHEL), from caches."""

from __future__ import annotations

import re
from datetime import datetime

from agent.facts.context import Context, FactUnavailable, FileMissing, ParseError
from agent.facts.probes.base import CommandFailed, Reading, attempt, run_checked
from agent.facts.probes.patch_level.linux_parse import (
    PendingUpdates,
    kernel_reboot_pending,
    parse_advisory_json,
    parse_apt_history,
    parse_apt_periodic,
    parse_apt_upgradable,
    parse_check_update,
    parse_dpkg_log,
    parse_os_release,
    parse_rpm_install_times,
    parse_updateinfo_security,
)
from agent.facts.probes.patch_level.model import OsIdentity
from agent.facts.probes.patch_level.readers import SecurityUpdates
from agent.report import rfc3339

NO_PACKAGE_MANAGER = "no supported package manager (apt or dnf) found"


def read_os_identity(reading: Reading) -> OsIdentity:
    """os-release (and Debian's point release); without it the whole probe fails."""
    return reading.essential("os-release", lambda: _os_identity(reading.ctx))


def read_package_manager(reading: Reading) -> str:
    if _manager(reading) == "apt":
        return "apt"
    return "dnf5" if _dnf5(reading) else "dnf"


def read_last_update(reading: Reading) -> str | None:
    if _manager(reading) == "apt":
        return _apt_last_update(reading.ctx)
    return _rpm_last_install(reading.ctx)


def read_updates_checked_at(reading: Reading) -> str:
    if _manager(reading) == "apt":
        return _apt_lists_age(reading.ctx)
    raise FactUnavailable("dnf does not expose its cache age cheaply")


def read_reboot_pending(reading: Reading) -> bool:
    if _manager(reading) == "apt":
        return _kernel_reboot_pending(reading.ctx)
    return _dnf_reboot_pending(reading.ctx, _dnf5(reading))


def read_auto_updates(reading: Reading) -> bool:
    if _manager(reading) == "apt":
        return _apt_auto_updates(reading.ctx)
    return _dnf_auto_updates(reading.ctx)


def read_pending_updates(reading: Reading) -> int:
    if _manager(reading) == "apt":
        return _apt_pending(reading).total
    return len(_dnf_pending(reading.ctx))


def read_security_updates(reading: Reading) -> SecurityUpdates:
    if _manager(reading) == "apt":
        names = _apt_pending(reading).security
    else:
        names = _dnf_security(reading.ctx, _dnf5(reading))
    return SecurityUpdates(count=len(names), names=names)


# -- which system, which package manager -------------------------------------------------------
def _os_identity(ctx: Context) -> OsIdentity:
    try:
        release = parse_os_release(ctx.read_text("/etc/os-release"))
    except FileMissing:
        release = parse_os_release(ctx.read_text("/usr/lib/os-release"))
    os_id = release.get("ID", "linux").lower()
    version = release.get("VERSION_ID") or None
    if os_id == "debian":
        # /etc/debian_version holds the point release ("12.11"); os-release only says "12".
        try:
            point = ctx.read_text("/etc/debian_version").strip()
        except FactUnavailable:
            point = ""
        if re.fullmatch(r"\d+(\.\d+)*", point):
            version = point
    return OsIdentity(
        os_id=os_id,
        os_name=release.get("PRETTY_NAME") or release.get("NAME"),
        os_version=version,
        os_build=release.get("VERSION_CODENAME") or release.get("BUILD_ID") or None,
        kernel=ctx.kernel_release(),
    )


def _manager(reading: Reading) -> str:
    """'apt' or 'dnf'; with neither, every update fact is unknown for the same reason."""

    def find() -> str:
        if reading.ctx.which("apt") and reading.ctx.which("dpkg-query"):
            return "apt"
        if reading.ctx.which("dnf"):
            return "dnf"
        raise FactUnavailable(NO_PACKAGE_MANAGER)

    return reading.shared("package manager", find)


def _dnf5(reading: Reading) -> bool:
    """dnf5 or dnf4 (their commands differ); when `dnf --version` fails dnf4 is assumed and
    package_manager carries the gap."""

    def is_dnf5() -> bool:
        done = reading.ctx.run(["dnf", "--version"], timeout=15)
        return "dnf5" in done.stdout.splitlines()[0] if done.stdout else False

    return reading.shared("dnf5", lambda: bool(attempt(reading.gaps, "package_manager", is_dnf5)))


# -- apt ---------------------------------------------------------------------------------------
def _local_to_rfc3339(when: datetime) -> str:
    try:
        return rfc3339(when.astimezone().timestamp())
    except (ValueError, OverflowError) as exc:  # e.g. year 1 in a damaged log
        raise ParseError(f"implausible date {when:%Y-%m-%d} in the package log") from exc


def _apt_last_update(ctx: Context) -> str:
    newest = parse_apt_history(ctx.read_text("/var/log/apt/history.log"))
    if newest is None:  # history.log was rotated: dpkg.log may still hold the last upgrade
        newest = parse_dpkg_log(ctx.read_text("/var/log/dpkg.log"))
    if newest is None:
        raise FactUnavailable("no upgrade in the current apt history or dpkg log (rotated)")
    return _local_to_rfc3339(newest)


def _apt_lists_age(ctx: Context) -> str:
    lists = "/var/lib/apt/lists"
    stamps = [ctx.mtime(f"{lists}/{n}") for n in ctx.listdir(lists) if n.endswith("Release")]
    if not stamps:
        raise FactUnavailable("no package lists: apt update has never run")
    return rfc3339(max(stamps))


def _apt_pending(reading: Reading) -> PendingUpdates:
    # `apt list --upgradable` takes ~0.5 s where `apt-get -s dist-upgrade` takes ~1.7 s.
    argv = ["apt", "list", "--upgradable"]
    return reading.shared(
        "apt list", lambda: parse_apt_upgradable(run_checked(reading.ctx, argv, timeout=30))
    )


def _apt_auto_updates(ctx: Context) -> bool:
    status = ctx.run(["dpkg-query", "-W", "-f=${Status}", "unattended-upgrades"], timeout=10)
    # dpkg-query exits 1 for a package it does not know: unattended-upgrades is not installed.
    if status.returncode != 0 or "install ok installed" not in status.stdout:
        return False
    dump = ctx.run(["apt-config", "dump", "APT::Periodic::Unattended-Upgrade"], timeout=10)
    return parse_apt_periodic(dump.stdout)


def _kernel_reboot_pending(ctx: Context) -> bool:
    """Ubuntu's reboot-required flag, else a newer installed kernel than the running one."""
    if ctx.exists("/var/run/reboot-required"):
        return True
    running = ctx.kernel_release()
    pending = kernel_reboot_pending(running, ctx.listdir("/lib/modules"))
    if pending is None:
        raise FactUnavailable(f"running kernel {running} is not an installed package kernel")
    return pending


# -- dnf (dnf4 and dnf5), from the cache only: never a network refresh ------------------------
def _dnf_pending(ctx: Context) -> list[str]:
    done = ctx.run(["dnf", "-C", "-q", "check-update"], timeout=60)
    # check-update exits 100 when updates exist and 0 when none do; anything else failed.
    if done.returncode == 0:
        return []
    if done.returncode != 100:
        raise CommandFailed("dnf", done.returncode, done.stdout, done.stderr)
    return parse_check_update(done.stdout)


def _dnf_security(ctx: Context, dnf5: bool) -> list[str]:
    if dnf5:
        argv = ["dnf", "-C", "-q", "advisory", "list", "--security", "--json"]
        return parse_advisory_json(run_checked(ctx, argv, timeout=60))
    argv = ["dnf", "-C", "-q", "updateinfo", "list", "--security"]
    return parse_updateinfo_security(run_checked(ctx, argv, timeout=60))


def _rpm_last_install(ctx: Context) -> str | None:
    done = ctx.run(["rpm", "-qa", "--qf", "%{INSTALLTIME}\\n"], timeout=30)
    newest = parse_rpm_install_times(done.stdout)
    return None if newest is None else rfc3339(newest)


def _dnf_reboot_pending(ctx: Context, dnf5: bool) -> bool:
    argv = ["dnf", "needs-restarting"] if dnf5 else ["dnf", "needs-restarting", "-r"]
    done = ctx.run(argv, timeout=60)
    if done.returncode == 0:
        return False
    # Exit 1 means "reboot needed" only when the plugin answered; dnf also exits 1 for an
    # unknown command (dnf-plugins-core missing). Anything else: compare kernels instead.
    if done.returncode == 1 and "reboot" in (done.stdout + done.stderr).lower():
        return True
    return _kernel_reboot_pending(ctx)


def _dnf_auto_updates(ctx: Context) -> bool:
    timers = ["dnf-automatic.timer", "dnf-automatic-install.timer", "dnf5-automatic.timer"]
    # is-enabled exits non-zero unless every unit is enabled: its lines say which ones are.
    done = ctx.run(["systemctl", "is-enabled", *timers], timeout=10)
    return any(line.strip() == "enabled" for line in done.stdout.splitlines())
