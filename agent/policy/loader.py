"""Loads and validates policy files and the rule catalogue; errors name the line and key."""

from __future__ import annotations

import ipaddress
import re
import tomllib
from collections.abc import Callable
from importlib import resources
from typing import Any

from agent.policy.internal_probes import internal_probes
from agent.policy.model import (
    OS_FAMILIES,
    SEVERITIES,
    Check,
    Policy,
    Rule,
    RuleOverride,
    Severity,
)
from agent.toml_lines import located


class PolicyError(ValueError):
    """A policy file that cannot be used; the message names the file, line and key."""


def _list_of_str(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("must be a list of strings")
    return value


def _domains(value: Any) -> list[str]:
    domains = [v.strip().lower().strip(".") for v in _list_of_str(value)]
    bad = [d for d in domains if not re.fullmatch(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*", d)]
    if bad:
        raise ValueError(f"{bad[0]!r} is not a domain name")
    return domains


def _cidrs(value: Any) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    networks = []
    for text in _list_of_str(value):
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError as exc:
            raise ValueError(f"{text!r} is not an address range ({exc})") from exc
    return networks


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("must be a whole number, 0 or more")
    return value


def _positive(value: Any) -> int:
    if _count(value) == 0:
        raise ValueError("must be more than 0")
    return int(value)


def _versions(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(v, str) and re.match(r"^\d+(\.\d+)*$", v) for v in value.values()
    ):
        raise ValueError('must map OS ids to versions, e.g. debian = "12"')
    return {str(k).lower(): v for k, v in value.items()}


# The applications PATCH-005 knows (the applications probe's names).
BROWSERS = ("chrome", "edge", "firefox", "safari", "chromium", "brave")


def _browser_versions(value: Any) -> dict[str, str]:
    versions = _versions(value)
    for name in versions.keys() - set(BROWSERS):
        raise ValueError(f"unknown browser {name!r} (known: {', '.join(BROWSERS)})")
    return versions


def _identities(value: Any) -> list[str]:
    """E-mail addresses, lower-cased; anything with a space or without one @ is refused (an
    identity is exempted only by an exact match, so a typo here would silently exempt none)."""
    identities = [v.lower() for v in _list_of_str(value)]
    bad = [v for v in identities if not re.fullmatch(r"[^@\s]+@[a-z0-9_-]+(\.[a-z0-9_-]+)+", v)]
    if bad:
        raise ValueError(f"{bad[0]!r} is not an e-mail address")
    return identities


def _name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a non-empty string")
    return value


def _label_ids(value: Any) -> dict[str, str]:
    """Sensitivity label GUIDs (braces and case as Office writes them) -> label names."""
    if not isinstance(value, dict):
        raise ValueError('must map label GUIDs to names, e.g. "f42aa342-..." = "Confidential"')
    ids = {}
    for key, name in value.items():
        guid = str(key).strip().strip("{}").lower()
        if not re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", guid):
            raise ValueError(f"{key!r} is not a label GUID")
        ids[guid] = _name(name)
    return ids


# Visible markings above PUBLIC, as the built-in pack names them (also when [data] is absent).
DEFAULT_MARKINGS = ["CONFIDENTIAL", "HIGHLY CONFIDENTIAL", "RESTRICTED", "INTERNAL"]

# table -> key -> (validator, default). The closed vocabulary of a policy file.
FIELDS: dict[str, dict[str, tuple[Callable[[Any], Any], Any]]] = {
    "organisation": {
        "name": (_name, "Unnamed organisation"),
        "domains": (_domains, []),
        "kerberos_realms": (_domains, []),
        "tenant_ids": (_list_of_str, []),
    },
    "network": {
        "internal_cidrs": (_cidrs, []),
        "egress_cidrs": (_cidrs, []),
        "ssids": (_list_of_str, []),
        "dns_suffixes": (_domains, []),
        "vpn_hosts": (_domains, []),
        "internal_probes": (internal_probes, []),
    },
    "accounts": {
        "allowed": (_list_of_str, []),
        "permitted_org_identities": (_identities, []),
    },
    "patches": {
        "max_days_since_update": (_count, 30),
        "max_pending_security": (_count, 0),
        "min_os_versions": (_versions, {}),
        "min_browser_versions": (_browser_versions, {}),
    },
    "data": {
        "markings": (_list_of_str, DEFAULT_MARKINGS),
        "public_labels": (_list_of_str, ["Public"]),
        "label_ids": (_label_ids, {}),
    },
    "reporting": {
        "interval_minutes": (_positive, 15),
        "stale_after_hours": (_positive, 24),
        "max_clock_skew_minutes": (_positive, 10),
    },
}


def _fail(source: str, text: str, table: str, key: str | None, problem: str) -> PolicyError:
    return PolicyError(located(source, text, table, key, problem))


def _overrides(raw: Any, source: str, text: str, known: set[str]) -> dict[str, RuleOverride]:
    if not isinstance(raw, dict):
        raise _fail(source, text, "rules", None, "must be a table of rule ids")
    overrides = {}
    for rule_id, settings in raw.items():
        table = f"rules.{rule_id}"
        if rule_id not in known:
            raise _fail(source, text, table, None, f"unknown rule id {rule_id!r}")
        if not isinstance(settings, dict):
            raise _fail(source, text, table, None, "must be a table")
        for key in settings.keys() - {"enabled", "severity", "grace_hours"}:
            raise _fail(
                source, text, table, key, "unknown key (use enabled, severity or grace_hours)"
            )
        enabled = settings.get("enabled", True)
        if not isinstance(enabled, bool):
            raise _fail(source, text, table, "enabled", "must be true or false")
        severity = settings.get("severity")
        if severity is not None and severity not in SEVERITIES:
            raise _fail(source, text, table, "severity", f"must be one of {SEVERITIES}")
        grace = settings.get("grace_hours")
        if grace is not None and not _is_grace(grace):
            raise _fail(source, text, table, "grace_hours", "must be a whole number of hours >= 0")
        overrides[rule_id] = RuleOverride(enabled=enabled, severity=severity, grace_hours=grace)
    return overrides


def _is_grace(value: object) -> bool:
    """A grace period: whole hours, 0 up to a year (bool is an int in Python, and no grace)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 8784


def parse_policy(text: str, source: str = "policy") -> Policy:
    """Validate a policy file's text; unknown tables or keys are errors, not ignored."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{source}: not valid TOML: {exc}") from exc
    values: dict[str, dict[str, Any]] = {}
    for table in raw.keys() - FIELDS.keys() - {"rules"}:
        raise _fail(source, text, table, None, f"unknown table (known: {', '.join(FIELDS)})")
    for table, fields in FIELDS.items():
        given = raw.get(table, {})
        if not isinstance(given, dict):
            raise _fail(source, text, table, None, "must be a table")
        for key in given.keys() - fields.keys():
            raise _fail(source, text, table, key, f"unknown key (known: {', '.join(fields)})")
        values[table] = {}
        for key, (validate, default) in fields.items():
            try:
                values[table][key] = validate(given[key]) if key in given else default
            except ValueError as exc:
                raise _fail(source, text, table, key, str(exc)) from exc
    known = {rule.id for rule in load_catalogue()}
    overrides = _overrides(raw.get("rules", {}), source, text, known)
    return Policy(values=values, overrides=overrides, source=source)


def load_policy_file(path: str) -> Policy:
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read the policy file: {exc.strerror}") from exc
    return parse_policy(text, source=path)


def default_policy_text() -> str:
    return resources.files("agent.policy").joinpath("default.toml").read_text(encoding="utf-8")


def default_policy() -> Policy:
    return parse_policy(default_policy_text(), source="default policy pack")


def _paths(value: str | list[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def _check(raw: dict[str, Any]) -> Check:
    return Check(
        op=raw["op"],
        fact=raw["fact"],
        param=_paths(raw.get("param", ())),
        key=raw.get("key"),
        detail=raw.get("detail"),
        exempt=_paths(raw.get("except", ())),
        exempt_on=raw.get("except_on"),
    )


def _remediation(rule_id: str, raw: str | dict[str, str]) -> tuple[str, dict[str, str]]:
    """A remedy: one text, or a table with `default` and texts per OS family."""
    if isinstance(raw, str):
        return raw, {}
    unknown = set(raw) - {"default", *OS_FAMILIES}
    if "default" not in raw or unknown:
        raise ValueError(
            f"{rule_id}: remediation needs `default` and may name only {', '.join(OS_FAMILIES)}"
            + (f" (not {', '.join(sorted(unknown))})" if unknown else "")
        )
    return raw["default"], {k: v for k, v in raw.items() if k != "default"}


def parse_catalogue(text: str) -> tuple[Rule, ...]:
    raw = tomllib.loads(text)
    rules = []
    for entry in raw["rule"]:
        severity: Severity = entry["severity"]
        remediation, by_os = _remediation(entry["id"], entry["remediation"])
        grace = entry.get("grace_hours", 0)
        if not _is_grace(grace):
            raise ValueError(f"{entry['id']}: grace_hours must be a whole number of hours >= 0")
        rules.append(
            Rule(
                id=entry["id"],
                title=entry["title"],
                severity=severity,
                guidance=entry["guidance"],
                remediation=remediation,
                remediation_by_os=by_os,
                checks=tuple(_check(c) for c in entry["checks"]),
                scope=entry.get("scope", "agent"),
                device_state=entry.get("device_state"),
                grace_hours=grace,
            )
        )
    return tuple(rules)


_CATALOGUE: tuple[Rule, ...] | None = None


def load_catalogue() -> tuple[Rule, ...]:
    """The shipped rule catalogue (read once per process)."""
    global _CATALOGUE
    if _CATALOGUE is None:
        text = resources.files("agent.policy").joinpath("rules.toml").read_text(encoding="utf-8")
        _CATALOGUE = parse_catalogue(text)
    return _CATALOGUE
