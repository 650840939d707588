"""Table tests: every rule passes, fails and is unknown on the facts that should make it so."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from agent.policy import (
    Evaluator,
    Policy,
    RuleResult,
    default_policy,
    load_catalogue,
    parse_policy,
    verdict,
)
from agent.policy.loader import default_policy_text

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
INTERNAL_PROBES = ["intranet.example.ac.uk", "10.20.0.5:443"]
# The default pack with its commented-out example of internal-only targets filled in.
POLICY = parse_policy(
    default_policy_text().replace(
        "internal_probes = []", f"internal_probes = {INTERNAL_PROBES!r}".replace("'", '"')
    )
)
RULES = {rule.id: rule for rule in load_catalogue()}
BOTH_SCOPES = ("agent", "collector")


def evaluate_rule(rule_id: str, policy: Policy, facts: dict[str, Any]) -> RuleResult:
    """One rule of either scope, evaluated as the collector would."""
    [result] = Evaluator(policy, [RULES[rule_id]], BOTH_SCOPES).evaluate(facts, NOW)
    return result


def evaluate(policy: Policy, facts: dict[str, Any]) -> list[RuleResult]:
    """Every agent rule, as the self-check evaluates them."""
    return Evaluator(policy, load_catalogue()).evaluate(facts, NOW)


def ok(data: dict[str, Any]) -> dict[str, Any]:
    return {"status": "ok", "duration_ms": 5, "data": data, "error": None}


NOT_FOUND = {
    "target": "intranet.example.ac.uk",
    "resolved": False,
    "internal_address": None,
    "reachable": None,
    "answer": "not_found",
    "duration_ms": 31,
    "interface": None,
}
BLACK_HOLED = {
    "target": "10.20.0.5:443",
    "resolved": None,
    "internal_address": None,
    "reachable": False,
    "answer": "timeout",
    "duration_ms": 800,
    "interface": "wwan0",
}


def clean_facts() -> dict[str, Any]:
    """A compliant dedicated device on a 4G/5G connection."""
    return {
        "host": {"hostname": "tt-01", "os": "debian"},
        "probes": {
            "patch_level": ok(
                {
                    "os": {"os_id": "debian", "os_version": "12.11"},
                    "last_update_at": "2026-11-20T08:00:00Z",
                    "pending_updates": 2,
                    "pending_security_updates": 0,
                    "security_updates": [],
                    "reboot_pending": False,
                    "auto_updates": True,
                    "gaps": {},
                }
            ),
            "applications": ok(
                {
                    "browsers": [
                        {
                            "name": "firefox",
                            "version": "140.5.0esr",
                            "source": "dpkg firefox-esr",
                            "version_unknown": None,
                        }
                    ],
                    "tiktok": [],
                    "gaps": {},
                }
            ),
            "network": ok(
                {
                    "interfaces": [
                        {
                            "name": "wwan0",
                            "kind": "cellular",
                            "addresses": [{"address": "100.64.3.7", "prefix": 30}],
                        },
                        {"name": "lo", "kind": "loopback", "addresses": [{"address": "127.0.0.1"}]},
                    ],
                    "gateways": [{"address": "100.64.3.5", "interface": "wwan0"}],
                    "dns_servers": ["100.64.0.1"],
                    "dns_search_domains": [],
                    "wifi_ssids": [],
                    "saved_wifi_profiles": ["Phone hotspot"],
                    "vpn_connections": [],
                    "network_shares": [],
                    "gaps": {},
                }
            ),
            "accounts": ok(
                {
                    "logged_in": [{"name": "tiktok"}],
                    "local_accounts": [{"name": "tiktok"}, {"name": "tiktok-admin"}],
                    "domain_join": {"joined": False, "domain": None, "tenant_id": None},
                    "work_accounts": [],
                    "gaps": {},
                }
            ),
            "device_security": ok(
                {
                    "disk_encrypted": True,
                    "disk_encryption_detail": "/ is on encrypted device luks-1",
                    "firewall_enabled": True,
                    "firewall_detail": "ufw",
                    "screen_lock_enabled": True,
                    "screen_lock_detail": "300 s",
                    "gaps": {},
                }
            ),
            "credentials": ok({"findings": [], "not_inspected": [], "complete": True}),
            "data_labels": ok({"findings": [], "not_inspected": [], "complete": True}),
            "isolation": ok({"targets": [NOT_FOUND, BLACK_HOLED], "budget_ms": 800}),
        },
        "collector": {
            "source_ip": "100.64.3.7",
            "approved": True,
            "approval_expires": "2027-06-30",
            "last_seen_at": "2026-11-21T11:50:00Z",
            "clock_offset_s": 25,
            "clock_skew_minutes": 0,
            "clock_offset": "clock right to the minute",
        },
    }


Mutation = Callable[[dict[str, Any]], None]


def setting(path: str, value: Any) -> Mutation:
    def mutate(facts: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = facts
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        node[int(last) if last.isdigit() else last] = value

    return mutate


def clock(offset_s: int, skew_minutes: int, text: str) -> Mutation:
    """The collector's clock facts for a report this far from its receive time."""

    def mutate(facts: dict[str, Any]) -> None:
        facts["collector"].update(
            clock_offset_s=offset_s, clock_skew_minutes=skew_minutes, clock_offset=text
        )

    return mutate


def probe_failed(name: str, status: str = "error") -> Mutation:
    def mutate(facts: dict[str, Any]) -> None:
        facts["probes"][name] = {
            "status": status,
            "duration_ms": 1,
            "data": None,
            "error": {"type": "ParseError", "message": "garbled output"},
        }

    return mutate


def unreadable(probe: str, field: str) -> Mutation:
    def mutate(facts: dict[str, Any]) -> None:
        data = facts["probes"][probe]["data"]
        data[field] = None
        data["gaps"][field] = "needs root"

    return mutate


NET = "probes.network.data"
ACC = "probes.accounts.data"
PATCH = "probes.patch_level.data"
APP = "probes.applications.data"
SEC = "probes.device_security.data"
ISO = "probes.isolation.data"
INTERNAL_IF = {"name": "eth0", "kind": "ethernet", "addresses": [{"address": "10.20.0.5"}]}

CASES: list[tuple[str, str, Mutation | None, str, str]] = [
    # rule, case, mutation, expected status, a piece of the expected evidence
    ("NET-001", "public only", None, "pass", "none in an internal range"),
    (
        "NET-001",
        "campus cable",
        setting(f"{NET}.interfaces.0", INTERNAL_IF),
        "fail",
        "eth0 10.20.0.5",
    ),
    (
        "NET-001",
        "ipv6 campus",
        setting(f"{NET}.interfaces.0.addresses.0.address", "2001:db8:100::9"),
        "fail",
        "2001:db8:100::/48",
    ),
    ("NET-001", "probe failed", probe_failed("network"), "unknown", "garbled output"),
    ("NET-001", "interfaces unread", unreadable("network", "interfaces"), "unknown", "needs root"),
    ("NET-002", "mobile gateway", None, "pass", ""),
    (
        "NET-002",
        "campus gateway",
        setting(f"{NET}.gateways.0.address", "198.51.100.1"),
        "fail",
        "198.51.100.1",
    ),
    ("NET-002", "gateways unread", unreadable("network", "gateways"), "unknown", "needs root"),
    ("NET-003", "mobile dns", None, "pass", ""),
    (
        "NET-003",
        "campus dns server",
        setting(f"{NET}.dns_servers", ["10.1.1.53"]),
        "fail",
        "10.1.1.53",
    ),
    (
        "NET-003",
        "campus suffix",
        setting(f"{NET}.dns_search_domains", ["lab.ad.example.ac.uk"]),
        "fail",
        "lab.ad.example.ac.uk",
    ),
    (
        "NET-003",
        "look-alike suffix",
        setting(f"{NET}.dns_search_domains", ["example.ac.uk.evil.com"]),
        "pass",
        "",
    ),
    ("NET-003", "dns unread", unreadable("network", "dns_servers"), "unknown", "needs root"),
    ("NET-004", "no wifi", None, "pass", ""),
    ("NET-004", "on eduroam", setting(f"{NET}.wifi_ssids", ["EDUROAM"]), "fail", "EDUROAM"),
    ("NET-004", "ssid redacted", unreadable("network", "wifi_ssids"), "unknown", "needs root"),
    ("NET-005", "no campus profile", None, "pass", ""),
    (
        "NET-005",
        "eduroam saved",
        setting(f"{NET}.saved_wifi_profiles", ["Home", "eduroam"]),
        "fail",
        "eduroam",
    ),
    (
        "NET-005",
        "profiles unread",
        unreadable("network", "saved_wifi_profiles"),
        "unknown",
        "needs root",
    ),
    ("NET-006", "no vpn", None, "pass", ""),
    (
        "NET-006",
        "campus vpn by host",
        setting(
            f"{NET}.vpn_connections",
            [{"name": "Uni VPN", "remote": "vpn.example.ac.uk", "addresses": []}],
        ),
        "fail",
        "Uni VPN",
    ),
    (
        "NET-006",
        "campus vpn by address",
        setting(
            f"{NET}.vpn_connections", [{"name": "tun0", "remote": None, "addresses": ["10.8.0.2"]}]
        ),
        "fail",
        "10.8.0.2",
    ),
    (
        "NET-006",
        "commercial vpn",
        setting(
            f"{NET}.vpn_connections",
            [{"name": "wg0", "remote": "vpn.other.net", "addresses": ["10.64.0.2"]}],
        ),
        "fail",
        "10.64.0.2",
    ),
    ("NET-006", "vpn unread", unreadable("network", "vpn_connections"), "unknown", "needs root"),
    ("NET-007", "no shares", None, "pass", ""),
    (
        "NET-007",
        "campus share",
        setting(
            f"{NET}.network_shares",
            [{"source": "//fs01.example.ac.uk/p", "host": "fs01.example.ac.uk"}],
        ),
        "fail",
        "fs01.example.ac.uk",
    ),
    (
        "NET-007",
        "campus share by ip",
        setting(f"{NET}.network_shares", [{"source": "//10.1.2.3/p", "host": "10.1.2.3"}]),
        "fail",
        "10.1.2.3",
    ),
    ("NET-007", "shares unread", unreadable("network", "network_shares"), "unknown", "needs root"),
    ("NET-008", "mobile egress", None, "pass", ""),
    (
        "NET-008",
        "campus egress",
        setting("collector.source_ip", "203.0.113.7"),
        "fail",
        "203.0.113.7",
    ),
    (
        "NET-008",
        "no source ip",
        lambda f: f["collector"].pop("source_ip"),
        "unknown",
        "not in the report",
    ),
    ("NET-009", "nothing internal answers", None, "pass", "10.20.0.5:443: timeout via wwan0"),
    (
        "NET-009",
        "internal name resolves",
        setting(
            f"{ISO}.targets.0",
            {**NOT_FOUND, "resolved": True, "internal_address": True, "answer": "resolved"},
        ),
        "fail",
        "intranet.example.ac.uk: resolved, to an internal address",
    ),
    (
        "NET-009",
        "internal address answers",
        setting(
            f"{ISO}.targets.1",
            {**BLACK_HOLED, "reachable": True, "answer": "connected", "interface": "wlan0"},
        ),
        "fail",
        "10.20.0.5:443: connected via wlan0",
    ),
    (
        "NET-009",
        "name rewritten by a public resolver",
        setting(f"{ISO}.targets.0", {**NOT_FOUND, "resolved": True, "internal_address": False}),
        "pass",
        "",
    ),
    (
        "NET-009",
        "resolver did not answer",
        setting(f"{ISO}.targets.0", {**NOT_FOUND, "resolved": None, "answer": "no_answer"}),
        "unknown",
        "the resolver did not answer",
    ),
    ("NET-009", "probe failed", probe_failed("isolation"), "unknown", "garbled output"),
    (
        "NET-009",
        "older agent",
        lambda f: f["probes"].pop("isolation"),
        "unknown",
        "not in the report",
    ),
    (
        "NET-009",
        "agent's policy named fewer targets",
        setting(f"{ISO}.targets", [NOT_FOUND]),
        "unknown",
        "10.20.0.5:443: not tried by this agent",
    ),
    ("ACC-001", "allowed accounts", None, "pass", ""),
    (
        "ACC-001",
        "personal login",
        setting(f"{ACC}.logged_in", [{"name": "alice"}]),
        "fail",
        "alice is not on the allowlist",
    ),
    (
        "ACC-001",
        "extra local account",
        setting(f"{ACC}.local_accounts", [{"name": "tiktok"}, {"name": "bob"}]),
        "fail",
        "bob",
    ),
    ("ACC-001", "sessions unread", unreadable("accounts", "logged_in"), "unknown", "needs root"),
    ("ACC-002", "standalone", None, "pass", ""),
    (
        "ACC-002",
        "ad joined",
        setting(
            f"{ACC}.domain_join", {"joined": True, "domain": "ad.example.ac.uk", "tenant_id": None}
        ),
        "fail",
        "ad.example.ac.uk",
    ),
    (
        "ACC-002",
        "realm joined",
        setting(
            f"{ACC}.domain_join", {"joined": True, "domain": "AD.EXAMPLE.AC.UK", "tenant_id": None}
        ),
        "fail",
        "AD.EXAMPLE.AC.UK",
    ),
    (
        "ACC-002",
        "entra tenant",
        setting(
            f"{ACC}.domain_join",
            {"joined": True, "domain": None, "tenant_id": "11111111-2222-4333-8444-555555555555"},
        ),
        "fail",
        "11111111",
    ),
    (
        "ACC-002",
        "work account",
        setting(f"{ACC}.work_accounts", [{"identity": "Alice@Example.ac.uk", "tenant_id": None}]),
        "fail",
        "Alice@Example.ac.uk",
    ),
    (
        "ACC-002",
        "other org account",
        setting(
            f"{ACC}.work_accounts", [{"identity": "alice@example.ac.uk.evil.com", "tenant_id": "x"}]
        ),
        "pass",
        "",
    ),
    ("ACC-002", "join unread", unreadable("accounts", "domain_join"), "unknown", "needs root"),
    ("PATCH-001", "updated yesterday", None, "pass", "days ago"),
    (
        "PATCH-001",
        "stale updates",
        setting(f"{PATCH}.last_update_at", "2026-09-01T00:00:00Z"),
        "fail",
        "81 days ago",
    ),
    (
        "PATCH-001",
        "history unread",
        unreadable("patch_level", "last_update_at"),
        "unknown",
        "needs root",
    ),
    ("PATCH-002", "no security updates", None, "pass", ""),
    (
        "PATCH-002",
        "security pending",
        lambda f: (
            setting(f"{PATCH}.pending_security_updates", 2)(f),
            setting(f"{PATCH}.security_updates", ["openssl", "curl"])(f),
        ),
        "fail",
        "openssl, curl",
    ),
    (
        "PATCH-002",
        "catalogue unread",
        unreadable("patch_level", "pending_security_updates"),
        "unknown",
        "needs root",
    ),
    ("PATCH-003", "no reboot", None, "pass", ""),
    ("PATCH-003", "reboot needed", setting(f"{PATCH}.reboot_pending", True), "fail", "yes"),
    (
        "PATCH-003",
        "reboot unknown",
        unreadable("patch_level", "reboot_pending"),
        "unknown",
        "needs root",
    ),
    ("PATCH-004", "supported", None, "pass", "debian 12.11"),
    ("PATCH-004", "too old", setting(f"{PATCH}.os.os_version", "11.9"), "fail", "minimum 12"),
    (
        "PATCH-004",
        "windows 10 old build",
        lambda f: (
            setting(f"{PATCH}.os.os_id", "windows")(f),
            setting(f"{PATCH}.os.os_version", "10.0.19044")(f),
        ),
        "fail",
        "10.0.19045",
    ),
    (
        "PATCH-004",
        "os without minimum",
        setting(f"{PATCH}.os.os_id", "arch"),
        "not_applicable",
        "no minimum",
    ),
    (
        "PATCH-004",
        "probe timed out",
        probe_failed("patch_level", "timeout"),
        "unknown",
        "probe timeout",
    ),
    ("PATCH-005", "current", None, "pass", "firefox 140.5.0esr (minimum 140)"),
    ("PATCH-005", "old", setting(f"{APP}.browsers.0.version", "128.9.0esr"), "fail", "minimum"),
    ("PATCH-005", "unreadable", setting(f"{APP}.browsers.0.version", None), "unknown", "firefox"),
    ("PATCH-005", "no browsers", setting(f"{APP}.browsers", []), "pass", "none with a minimum"),
    ("SEC-001", "encrypted", None, "pass", "luks-1"),
    ("SEC-001", "plain disk", setting(f"{SEC}.disk_encrypted", False), "fail", "no"),
    (
        "SEC-001",
        "needs admin",
        unreadable("device_security", "disk_encrypted"),
        "unknown",
        "needs root",
    ),
    ("SEC-002", "firewall on", None, "pass", ""),
    ("SEC-002", "firewall off", setting(f"{SEC}.firewall_enabled", False), "fail", "no"),
    (
        "SEC-002",
        "firewall unread",
        unreadable("device_security", "firewall_enabled"),
        "unknown",
        "needs root",
    ),
    ("SEC-003", "locks", None, "pass", ""),
    ("SEC-003", "never locks", setting(f"{SEC}.screen_lock_enabled", False), "fail", "no"),
    (
        "SEC-003",
        "no session",
        unreadable("device_security", "screen_lock_enabled"),
        "unknown",
        "needs root",
    ),
    ("CRED-001", "clean", None, "pass", "none found"),
    (
        "CRED-001",
        "stray login",
        setting(
            "probes.credentials.data.findings",
            [{"location": "~/.netrc", "identity": "fs01.example.ac.uk"}],
        ),
        "fail",
        "~/.netrc",
    ),
    (
        "CRED-001",
        "scan unsupported",
        probe_failed("credentials", "unsupported"),
        "unknown",
        "probe unsupported",
    ),
    (
        "CRED-001",
        "keychain locked",
        lambda f: (
            setting("probes.credentials.data.complete", False)(f),
            setting(
                "probes.credentials.data.not_inspected",
                [{"store": "keychain", "location": "~/Library/login.keychain-db", "reason": "x"}],
            )(f),
        ),
        "unknown",
        "login.keychain-db",
    ),
    (
        "CRED-001",
        "finding beats incomplete",
        lambda f: (
            setting("probes.credentials.data.complete", False)(f),
            setting("probes.credentials.data.findings", [{"location": "~/.netrc"}])(f),
        ),
        "fail",
        "~/.netrc",
    ),
    ("DATA-001", "no classified file", None, "pass", "none found"),
    (
        "DATA-001",
        "confidential report",
        setting(
            "probes.data_labels.data.findings",
            [{"location": "~/Documents/plan.docx", "kind": "label", "label": "Confidential"}],
        ),
        "fail",
        "~/Documents/plan.docx",
    ),
    (
        "DATA-001",
        "older agent without the probe",
        lambda f: f["probes"].pop("data_labels"),
        "unknown",
        "not in the report",
    ),
    (
        "DATA-001",
        "unreadable file",
        lambda f: (
            setting("probes.data_labels.data.complete", False)(f),
            setting(
                "probes.data_labels.data.not_inspected",
                [{"location": "~/Documents/locked.pdf", "reason": "not readable"}],
            )(f),
        ),
        "unknown",
        "locked.pdf",
    ),
    (
        "DATA-001",
        "finding beats incomplete",
        lambda f: (
            setting("probes.data_labels.data.complete", False)(f),
            setting("probes.data_labels.data.findings", [{"location": "~/a.pdf"}])(f),
        ),
        "fail",
        "~/a.pdf",
    ),
    ("ADM-001", "approved", None, "pass", "2027-06-30"),
    (
        "ADM-001",
        "expired",
        setting("collector.approval_expires", "2026-11-20"),
        "fail",
        "2026-11-20",
    ),
    ("ADM-001", "revoked approval", setting("collector.approved", False), "fail", "no"),
    (
        "ADM-001",
        "approval unknown",
        lambda f: f["collector"].pop("approved"),
        "unknown",
        "not in the report",
    ),
    ("ADM-002", "fresh", None, "pass", ""),
    (
        "ADM-002",
        "silent two days",
        setting("collector.last_seen_at", "2026-11-19T11:00:00Z"),
        "fail",
        "49 hours ago",
    ),
    (
        "ADM-002",
        "never seen",
        lambda f: f["collector"].pop("last_seen_at"),
        "unknown",
        "not in the report",
    ),
    (
        "ADM-003",
        "clock right",
        None,
        "pass",
        "clock skew minutes: 0 (at most 10) (clock right to the minute)",
    ),
    ("ADM-003", "ten minutes fast", clock(600, 10, "clock 10 min fast"), "pass", "10 min fast"),
    ("ADM-003", "eleven minutes slow", clock(-660, 11, "clock 11 min slow"), "fail", "11 min"),
    (
        "ADM-003",
        "two days slow",
        clock(-183_600, 3060, "clock 2 days 3 h slow"),
        "fail",
        "clock skew minutes: 3060 (at most 10) (clock 2 days 3 h slow)",
    ),
    (
        "ADM-003",
        "no receive time",
        lambda f: f["collector"].pop("clock_skew_minutes"),
        "unknown",
        "not in the report",
    ),
]


@pytest.mark.parametrize(
    ("rule_id", "case", "mutation", "expected", "evidence"),
    CASES,
    ids=[f"{c[0]}-{c[1]}" for c in CASES],
)
def test_rule(
    rule_id: str, case: str, mutation: Mutation | None, expected: str, evidence: str
) -> None:
    facts = clean_facts()
    if mutation is not None:
        mutation(facts)
    result = evaluate_rule(rule_id, POLICY, facts)
    assert result.status == expected, result.evidence
    assert evidence in " ".join(result.evidence)


def test_every_rule_has_a_pass_a_fail_and_an_unknown_case() -> None:
    covered: dict[str, set[str]] = {}
    for rule_id, _, _, expected, _ in CASES:
        covered.setdefault(rule_id, set()).add(expected)
    for rule_id in RULES:
        assert {"pass", "fail", "unknown"} <= covered.get(rule_id, set()), rule_id


def test_clean_device_is_compliant_and_agent_scope_skips_collector_rules() -> None:
    results = evaluate(POLICY, clean_facts())
    assert verdict(results) == "compliant", [(r.id, r.status) for r in results]
    assert not {"NET-008", "ADM-001", "ADM-002", "ADM-003"} & {r.id for r in results}
    everything = Evaluator(POLICY, load_catalogue(), BOTH_SCOPES).evaluate(clean_facts(), NOW)
    assert {"NET-008", "ADM-001", "ADM-002", "ADM-003"} <= {r.id for r in everything}


def test_disabled_rule_is_left_out_and_severity_override_applies() -> None:
    text = "[rules.NET-005]\nenabled = false\n[rules.SEC-002]\nseverity = 'low'\n"
    policy = parse_policy(text)
    results = {r.id: r for r in evaluate(policy, clean_facts())}
    assert "NET-005" not in results
    assert results["SEC-002"].severity == "low"


def test_an_empty_organisation_list_makes_the_rule_not_applicable() -> None:
    policy = parse_policy("[network]\nssids = []\n")
    result = evaluate_rule("NET-004", policy, clean_facts())
    assert result.status == "not_applicable"


def test_no_internal_targets_is_not_applicable_even_without_the_probe() -> None:
    """The default pack names none: NET-009 is N/A, also for a report of an older agent."""
    facts = clean_facts()
    facts["probes"].pop("isolation")
    result = evaluate_rule("NET-009", default_policy(), facts)
    assert result.status == "not_applicable", result.evidence


def test_a_failure_outranks_unknowns_in_other_checks() -> None:
    facts = clean_facts()
    unreadable("network", "dns_servers")(facts)
    setting(f"{NET}.dns_search_domains", ["example.ac.uk"])(facts)
    result = evaluate_rule("NET-003", POLICY, facts)
    assert result.status == "fail"


def test_verdict_order() -> None:
    facts = clean_facts()
    unreadable("device_security", "firewall_enabled")(facts)
    results = evaluate(POLICY, facts)
    assert verdict(results) == "unknown"
    setting(f"{PATCH}.reboot_pending", True)(facts)
    assert verdict(evaluate(POLICY, facts)) == "non_compliant"


def test_evaluation_is_pure() -> None:
    facts = clean_facts()
    before = copy.deepcopy(facts)
    first = evaluate(POLICY, facts)
    assert facts == before
    assert evaluate(POLICY, facts) == first
