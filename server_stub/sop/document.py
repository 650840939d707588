"""The SOP as data: sections of paragraphs, lists and tables built from the policy, the rule
catalogue, the device register and the alert destinations (no storage, no HTTP)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from agent.policy import Policy, Rule
from agent.policy.guidance import Requirement, load_guidance
from agent.policy.model import OS_FAMILIES
from server_stub.alerting.destinations import Destinations

OS_NAMES = {"windows": "Windows", "macos": "macOS", "linux": "Linux (Debian, Ubuntu, Fedora)"}
# The review cadence this SOP sets (no policy value carries it): people, not the product.
POLICY_REVIEW_MONTHS = 12
APPROVAL_WARNING_DAYS = 30


@dataclass(frozen=True)
class RegisterEntry:
    """One device of the register, as the SOP lists it."""

    name: str
    owner: str
    department: str
    approved_by: str
    approval_expires: date
    state: str


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Section:
    """A heading and its blocks, in order: paragraphs (str), bullet lists (list), numbered
    steps (tuple) and tables; sub-sections follow."""

    title: str
    blocks: tuple[str | list[str] | tuple[str, ...] | Table, ...] = ()
    subsections: tuple[Section, ...] = ()


@dataclass(frozen=True)
class Sop:
    title: str
    organisation: str
    issued: date
    source: str
    sections: tuple[Section, ...] = field(default_factory=tuple)


def enabled_rules(policy: Policy, rules: Iterable[Rule]) -> list[Rule]:
    """The catalogue's rules this policy leaves on, in catalogue order."""
    return [
        r for r in rules if policy.overrides.get(r.id) is None or policy.overrides[r.id].enabled
    ]


def _severity(policy: Policy, rule: Rule) -> str:
    override = policy.overrides.get(rule.id)
    return override.severity if override and override.severity else rule.severity


def _purpose(policy: Policy, register: list[RegisterEntry]) -> Section:
    departments = sorted({d.department for d in register})
    return Section(
        "1. Purpose and scope",
        (
            f"This procedure governs the use of TikTok on dedicated devices at "
            f"{policy.organisation_name}. TikTok is used only on laptops set aside for it, kept "
            "outside the organisation: off its internal networks (4G/5G only), free of its "
            "accounts, credentials and data, fully patched, used only by accounts made for the "
            "purpose, and each device approved by a head of department.",
            f"It applies to every device in the register: {len(register)} at issue"
            + (f", in {', '.join(departments)}." if departments else "."),
            "Outpost checks the rules of section 4 on every device and shows the result on the "
            "dashboard; this document is generated from the same policy, so that what it says "
            "is what is enforced.",
        ),
    )


def _approval(register: list[RegisterEntry], issued: date) -> Section:
    rows = tuple(
        (d.name, d.owner, d.department, d.approved_by, d.approval_expires.isoformat(), d.state)
        for d in sorted(register, key=lambda d: (d.approval_expires, d.name))
    )
    blocks: list[str | list[str] | tuple[str, ...] | Table] = [
        (
            "The member of staff writes a justification: why the work needs TikTok, which "
            "account it runs, and for how long.",
            "The head of department approves it, for at most the period needed.",
            "The security team records the device in the register with the owner, department, "
            "approver, justification and approval expiry (`collector device register NAME "
            "--owner ... --department ... --approved-by ... --justification ... --expires "
            "YYYY-MM-DD`, or the dashboard's Register a device page) and hands over the "
            "one-time enrolment token.",
            "A device whose approval has expired fails ADM-001 and shows as unapproved until "
            "the head of department renews it; a device no longer needed is revoked "
            "(`collector device revoke NAME`).",
        ),
        "The register at issue:",
        Table(("Device", "Owner", "Department", "Approved by", "Expires", "State"), rows)
        if rows
        else "No device is registered yet.",
    ]
    soon = [d for d in register if (d.approval_expires - issued).days <= APPROVAL_WARNING_DAYS]
    if soon:
        blocks.append(
            f"Approvals expired or expiring within {APPROVAL_WARNING_DAYS} days: "
            + ", ".join(f"{d.name} ({d.approval_expires.isoformat()})" for d in soon)
            + "."
        )
    return Section("2. Approval procedure", tuple(blocks))


def _setup(policy: Policy, rules: list[Rule]) -> Section:
    agent_rules = [r for r in rules if r.scope == "agent"]
    allowed = ", ".join(policy.values["accounts"]["allowed"]) or "(none listed)"
    permitted = ", ".join(policy.values["accounts"]["permitted_org_identities"])
    common = (
        "Install the operating system fresh, with full-disk encryption chosen at installation.",
        f"Create only the accounts the policy allows: {allowed}.",
        "Connect through the 4G/5G connection only; never join the organisation's networks.",
        "Put only data classified PUBLIC on the device; remove anything classified higher.",
        "Sign in to no organisation account"
        + (f" other than the permitted mailbox {permitted}." if permitted else "."),
        "Install the Outpost agent and enrol it with the device's one-time token "
        "(operator guide, section 3), then run `agent --self-check` until every line passes.",
    )
    per_os = tuple(
        Section(
            OS_NAMES[family],
            (tuple(f"{r.title} ({r.id}): {r.remediation_for(family)}" for r in agent_rules),),
        )
        for family in OS_FAMILIES
    )
    return Section(
        "3. Device set-up",
        (
            common,
            "Then, on each operating system, make each requirement true (the steps are the "
            "rules' own remedies):",
        ),
        per_os,
    )


def _rules(policy: Policy, rules: list[Rule]) -> Section:
    rows = tuple(
        (r.id, r.title, _severity(policy, r), r.guidance, r.remediation, r.scope) for r in rules
    )
    return Section(
        "4. Rules enforced",
        (
            "Every rule in force under this policy, with the requirement of the guidance it "
            "checks and the remedy for a device that fails it. A rule the agent cannot judge "
            "is unknown, never a pass.",
            Table(("Rule", "Requirement", "Severity", "Guidance", "Remedy", "Checked by"), rows),
        ),
    )


def _monitoring(policy: Policy, destinations: Destinations) -> Section:
    reporting = policy.values["reporting"]
    routes = [
        f"{d.label}: "
        + (", ".join(sorted(d.route.severities)) if d.route.severities else "every severity")
        + (
            f"; departments {', '.join(sorted(d.route.departments))}"
            if d.route.departments
            else "; every department"
        )
        for d in destinations.all
    ]
    return Section(
        "5. Monitoring and alert routing",
        (
            f"Each device reports every {reporting['interval_minutes']} minutes and at once "
            "when its network changes; a device silent for more than "
            f"{reporting['stale_after_hours']} hours fails ADM-002 (stale).",
            "The security team watches the dashboard's fleet page daily: every device that is "
            "non-compliant, unknown, stale or unapproved is followed up with its owner.",
            "A device that starts failing a rule raises an alert to these destinations:",
            routes
            or [
                "No alert destination is configured: set --alert-webhook or "
                "--alert-email on the collector (operator guide, section 7)."
            ],
        ),
    )


def _exceptions() -> Section:
    return Section(
        "6. Exception process",
        (
            (
                "The owner asks the security team in writing, naming the rule, the device, the "
                "reason, the mitigation and the end date.",
                "The head of department who approved the device agrees in writing.",
                "An admin grants it on the device's page of the dashboard (one rule, on the "
                "device or on its whole department) with the reason, the mitigation and the end "
                "date; the grant and any revocation are in the audit log and the audit evidence. "
                "While it holds, the rule shows as excepted on the dashboard and on the laptop.",
                "A rule switched off for every device is a change to the policy file "
                "(`[rules.ID] enabled = false`), reviewed like any other policy change.",
                "At the end date the exception lapses by itself, an alert is sent, and the rule "
                "applies again.",
            ),
        ),
    )


def _review(policy: Policy, register: list[RegisterEntry]) -> Section:
    next_expiry = min((d.approval_expires for d in register), default=None)
    return Section(
        "7. Review cadence",
        (
            [
                "Daily: the fleet page (non-compliant, unknown, stale, unapproved devices).",
                "Monthly: the Evidence page for the month (each device's share of time "
                "compliant and every violation), kept as the audit record.",
                "At each approval's expiry: the head of department renews or the device is "
                "revoked" + (f" (the next: {next_expiry.isoformat()})." if next_expiry else "."),
                f"Every {POLICY_REVIEW_MONTHS} months, and whenever the guidance changes: this "
                "procedure and the policy it is generated from (minimum OS and browser "
                "versions, internal ranges, permitted identities).",
            ],
        ),
    )


def _coverage(requirements: Iterable[Requirement], rules: list[Rule]) -> Section:
    present = {r.id for r in rules}
    rows = tuple(
        (
            f"“{r.text}”",
            ", ".join(i for i in r.rules if i in present) or "—",
            r.procedure or "—",
        )
        for r in requirements
    )
    return Section(
        "8. Guidance coverage",
        (
            "Each requirement of the guidance, and the rules that check it or the procedure "
            "that handles it.",
            Table(("Guidance", "Rules", "Procedure"), rows),
        ),
    )


def build_sop(
    policy: Policy,
    catalogue: Iterable[Rule],
    register: list[RegisterEntry],
    destinations: Destinations,
    issued: date,
) -> Sop:
    """The SOP for this organisation as its policy, register and alert routing stand today."""
    rules = enabled_rules(policy, catalogue)
    return Sop(
        title="Standard operating procedure: TikTok on dedicated devices",
        organisation=policy.organisation_name,
        issued=issued,
        source=policy.source,
        sections=(
            _purpose(policy, register),
            _approval(register, issued),
            _setup(policy, rules),
            _rules(policy, rules),
            _monitoring(policy, destinations),
            _exceptions(),
            _review(policy, register),
            _coverage(load_guidance(), rules),
        ),
    )
