"""device_security on Linux: LUKS under / (lsblk), host firewall, GNOME/KDE screen lock."""

from __future__ import annotations

from agent.facts.context import FactUnavailable
from agent.facts.probes.base import Reading, run_checked
from agent.facts.probes.device_security.linux_parse import (
    parse_gsettings_lock,
    parse_lsblk_root_encryption,
    parse_nft_ruleset,
    parse_ufw_conf,
)
from agent.facts.probes.device_security.model import Finding

_GNOME_FAMILY = ("GNOME", "UNITY", "BUDGIE", "PANTHEON")


def read_disk_encryption(reading: Reading) -> Finding:
    ctx = reading.ctx
    done = ctx.run(["lsblk", "-J", "-o", "NAME,TYPE,FSTYPE,MOUNTPOINTS"], timeout=10)
    if done.returncode == 0:
        return parse_lsblk_root_encryption(done.stdout)
    # util-linux < 2.37 has MOUNTPOINT only, and refuses MOUNTPOINTS with an error: ask again.
    argv = ["lsblk", "-J", "-o", "NAME,TYPE,FSTYPE,MOUNTPOINT"]
    return parse_lsblk_root_encryption(run_checked(ctx, argv, timeout=10))


def read_firewall(reading: Reading) -> Finding:
    ctx = reading.ctx
    if ctx.which("firewall-cmd"):
        # --state exits non-zero (252) when firewalld is installed but not running.
        state = ctx.run(["firewall-cmd", "--state"], timeout=10)
        if state.returncode == 0 and state.stdout.strip() == "running":
            return True, "firewalld is running"
    if ctx.exists("/etc/ufw/ufw.conf") and parse_ufw_conf(ctx.read_text("/etc/ufw/ufw.conf")):
        # is-active exits non-zero for an inactive unit: its one word says which state.
        active = ctx.run(["systemctl", "is-active", "ufw"], timeout=10).stdout.strip()
        if active == "active":
            return True, "ufw is enabled and active"
    if ctx.which("nft"):
        ruleset = ctx.run(["nft", "-j", "list", "ruleset"], timeout=10)
        if ruleset.returncode == 0:
            if parse_nft_ruleset(ruleset.stdout):
                return True, "nftables drops unsolicited input"
            return False, "no firewall filters incoming traffic (nftables input is open)"
        # nft fails only for want of root here (it cannot open its netlink socket): say that.
        raise FactUnavailable("reading the nftables ruleset needs root")
    raise FactUnavailable("no firewall tool to ask (firewalld, ufw, nft)")


def read_screen_lock(reading: Reading) -> Finding:
    ctx = reading.ctx
    session = ctx.env("XDG_CURRENT_DESKTOP") or ""
    if not (ctx.env("DISPLAY") or ctx.env("WAYLAND_DISPLAY")):
        raise FactUnavailable("no graphical session to read the screen lock from")
    if "KDE" in session.upper():
        tool = "kreadconfig6" if ctx.which("kreadconfig6") else "kreadconfig5"
        argv = [tool, "--file", "kscreenlockerrc", "--group", "Daemon", "--key", "Autolock"]
        done = ctx.run([*argv, "--default", "true"], timeout=10)
        autolock = done.stdout.strip() == "true"
        return autolock, f"KDE Autolock is {'on' if autolock else 'off'}"
    # GNOME's keys say nothing about XFCE, Cinnamon, MATE...: those stay unknown, not "GNOME".
    if not any(name in session.upper() for name in _GNOME_FAMILY):
        raise FactUnavailable(f"desktop {session or 'unknown'}: its screen lock is not read yet")
    if not ctx.which("gsettings"):
        raise FactUnavailable(f"desktop {session}: no gsettings to read")
    lock = ctx.run(["gsettings", "get", "org.gnome.desktop.screensaver", "lock-enabled"])
    delay = ctx.run(["gsettings", "get", "org.gnome.desktop.session", "idle-delay"])
    return parse_gsettings_lock(lock.stdout, delay.stdout)
