"""device_security on Linux: LUKS under / (lsblk), host firewall, GNOME/KDE screen lock."""

from __future__ import annotations

import json
from typing import Any

from agent.facts.context import Context, FactUnavailable, ParseError
from agent.facts.probes.base import attempt
from agent.facts.probes.device_security.model import DeviceSecurityData, device_security
from agent.report import Gaps


def _children_with_path(node: Any, path: list[dict[str, Any]]) -> Any:
    if not isinstance(node, dict):
        raise ParseError("lsblk: a block device entry is not an object")
    yield node, [*path, node]
    children = node.get("children") or []
    if not isinstance(children, list):
        raise ParseError("lsblk: children is not a list")
    for child in children:
        yield from _children_with_path(child, [*path, node])


def parse_lsblk_root_encryption(text: str) -> tuple[bool, str]:
    """Is the device mounted at / inside a dm-crypt mapping? From `lsblk -J -o NAME,TYPE,...`.

    Sample:
        {"blockdevices":[{"name":"nvme0n1p3","type":"part","fstype":"crypto_LUKS",
          "mountpoints":[null],"children":[{"name":"luks-3f1e","type":"crypt",
          "fstype":"btrfs","mountpoints":["/home","/"]}]}]}
    """
    try:
        devices = json.loads(text)["blockdevices"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ParseError(f"lsblk did not print its JSON device tree: {exc}") from exc
    if not isinstance(devices, list):
        raise ParseError("lsblk: blockdevices is not a list")
    for top in devices:
        for node, path in _children_with_path(top, []):
            mounts = node.get("mountpoints") or [node.get("mountpoint")]
            if not isinstance(mounts, list) or "/" not in mounts:
                continue
            crypt = [n for n in path if n.get("type") == "crypt"]
            if crypt:
                return True, f"/ is on encrypted device {crypt[-1].get('name', '?')}"
            return (
                False,
                f"/ is on {node.get('name', '?')} ({node.get('type')}), not inside dm-crypt",
            )
    raise FactUnavailable("no block device is mounted at / (container or network root)")


def parse_ufw_conf(text: str) -> bool:
    """ENABLED=yes|no from /etc/ufw/ufw.conf."""
    for line in text.splitlines():
        if line.strip().startswith("ENABLED="):
            return line.split("=", 1)[1].strip().strip("'\"").lower() == "yes"
    return False


def parse_nft_ruleset(text: str) -> bool:
    """Does an input-hook chain drop or reject by default or by rule? (`nft -j list ruleset`)

    Sample:
        {"nftables":[{"chain":{"family":"inet","table":"filter","name":"input",
          "type":"filter","hook":"input","prio":0,"policy":"drop"}}]}
    """
    try:
        items = json.loads(text)["nftables"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ParseError(f"nft did not print its JSON ruleset: {exc}") from exc
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ParseError("nft: the ruleset is not a list of objects")
    if any(not isinstance(i.get(k, {}), dict) for i in items for k in ("chain", "rule")):
        raise ParseError("nft: a chain or rule is not an object")
    input_chains = set()
    for item in items:
        chain = item.get("chain")
        if chain and chain.get("hook") == "input":
            if chain.get("policy") == "drop":
                return True
            input_chains.add((chain.get("family"), chain.get("table"), chain.get("name")))
    for item in items:
        rule = item.get("rule")
        if rule and (rule.get("family"), rule.get("table"), rule.get("chain")) in input_chains:
            verdicts = json.dumps(rule.get("expr", []))
            if '"drop"' in verdicts or '"reject"' in verdicts:
                return True
    return False


def parse_gsettings_lock(lock_enabled: str, idle_delay: str) -> tuple[bool, str]:
    """GNOME: lock-enabled `true` and a non-zero idle-delay (`uint32 300`)."""
    enabled = lock_enabled.strip() == "true"
    seconds = idle_delay.strip().split()[-1] if idle_delay.strip() else ""
    if not seconds.isdigit():
        raise ParseError(f"unexpected idle-delay {idle_delay.strip()!r}")
    if not enabled:
        return False, "GNOME screen lock is disabled"
    if seconds == "0":
        return False, "GNOME never blanks the screen (idle-delay 0), so it never locks"
    return True, f"GNOME locks after {seconds} s idle"


def _disk(ctx: Context) -> tuple[bool, str]:
    argv = ["lsblk", "-J", "-o", "NAME,TYPE,FSTYPE,MOUNTPOINTS"]
    done = ctx.run(argv, timeout=10)
    if done.returncode != 0:  # util-linux < 2.37 has MOUNTPOINT only
        done = ctx.run(["lsblk", "-J", "-o", "NAME,TYPE,FSTYPE,MOUNTPOINT"], timeout=10)
    if done.returncode != 0:
        raise FactUnavailable(f"lsblk failed: {done.stderr.strip()[:200]}")
    return parse_lsblk_root_encryption(done.stdout)


def _firewall(ctx: Context) -> tuple[bool, str]:
    if ctx.which("firewall-cmd"):
        state = ctx.run(["firewall-cmd", "--state"], timeout=10)
        if state.returncode == 0 and state.stdout.strip() == "running":
            return True, "firewalld is running"
    if ctx.exists("/etc/ufw/ufw.conf") and parse_ufw_conf(ctx.read_text("/etc/ufw/ufw.conf")):
        active = ctx.run(["systemctl", "is-active", "ufw"], timeout=10).stdout.strip()
        if active == "active":
            return True, "ufw is enabled and active"
    if ctx.which("nft"):
        ruleset = ctx.run(["nft", "-j", "list", "ruleset"], timeout=10)
        if ruleset.returncode == 0:
            if parse_nft_ruleset(ruleset.stdout):
                return True, "nftables drops unsolicited input"
            return False, "no firewall filters incoming traffic (nftables input is open)"
        raise FactUnavailable("reading the nftables ruleset needs root")
    raise FactUnavailable("no firewall tool to ask (firewalld, ufw, nft)")


_GNOME_FAMILY = ("GNOME", "UNITY", "BUDGIE", "PANTHEON")


def _screen_lock(ctx: Context) -> tuple[bool, str]:
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


def collect(ctx: Context) -> DeviceSecurityData:
    gaps: Gaps = {}
    disk = attempt(gaps, "disk_encrypted", lambda: _disk(ctx))
    firewall = attempt(gaps, "firewall_enabled", lambda: _firewall(ctx))
    lock = attempt(gaps, "screen_lock_enabled", lambda: _screen_lock(ctx))
    return device_security(gaps, disk, firewall, lock)
