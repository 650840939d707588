"""The closed set of rule operations: each compares selected facts with a policy value."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from agent.matching import domain_matches, network_containing
from agent.policy.model import RuleStatus
from agent.policy.selector import Item
from agent.report import parse_timestamp

MAX_EVIDENCE = 20
MAX_DETAIL = 10


@dataclass(slots=True)  # not frozen: see selector.Item
class Outcome:
    """An operation's answer before unknowns from the fact path are folded in."""

    status: RuleStatus
    evidence: list[str] = field(default_factory=list)


@dataclass(slots=True)  # not frozen: see selector.Item
class Inputs:
    """Everything an operation may look at besides the selected items."""

    param: Any
    now: datetime
    key: Any = None
    detail: Any = None
    # What the fact is, in words, for the evidence ("addresses", "disk encrypted").
    name: str = "value"


# Words as people write them, where a fact's name spells them otherwise.
_WORDS = {"wifi": "Wi-Fi", "dns": "DNS", "vpn": "VPN", "ssids": "networks", "ssid": "network"}


def fact_name(path: str) -> str:
    """The words for a fact path: its last listed segment where it walks a list (what was
    counted), else its last segment. "probes.network.data.interfaces[*].addresses[*].address"
    -> "addresses"; "probes.device_security.data.disk_encrypted" -> "disk encrypted"."""
    segments = path.split(".")
    listed = [s.removesuffix("[*]") for s in segments if s.endswith("[*]")]
    raw = listed[-1] if listed else segments[-1]
    return " ".join(_WORDS.get(word, word) for word in raw.split("_"))


def _where(item: Item) -> str:
    value = str(item.value)
    return f"{item.label} {value}" if item.label and item.label != value else value


def _with_detail(text: str, inputs: Inputs, total: int | None = None) -> str:
    """The text and its detail; a long list cut to its first names and a count of the rest
    (of `total` where the list itself was cut short by the probe)."""
    if inputs.detail in (None, "", []):
        return text
    if isinstance(inputs.detail, list):
        shown = ", ".join(map(str, inputs.detail[:MAX_DETAIL]))
        rest = max(total or 0, len(inputs.detail)) - len(inputs.detail[:MAX_DETAIL])
        return f"{text}: {shown} and {rest} more" if rest > 0 else f"{text}: {shown}"
    return f"{text} ({inputs.detail})"


def _fail_or_pass(failures: list[str], items: list[Item], inputs: Inputs, passed: str) -> Outcome:
    """Each failure as evidence (at most MAX_EVIDENCE, then a count); a pass says how many
    were checked, or that there were none."""
    if failures:
        rest = len(failures) - MAX_EVIDENCE
        return Outcome("fail", failures[:MAX_EVIDENCE] + ([f"and {rest} more"] if rest > 0 else []))
    if not items:
        return Outcome("pass", [f"{inputs.name}: none reported"])
    return Outcome("pass", [f"{inputs.name}: {len(items)} checked, {passed}"])


def none_in_cidrs(items: list[Item], inputs: Inputs) -> Outcome:
    """Fail for each IP address inside one of the ranges; names that are not IPs never match
    (a share's server name, say: NET-007's domain check covers it)."""
    networks = inputs.param
    if not networks:
        return Outcome("not_applicable", ["the policy lists no ranges"])
    failures = []
    for item in items:
        network = network_containing(str(item.value), networks)
        if network is not None:
            failures.append(f"{_where(item)} is in {network}")
    return _fail_or_pass(failures, items, inputs, "none in an internal range")


def none_match_domains(items: list[Item], inputs: Inputs) -> Outcome:
    domains = inputs.param
    if not domains:
        return Outcome("not_applicable", ["the policy lists no domains"])
    failures = [
        f"{_where(item)} matches {domain}"
        for item in items
        for domain in domains
        if domain_matches(str(item.value), domain)
    ]
    return _fail_or_pass(failures, items, inputs, "none in the organisation's domains")


def none_in_set(items: list[Item], inputs: Inputs) -> Outcome:
    wanted = {str(v).casefold() for v in inputs.param}
    if not wanted:
        return Outcome("not_applicable", ["the policy lists no values"])
    failures = [f"{_where(item)}" for item in items if str(item.value).casefold() in wanted]
    return _fail_or_pass(failures, items, inputs, "none is the organisation's")


def all_in_set(items: list[Item], inputs: Inputs) -> Outcome:
    allowed = {str(v).casefold() for v in inputs.param}
    failures = [
        f"{_where(item)} is not on the allowlist"
        for item in items
        if str(item.value).casefold() not in allowed
    ]
    return _fail_or_pass(failures, items, inputs, "all on the allowlist")


def is_empty(items: list[Item], inputs: Inputs) -> Outcome:
    if items:
        return _fail_or_pass([_where(item) for item in items], items, inputs, "")
    return Outcome("pass", ["none found"])


def _how(target: dict[str, Any]) -> str:
    """How one isolation target answered, for evidence: '10.20.0.5:443: connected via wlan0
    in 12 ms'."""
    via = f" via {target['interface']}" if target.get("interface") else ""
    answer = str(target.get("answer")).replace("_", " ")
    if target.get("internal_address"):
        answer += ", to an internal address"
    return f"{target.get('target')}: {answer}{via} in {target.get('duration_ms')} ms"


def none_answered(items: list[Item], inputs: Inputs) -> Outcome:
    """Over the isolation probe's targets: fail for each one that was reached, or resolved to
    an internal address (to any address when the policy lists no ranges); unknown for one the
    resolver could not answer, or one the policy names that the probe did not try (an agent
    with an older policy); not applicable when the policy names no targets."""
    named = [str(v) for v in inputs.param or []]
    if not named:
        return Outcome("not_applicable", ["the policy names no internal-only targets"])
    targets = {str(t.get("target")): t for t in (i.value for i in items) if isinstance(t, dict)}
    failures, unknowns = [], []
    for name in named:
        target = targets.get(name)
        if target is None:
            unknowns.append(f"{name}: not tried by this agent (its policy is older)")
        elif target.get("reachable") is True or (
            target.get("resolved") is True and target.get("internal_address") is not False
        ):
            failures.append(_how(target))
        elif target.get("answer") == "no_answer":
            unknowns.append(f"{name}: the resolver did not answer")
    if failures:
        return Outcome("fail", failures[:MAX_EVIDENCE])
    if unknowns:
        return Outcome("unknown", unknowns[:MAX_EVIDENCE])
    return Outcome("pass", [_how(targets[name]) for name in named][:MAX_EVIDENCE])


def _single(items: list[Item]) -> Item | None:
    return items[0] if items else None


def is_true(items: list[Item], inputs: Inputs) -> Outcome:
    item = _single(items)
    if item is None:
        return Outcome("unknown", ["no value reported"])
    if item.value is True:
        return Outcome("pass", [_with_detail(f"{inputs.name}: yes", inputs)])
    return Outcome("fail", [_with_detail(f"{inputs.name}: no", inputs)])


def true_or_unknown(items: list[Item], inputs: Inputs) -> Outcome:
    """True passes; anything else means the fact is incomplete: unknown, never a pass."""
    item = _single(items)
    if item is not None and item.value is True:
        return Outcome("pass", [_with_detail("complete", inputs)])
    return Outcome("unknown", [_with_detail("incomplete", inputs)])


def is_false(items: list[Item], inputs: Inputs) -> Outcome:
    item = _single(items)
    if item is None:
        return Outcome("unknown", ["no value reported"])
    if item.value is False:
        return Outcome("pass", [_with_detail(f"{inputs.name}: no", inputs)])
    return Outcome("fail", [_with_detail(f"{inputs.name}: yes", inputs)])


def at_most(items: list[Item], inputs: Inputs) -> Outcome:
    item = _single(items)
    if item is None:
        return Outcome("unknown", ["no value reported"])
    text = _with_detail(
        f"{inputs.name}: {item.value} (at most {inputs.param})", inputs, int(item.value)
    )
    return Outcome("pass" if int(item.value) <= int(inputs.param) else "fail", [text])


def _within(items: list[Item], inputs: Inputs, limit: timedelta, unit: str) -> Outcome:
    item = _single(items)
    if item is None:
        return Outcome("unknown", ["no time reported"])
    try:
        when = parse_timestamp(str(item.value))
    except ValueError:
        return Outcome("unknown", [f"unreadable time {item.value!r}"])
    age = inputs.now - when
    amount = age / timedelta(**{unit: 1})
    # Evidence changes only when what it says changes, so that a device's history shows real
    # changes: a last update (days) is a fixed moment, shown to the minute; a last report's
    # arrival (hours, ADM-002) moves with every report, so its day and age are what it says.
    shown = f"{when:%Y-%m-%d %H:%M} UTC" if unit == "days" else f"{when:%Y-%m-%d}"
    text = f"{shown}, {int(amount)} {unit} ago (at most {inputs.param})"
    return Outcome("pass" if age <= limit else "fail", [text])


def within_days(items: list[Item], inputs: Inputs) -> Outcome:
    return _within(items, inputs, timedelta(days=int(inputs.param)), "days")


def within_hours(items: list[Item], inputs: Inputs) -> Outcome:
    return _within(items, inputs, timedelta(hours=int(inputs.param)), "hours")


def not_before_today(items: list[Item], inputs: Inputs) -> Outcome:
    """A date (YYYY-MM-DD) that must not have passed; no date at all passes."""
    item = _single(items)
    if item is None:
        return Outcome("pass", ["no expiry date"])
    try:
        expires = date.fromisoformat(str(item.value)[:10])
    except ValueError:
        return Outcome("unknown", [f"unreadable date {item.value!r}"])
    status: RuleStatus = "pass" if expires >= inputs.now.date() else "fail"
    return Outcome(status, [f"approval expires {expires.isoformat()}"])


def version_tuple(text: str) -> tuple[int, ...]:
    """'10.0.22631' -> (10, 0, 22631); '14.5 (23F79)' -> (14, 5)."""
    match = re.match(r"\d+(?:\.\d+)*", text.strip())
    if match is None:
        raise ValueError(f"no version number in {text!r}")
    return tuple(int(part) for part in match[0].split("."))


def version_at_least(items: list[Item], inputs: Inputs) -> Outcome:
    item = _single(items)
    minimums: dict[str, str] = inputs.param
    if item is None or inputs.key is None:
        return Outcome("unknown", ["no OS version reported"])
    minimum = minimums.get(str(inputs.key).lower())
    if minimum is None:
        return Outcome("not_applicable", [f"the policy sets no minimum for {inputs.key}"])
    try:
        ok = version_tuple(str(item.value)) >= version_tuple(minimum)
    except ValueError:
        return Outcome("unknown", [f"unreadable version {item.value!r}"])
    text = f"{inputs.key} {item.value} (minimum {minimum})"
    return Outcome("pass" if ok else "fail", [text])


def versions_at_least(items: list[Item], inputs: Inputs) -> Outcome:
    """Over installed applications ({name, version, version_unknown}): fail for each older than
    the policy's minimum for its name, unknown for one whose version could not be read; a name
    without a minimum is not judged, and an application not installed is no failure."""
    minimums: dict[str, str] = inputs.param or {}
    if not minimums:
        return Outcome("not_applicable", ["the policy sets no minimum versions"])
    failures: list[str] = []
    unknowns: list[str] = []
    passed: list[str] = []
    for item in items:
        record = item.value if isinstance(item.value, dict) else {}
        name = str(record.get("name"))
        minimum = minimums.get(name.lower())
        if minimum is None:
            continue
        version = record.get("version")
        if not isinstance(version, str):
            why = record.get("version_unknown") or "not reported"
            unknowns.append(f"{name}: version unknown ({why})")
            continue
        try:
            ok = version_tuple(version) >= version_tuple(minimum)
        except ValueError:
            unknowns.append(f"{name}: unreadable version {version!r}")
            continue
        (passed if ok else failures).append(f"{name} {version} (minimum {minimum})")
    if failures:
        return Outcome("fail", failures[:MAX_EVIDENCE])
    if unknowns:
        return Outcome("unknown", unknowns[:MAX_EVIDENCE])
    return Outcome("pass", passed[:MAX_EVIDENCE] or [f"{inputs.name}: none with a minimum"])


Operation = Callable[[list[Item], Inputs], Outcome]

OPERATIONS: dict[str, Operation] = {
    "none_in_cidrs": none_in_cidrs,
    "none_match_domains": none_match_domains,
    "none_in_set": none_in_set,
    "all_in_set": all_in_set,
    "is_empty": is_empty,
    "none_answered": none_answered,
    "is_true": is_true,
    "is_false": is_false,
    "true_or_unknown": true_or_unknown,
    "at_most": at_most,
    "within_days": within_days,
    "within_hours": within_hours,
    "not_before_today": not_before_today,
    "version_at_least": version_at_least,
    "versions_at_least": versions_at_least,
}
