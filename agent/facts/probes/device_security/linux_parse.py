"""Linux device-security parsers: lsblk's device tree, ufw.conf, nft rulesets, GNOME settings."""

from __future__ import annotations

import json
from typing import Any

from agent.facts.context import FactUnavailable, ParseError


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
    """ENABLED=yes|no from /etc/ufw/ufw.conf.

    Sample:
        ENABLED=yes
        LOGLEVEL=low
    """
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
    """GNOME: lock-enabled `true` and a non-zero idle-delay, from two `gsettings get` answers.

    Sample: `true` (org.gnome.desktop.screensaver lock-enabled) and `uint32 300`
    (org.gnome.desktop.session idle-delay).
    """
    enabled = lock_enabled.strip() == "true"
    seconds = idle_delay.strip().split()[-1] if idle_delay.strip() else ""
    if not seconds.isdigit():
        raise ParseError(f"unexpected idle-delay {idle_delay.strip()!r}")
    if not enabled:
        return False, "GNOME screen lock is disabled"
    if seconds == "0":
        return False, "GNOME never blanks the screen (idle-delay 0), so it never locks"
    return True, f"GNOME locks after {seconds} s idle"
