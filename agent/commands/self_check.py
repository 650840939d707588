"""`agent --self-check`: collect, evaluate, check the agent itself; print for a person or JSON."""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

from agent.commands.machine import probes_for
from agent.config import AgentConfig
from agent.delivery.enrolment import NotEnrolled, load_enrolment
from agent.delivery.last_exchange import load_exchange, note_text
from agent.delivery.policy_cache import choose_policy
from agent.delivery.secret_store import SecretMissing
from agent.facts.collect import collect_report
from agent.facts.context import Context
from agent.facts.probes.credentials.remedies import remedy_for
from agent.policy import Evaluator, Policy, RuleResult, load_catalogue, verdict
from agent.policy.engine import exempted
from agent.report import SCHEMA_VERSION, Report
from agent.service.installed import service_state

CheckStatus = Literal["pass", "fail", "unknown", "not_applicable"]
EXIT_CODES = {"compliant": 0, "non_compliant": 1, "unknown": 3}


@dataclass(frozen=True)
class HealthCheck:
    """One check of the agent itself (configuration, enrolment, collector)."""

    name: str
    status: CheckStatus
    detail: str


@dataclass(frozen=True)
class SelfCheck:
    """Everything the self-check found."""

    verdict: str
    rules: list[RuleResult]
    checks: list[HealthCheck]
    report: Report
    policy_source: str
    organisation: str
    # The permitted organisation identities (the TikTok mailbox) the report shows in use.
    permitted: tuple[str, ...] = ()
    # The collector's word on failing rules it does not count (yet): due or excepted
    # (LastExchange.collector_notes), and the policy's grace periods in hours.
    notes: dict[str, dict[str, str]] = field(default_factory=dict)
    grace_hours: dict[str, int] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]


def _collector_checks(config: AgentConfig) -> list[HealthCheck]:
    try:
        enrolment = load_enrolment(config.state_dir)
    except NotEnrolled as exc:
        remedy = (
            "run `agent enroll --server URL --token TOKEN` with the token from your security team"
        )
        return [HealthCheck("enrolment", "fail", f"{exc}: {remedy}")]
    checks = [
        HealthCheck(
            "enrolment",
            "pass",
            f"device {enrolment.device_id} of {enrolment.server}; "
            f"secret in {enrolment.secret_store.split(':', 1)[0]}",
        )
    ]
    # Only now, with a collector to ask: requests and the transport add about 16 MB to a peak
    # that is otherwise 27 MB (docs/benchmarks.md), and an unenrolled check needs neither.
    from agent.delivery.send import collector_for
    from agent.delivery.transport import TransportError

    try:
        collector = collector_for(enrolment)
    except SecretMissing as exc:
        return [*checks, HealthCheck("device secret", "fail", f"{exc}: enrol again")]
    collector.attempts = 1  # the person at the laptop is waiting: no retries
    try:
        collector.healthy()
        tls = "TLS verified" if enrolment.server.startswith("https") else "loopback HTTP"
        checks.append(HealthCheck("collector", "pass", f"reachable ({tls})"))
        collector.fetch_policy(None)
        checks.append(HealthCheck("device secret", "pass", "accepted by the collector"))
    except TransportError as exc:
        name = "device secret" if exc.status in (401, 403) else "collector"
        advice = {401: "enrol again", 403: "this device was revoked: ask your security team"}
        detail = f"{exc}: {advice[exc.status]}" if exc.status in advice else str(exc)
        checks.append(HealthCheck(name, "fail", detail))
    return checks


def agent_health(ctx: Context, config: AgentConfig, policy: Policy) -> list[HealthCheck]:
    return [
        HealthCheck("configuration", "pass", f"read from {config.source}"),
        HealthCheck("policy", "pass", f"{policy.organisation_name} ({policy.source})"),
        *_collector_checks(config),
        _service_check(ctx, config),
        *_collector_verdict(config),
    ]


def _collector_verdict(config: AgentConfig) -> list[HealthCheck]:
    """What the security team sees: the collector's verdict on the last accepted report,
    with the rules only it can judge (egress address, approval, clock). None before one."""
    exchange = load_exchange(config.state_dir)
    state, verdict = exchange.collector_state, exchange.verdict_text()
    if state is None or verdict is None:
        return []
    detail = (
        f"{verdict} (the collector's verdict on the report accepted {exchange.collector_state_at})"
    )
    statuses: dict[str, CheckStatus] = {"compliant": "pass", "unknown": "unknown"}
    status = statuses.get(state, "fail")
    return [HealthCheck("verdict", status, detail)]


def _service_check(ctx: Context, config: AgentConfig) -> HealthCheck:
    if not config.service:
        detail = f"not run as a service here ([agent] service = false in {config.source})"
        return HealthCheck("service", "not_applicable", detail)
    return HealthCheck("service", *service_state(ctx))


def run_self_check(ctx: Context, config: AgentConfig, policy: Policy) -> SelfCheck:
    report = collect_report(ctx, probes_for(config, policy))
    now = datetime.fromtimestamp(ctx.now(), UTC)
    facts = report.to_dict()
    rules = Evaluator(policy, load_catalogue()).evaluate(facts, now)
    return SelfCheck(
        permitted=tuple(exempted(policy, load_catalogue(), facts)),
        verdict=verdict(rules),
        rules=rules,
        checks=agent_health(ctx, config, policy),
        report=report,
        policy_source=policy.source,
        organisation=policy.organisation_name,
        notes=load_exchange(config.state_dir).notes(),
        grace_hours={
            rule.id: hours for rule in load_catalogue() if (hours := policy.grace_hours(rule))
        },
    )


def credential_findings(report: Report, permitted: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """The credentials probe's findings, each with what to do about it; one for a permitted
    identity (exactly, letter case aside) says so instead."""
    result = report.probes.get("credentials")
    if result is None or result.data is None:
        return []
    return [
        {
            **finding,
            "permitted": str(finding.get("identity")).casefold() in permitted,
            "remedy": remedy_for(str(finding["kind"]), str(finding["store"])),
        }
        for finding in result.data.get("findings", [])
    ]


def classified_files(report: Report) -> list[dict[str, Any]]:
    """The data_labels probe's findings: file, label or marking, where in the file."""
    result = report.probes.get("data_labels")
    if result is None or result.data is None:
        return []
    return list(result.data.get("findings", []))


def to_json(result: SelfCheck) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "verdict": result.verdict,
        "policy": {"source": result.policy_source, "organisation": result.organisation},
        "rules": [
            {k: v for k, v in asdict(r).items() if k not in ("guidance", "scope")}
            for r in result.rules
        ],
        "probes": {
            name: {"status": p.status, "duration_ms": p.duration_ms}
            for name, p in result.report.probes.items()
        },
        "checks": [asdict(c) for c in result.checks],
        "collector_notes": result.notes,
        "grace_hours": result.grace_hours,
        "credential_findings": credential_findings(result.report, result.permitted),
        "report": result.report.to_dict(),
    }


_COLOURS = {"pass": "32", "fail": "31", "unknown": "33", "not_applicable": "90"}
_LABELS = {"pass": "PASS", "fail": "FAIL", "unknown": "UNKNOWN", "not_applicable": "N/A"}


def _paint(text: str, status: str, colour: bool) -> str:
    return f"\033[{_COLOURS[status]}m{text}\033[0m" if colour else text


def wants_colour(stream: TextIO) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def render_text(result: SelfCheck, colour: bool) -> str:
    lines = [f"Outpost self-check: {result.organisation} policy ({result.policy_source})", ""]
    for rule in result.rules:
        label = _paint(f"{_LABELS[rule.status]:<7}", rule.status, colour)
        lines.append(f"{label} {rule.id:<9} {rule.title}  [{rule.severity}]")
        evidence = "; ".join(rule.evidence)
        if rule.status in ("fail", "unknown"):
            lines.append(f"{'':16} {evidence}")
            if rule.status == "fail" and (allowance := _allowance(result, rule.id)):
                lines.append(f"{'':16} {allowance}")
            lines.append(f"{'':16} Fix: {rule.remediation}")
        elif evidence:
            lines.append(f"{'':16} {evidence}")
    findings = credential_findings(result.report, result.permitted)
    if findings:
        lines += ["", f"Organisation credentials on this device ({len(findings)})"]
        for finding in findings:
            identity = f" [{finding['identity']}]" if finding.get("identity") else ""
            lines.append(
                f"  {finding['kind']} in {finding['store']}: {finding['location']}{identity}"
            )
            if finding["permitted"]:
                lines.append(f"{'':16} Permitted: the policy's TikTok mailbox; keep it.")
            else:
                lines.append(f"{'':16} Fix: {finding['remedy']}")
    classified = classified_files(result.report)
    if classified:
        lines += ["", f"Files classified above PUBLIC ({len(classified)})"]
        for file in classified:
            lines.append(f"  {file['location']}: {file['kind']} {file['label']} in {file['where']}")
    lines += ["", "Agent"]
    for check in result.checks:
        label = _paint(f"{_LABELS[check.status]:<7}", check.status, colour)
        lines.append(f"{label} {check.name:<13} {check.detail}")
    failing = sum(r.status == "fail" for r in result.rules)
    unknown = sum(r.status == "unknown" for r in result.rules)
    summary = {
        "compliant": "COMPLIANT: every rule passes.",
        "non_compliant": f"NOT COMPLIANT: {_rules(failing)} {'fails' if failing == 1 else 'fail'}"
        + (f" and {_rules(unknown)} could not be checked" if unknown else "")
        + ". Follow each Fix above, then run this check again.",
        "unknown": f"UNKNOWN: nothing fails, but {_rules(unknown)} could not be checked; "
        "the lines marked UNKNOWN say why.",
    }[result.verdict]
    status = {"compliant": "pass", "non_compliant": "fail", "unknown": "unknown"}[result.verdict]
    lines += ["", _paint(summary, status, colour)]
    return "\n".join(lines) + "\n"


def _allowance(result: SelfCheck, rule_id: str) -> str | None:
    """What the collector allows a failing rule: its exception, or until when its grace
    period lasts (as the collector said), or how long a grace the policy gives."""
    note = result.notes.get(rule_id)
    if note is not None:
        return f"The collector: {note_text(note)}."
    hours = result.grace_hours.get(rule_id)
    if hours:
        return f"Grace period: {hours} h from the collector's first report of it failing."
    return None


def _rules(count: int) -> str:
    return f"{count} rule" if count == 1 else f"{count} rules"


def render_json(result: SelfCheck) -> str:
    return json.dumps(to_json(result), indent=2) + "\n"


def self_check(args: argparse.Namespace, config: AgentConfig) -> int:
    policy = choose_policy(args.policy, config)
    result = run_self_check(Context(), config, policy)
    if args.json:
        sys.stdout.write(render_json(result))
    else:
        sys.stdout.write(render_text(result, colour=wants_colour(sys.stdout)))
    return result.exit_code
