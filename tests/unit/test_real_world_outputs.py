"""Outputs captured on real machines by others (tests/fixtures/real_world) through the parsers."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agent.facts.context import ParseError
from agent.facts.probes import network, patch_level
from agent.facts.probes.accounts.windows_parse import parse_dsregcmd
from agent.facts.probes.device_security.darwin_parse import (
    parse_fdesetup_status,
    parse_socketfilterfw_state,
)
from agent.facts.probes.network.darwin_parse import parse_system_profiler_airport
from agent.facts.probes.network.windows_netsh_parse import (
    parse_netsh_profile_ssids,
    parse_netsh_profiles,
    parse_netsh_ssids,
)
from agent.facts.probes.network.windows_parse import network_doc, read_adapters
from agent.facts.probes.patch_level.darwin_parse import (
    is_security_update,
    is_system_update,
    parse_install_history,
    parse_softwareupdate_list,
)
from agent.facts.probes.patch_level.windows_parse import (
    DEFINITION_UPDATES,
    SECURITY_UPDATES,
    is_os_update,
)
from agent.facts.runner import run_probe
from agent.report import rfc3339
from tests.replay import ReplayContext
from tests.unit.test_rules import POLICY, clean_facts, evaluate_rule, ok

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
CORPUS = FIXTURES / "real_world"
CASES: list[dict[str, Any]] = tomllib.loads((CORPUS / "corpus.toml").read_text("utf-8"))["case"]


def _last_system_update(text: str) -> str:
    records = [r for r in parse_install_history(text) if is_system_update(r)]
    return rfc3339(max(r.installed_at for r in records)) if records else ""


def _airport(text: str, device: str) -> list[str]:
    state = parse_system_profiler_airport(text, device)
    return [state.state, state.ssid or ""]


def _updates(case: dict[str, Any]) -> Callable[[str], dict[str, list[str]]]:
    def read(text: str) -> dict[str, list[str]]:
        updates = parse_softwareupdate_list(text)
        security = [u.label for u in updates if is_security_update(u, case["major"])]
        return {"labels": [u.label for u in updates], "security": security}

    return read


def _parser(case: dict[str, Any]) -> Callable[[str], Any]:
    parsers: dict[str, Callable[[str], Any]] = {
        "netsh_profiles": parse_netsh_profiles,
        "netsh_ssids": parse_netsh_ssids,
        "netsh_profile_ssids": parse_netsh_profile_ssids,
        "softwareupdate_list": _updates(case),
        "install_history": _last_system_update,
        "fdesetup": lambda text: list(parse_fdesetup_status(text)),
        "socketfilterfw": lambda text: list(parse_socketfilterfw_state(text)),
        "airport": lambda text: _airport(text, case["device"]),
        "dsregcmd": lambda text: {k: parse_dsregcmd(text).get(k) for k in case["expect"]},
    }
    return parsers[case["parser"]]


def _expected(case: dict[str, Any]) -> Any:
    if case["parser"] == "softwareupdate_list":
        return {"labels": case["labels"], "security": case["security"]}
    return case["expect"]


@pytest.mark.parametrize("case", CASES, ids=lambda case: str(case["file"]))
def test_real_world_output(case: dict[str, Any]) -> None:
    for key in ("file", "parser", "source", "os", "locale"):
        assert case.get(key), f"{case.get('file')}: no {key} recorded"
    text = (CORPUS / case["file"]).read_text(encoding="utf-8")
    if "error" in case:
        with pytest.raises(ParseError, match=case["error"]):
            _parser(case)(text)
    else:
        assert _parser(case)(text) == _expected(case)


def test_every_capture_has_a_case() -> None:
    files = {str(p.relative_to(CORPUS)) for p in CORPUS.glob("*/*/*") if p.is_file()}
    assert files == {case["file"] for case in CASES}


@pytest.mark.parametrize(
    "case", [c for c in CASES if c["parser"] == "netsh_profiles"], ids=lambda c: str(c["file"])
)
def test_netsh_profiles_survive_windows_line_ends_and_a_bom(case: dict[str, Any]) -> None:
    """PowerShell's Out-String gives CRLF; a redirected file may start with a byte-order mark."""
    text = (CORPUS / case["file"]).read_text(encoding="utf-8")
    assert parse_netsh_profiles("\ufeff" + text.replace("\n", "\r\n")) == case["expect"]


# Get-NetAdapter rows with the values real machines printed (Format-List captures in
# https://github.com/saltstack/salt/issues/56275, an OpenVPN TAP adapter whose InterfaceType is 53
# per saltstack/salt#56337, and https://github.com/raspi/WinLLDPService/issues/25, an HP NIC),
# in the shape NETWORK_SCRIPT gives them: the property names and value formats are those.
@pytest.mark.parametrize(
    ("row", "kind", "up", "mac"),
    [
        (
            {"ifIndex": 13, "Name": "Local Area Connection",
             "Description": "TAP-Windows Adapter V9", "MacAddress": "00-FF-11-A1-11-C7",
             "Status": "Disconnected", "MediaType": "802.3", "PhysicalMediaType": "Unspecified",
             "InterfaceType": 53},
            "vpn", False, "00:ff:11:a1:11:c7",
        ),
        (
            {"ifIndex": 12, "Name": "Ethernet",
             "Description": "HP NC532i Dual Port 10GbE Multifunction BL-c Adapter #47",
             "MacAddress": "D8-D3-85-DE-36-00", "Status": "Up", "MediaType": "802.3",
             "PhysicalMediaType": "802.3"},
            "ethernet", True, "d8:d3:85:de:36:00",
        ),
    ],
)  # fmt: skip
def test_get_netadapter_rows_as_real_machines_print_them(
    row: dict[str, Any], kind: str, up: bool, mac: str
) -> None:
    text = json.dumps({"adapters": {"ok": True, "value": {"Adapters": [row]}}})
    [adapter] = read_adapters(network_doc(text))
    assert (adapter.kind, adapter.up, adapter.mac) == (kind, up, mac)


def test_french_netsh_through_the_probe_fails_net_005_on_eduroam() -> None:
    """The French capture (U+00A0 before the colon), run through the network probe and the
    Evaluator: the saved eduroam profile is found and named (it was the whole line before)."""
    case = json.loads((FIXTURES / "network" / "windows" / "french_netsh_real.json").read_text())
    result = run_probe(ReplayContext(case["context"]), network.PROBE)
    facts = clean_facts()
    facts["probes"]["network"] = ok(result.data or {})
    outcome = evaluate_rule("NET-005", POLICY, facts)
    assert outcome.status == "fail"
    assert "eduroam" in " ".join(outcome.evidence)


def test_command_line_tools_alone_leave_patch_001_unknown() -> None:
    """A real 10.15 history whose only softwareupdated install is Command Line Tools: PATCH-001
    is unknown, not a pass dated by the developer tools."""
    path = FIXTURES / "patch_level" / "darwin" / "catalina_clt_only_real.json"
    result = run_probe(ReplayContext(json.loads(path.read_text())["context"]), patch_level.PROBE)
    facts = clean_facts()
    facts["probes"]["patch_level"] = ok(result.data or {})
    outcome = evaluate_rule("PATCH-001", POLICY, facts)
    assert outcome.status == "unknown"
    assert "no macOS or security update" in " ".join(outcome.evidence)


def test_french_profiles_decoded_with_the_wrong_code_page_still_split() -> None:
    """Should netsh write another code page than PowerShell decodes (UTF-8), U+00A0 arrives as
    U+FFFD: the label still ends at the colon."""
    text = (CORPUS / "windows" / "netsh" / "profiles-fr.txt").read_text(encoding="utf-8")
    names = parse_netsh_profiles(text.replace("\u00a0", "\ufffd"))
    assert names == ["Profile1 2", "Profile2", "Profile3", "Profile4", "Profile5", "Profile6"]


# Update titles as Windows Update listed them on real machines (ansible-collections/
# ansible.windows#180, a Windows Server 2019 log; potatoqualitee/kbupdate#153): which ones count
# as the last OS update. The classification IDs beside them are the ones Microsoft gives those
# kinds of update (the logs do not print them).
UPDATE_ROLLUPS = "28bc880e-0592-4cbf-8f95-c79b17911d5f"
UPDATES = "cd5ffd1e-e932-4e3a-bf74-18bf0b1bbd83"


@pytest.mark.parametrize(
    ("title", "category", "counts"),
    [
        ("2021-02 Cumulative Update for Windows Server 2019 (1809) for x64-based Systems "
         "(KB4601345)", SECURITY_UPDATES, True),
        ("2021-02 Cumulative Update for .NET Framework 3.5, 4.7.2 and 4.8 for Windows Server 2019 "
         "for x64 (KB4601887)", SECURITY_UPDATES, True),
        ("Windows Malicious Software Removal Tool x64 - v5.86 (KB890830)", UPDATE_ROLLUPS, False),
        ("Security Intelligence Update for Microsoft Defender Antivirus - KB2267602 "
         "(Version 1.331.789.0)", DEFINITION_UPDATES, False),
        ("Update for Windows Security platform - KB5007651 (Version 1.0.2207.20002)", UPDATES,
         False),
    ],
)  # fmt: skip
def test_real_update_titles(title: str, category: str, counts: bool) -> None:
    assert is_os_update({category}, title, "UpdateOrchestrator") is counts
