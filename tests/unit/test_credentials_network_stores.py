"""Wi-Fi, NetworkManager and VPN credential stores: saved networks and VPN servers, no secret."""

from __future__ import annotations

import contextlib
import json
import plistlib
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.facts.context import ParseError
from agent.facts.probes.credentials.stores import networkmanager, vpn, wifi
from agent.facts.probes.credentials.stores.networkmanager_parse import (
    parse_nm_keyfile,
    parse_nmcli_connections,
    parse_nmcli_details,
)
from agent.facts.probes.credentials.stores.vpn_parse import (
    host_matches,
    openvpn_gui_hits,
    parse_anyconnect_hosts,
    parse_gp_registry,
    parse_openvpn_remotes,
    parse_rasphone,
    parse_vpn_data,
    parse_wireguard_endpoints,
    parse_xml_hosts,
    plist_strings,
)
from agent.facts.probes.credentials.stores.wifi import ps_quote
from agent.facts.probes.credentials.stores.wifi_parse import (
    WifiProfile,
    decode_nm_ssid,
    iwd_ssid,
    parse_iwd,
    parse_keyfile,
    parse_netplan_wifis,
    parse_wpa_supplicant,
    wifi_matches,
    yaml_leaves,
)
from agent.facts.probes.credentials.stores.wlan_parse import (
    parse_netsh_profile_ssids,
    parse_wlan_details,
    parse_wlan_list,
)
from tests.unit.test_probe_fixtures import TEST_ORGANISATION, check_recorded_module_case

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "credentials"
MODULES: dict[str, ModuleType] = {"wifi": wifi, "vpn": vpn, "networkmanager": networkmanager}
CASES = sorted(p for p in FIXTURES.glob("*/*.json") if p.name.split("_", 1)[0] in MODULES)
ORG = TEST_ORGANISATION
# Cases whose stores have no secret field at all (command output that never shows one).
NO_SECRET_FIELDS = {
    "darwin/wifi_match.json",
    "darwin/wifi_nomatch.json",
    "darwin/wifi_refused.json",
    "windows/wifi_match.json",
    "windows/wifi_german.json",
    "windows/wifi_french_real.json",
    "windows/wifi_nomatch.json",
    "windows/wifi_no_wlansvc.json",
    "linux/networkmanager_nmcli_fallback.json",
    "linux/networkmanager_denied.json",
    "linux/wifi_denied.json",
}


# ------------------------------------------------------------------------------ recorded cases
def _case_id(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def test_there_are_match_and_nomatch_cases_per_module_and_os() -> None:
    names = {_case_id(p) for p in CASES}
    for module in ("wifi", "vpn"):
        for os_name in ("linux", "darwin", "windows"):
            assert f"{os_name}/{module}_match.json" in names
            assert f"{os_name}/{module}_nomatch.json" in names
    assert {"linux/networkmanager_match.json", "linux/networkmanager_nomatch.json"} <= names


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_recorded_case(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each case runs through the real probe and runner with only its module's finders."""
    module = MODULES[case.name.split("_", 1)[0]]
    plants = _case_id(case) not in NO_SECRET_FIELDS
    check_recorded_module_case(case, module, monkeypatch, plants_canaries=plants)


# ------------------------------------------------------------------------------ Wi-Fi parsers
def test_keyfile_keeps_only_allowed_keys_and_splits_on_the_first_equals() -> None:
    text = "[vpn-secrets]\nform:main:password=SECRET1\n[802-1x]\nidentity=a\\sb@example.ac.uk\n"
    sections = parse_keyfile(text, lambda section, key: key in ("identity", "form:main:password"))
    assert sections["802-1x"] == {"identity": "a b@example.ac.uk"}
    assert sections["vpn-secrets"] == {"form:main:password": "SECRET1"}  # keep() decides
    assert parse_keyfile(text, lambda s, k: k == "identity") == {
        "vpn-secrets": {},
        "802-1x": {"identity": "a b@example.ac.uk"},
    }


@pytest.mark.parametrize(
    ("raw", "ssid"),
    [("eduroam", "eduroam"), ("101;100;117;114;111;97;109;", "eduroam"), ("1;2;x", "1;2;x")],
)
def test_nm_ssid(raw: str, ssid: str) -> None:
    assert decode_nm_ssid(raw) == ssid


def test_yaml_leaves_subset() -> None:
    text = (
        "network:\n  wifis:\n    wl0:\n      addresses:\n        - 192.0.2.1/24\n"
        "        - label: x\n          identity: in-a-list\n"
        "      access-points:\n        'it''s':\n          auth:\n"
        '            identity: "ab@example.ac.uk" # comment\n'
        "            password: |\n              SECRET-BLOCK\n            method: peap\n"
    )
    leaves = dict(yaml_leaves(text, lambda p: p[-1] in ("identity", "method")))
    assert leaves[("network", "wifis", "wl0", "access-points", "it's", "auth", "identity")] == (
        "ab@example.ac.uk"
    )
    assert leaves[("network", "wifis", "wl0", "access-points", "it's", "auth", "method")] == "peap"
    assert leaves[("network", "wifis", "wl0", "addresses", "-", "identity")] == "in-a-list"
    assert "SECRET-BLOCK" not in repr(leaves)


def test_netplan_wifis() -> None:
    text = (
        "network:\n  version: 2\n  wifis:\n    NM-1:\n      access-points:\n"
        '        "eduroam":\n          auth:\n'
        '            anonymous-identity: "anon@example.ac.uk"\n'
        '            identity: "ab1234@example.ac.uk"\n            password: "SECRET2"\n'
        "        Home Net:\n          password: SECRET3\n"
    )
    profiles = parse_netplan_wifis(text)
    assert profiles == [
        WifiProfile("eduroam", "eduroam", ("ab1234@example.ac.uk", "anon@example.ac.uk")),
        WifiProfile("Home Net", "Home Net"),
    ]
    assert "SECRET" not in repr(profiles)


def test_wpa_supplicant() -> None:
    text = (
        'network={\n ssid="eduroam"\n identity="ab@example.ac.uk"\n password="SECRET4"\n}\n'
        'network={\n ssid=486f6d65\n psk="SECRET5"\n}\nnetwork={\n ssid=P"Caf\\xc3\\xa9"\n}\n'
    )
    profiles = parse_wpa_supplicant(text)
    assert [p.ssid for p in profiles] == ["eduroam", "Home", "CafÃ©"]
    assert profiles[0].identities == ("ab@example.ac.uk",)
    assert "SECRET" not in repr(profiles)


def test_iwd() -> None:
    assert iwd_ssid("=4578616d706c65.psk") == "Example"
    assert iwd_ssid("eduroam.8021x") == "eduroam"
    text = (
        "[Security]\nEAP-Identity=anon@example.ac.uk\nEAP-TTLS-Phase2-Identity=ab@example.ac.uk\n"
        "EAP-TTLS-Phase2-Password=SECRET6\n"
    )
    profile = parse_iwd("eduroam.8021x", text)
    assert profile.identities == ("ab@example.ac.uk", "anon@example.ac.uk")
    assert "SECRET" not in repr(profile)


@pytest.mark.parametrize(
    ("text", "ssids"),
    [
        (
            '    Name                   : eduroam\r\n    SSID name              : "eduroam"\r\n',
            ["eduroam"],
        ),
        (
            '    SSID-Name              : "Example-Staff"\n    Typ : Drahtlos-LAN\n',
            ["Example-Staff"],
        ),
        ('    Nom du SSID            : "a : b"\n', ["a : b"]),
        ('Profile "x" is not found on any interface.\n', []),
    ],
)
def test_netsh_profile_ssids(text: str, ssids: list[str]) -> None:
    assert parse_netsh_profile_ssids(text) == ssids


def test_wlan_scripts_json() -> None:
    listing = json.dumps(
        {"ExitCode": 0, "Text": "\r\nUser profiles\r\n---\r\n    All User Profile : eduroam\r\n"}
    )
    assert parse_wlan_list(listing) == ["eduroam"]
    stopped = json.dumps(
        {"ExitCode": 1, "Text": "The Wireless AutoConfig Service (wlansvc) is not running."}
    )
    assert parse_wlan_list(stopped) is None
    single = json.dumps({"Profiles": {"Name": "x", "ExitCode": 0, "Text": '    SSID name : "y"'}})
    assert parse_wlan_details(single) == {"x": ["y"]}
    with pytest.raises(ParseError):
        parse_wlan_details("not json")
    assert ps_quote("it's") == "'it''s'"


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        (WifiProfile("e", "EDUROAM"), [("wifi_profile", "EDUROAM", "eduroam")]),
        (WifiProfile("e", "eduroam-guest"), []),
        (WifiProfile("e", "x", ("bob@example.ac.uk.evil.com",)), []),
        (WifiProfile("e", "x", ("bob@notexample.ac.uk",), ("radius.badexample.ac.uk",)), []),
        (
            WifiProfile("e", "x", ("anon@ad.example.ac.uk",)),
            [("wifi_8021x", "anon@ad.example.ac.uk", "AD.EXAMPLE.AC.UK")],
        ),
        (
            WifiProfile("e", "x", ("anonymous",), ("radius.example.ac.uk",)),
            [("wifi_8021x", "radius.example.ac.uk", "example.ac.uk")],
        ),
    ],
)
def test_wifi_matches(profile: WifiProfile, expected: list[tuple[str, str, str]]) -> None:
    assert wifi_matches(profile, ORG) == expected


# ------------------------------------------------------------------------------ NetworkManager
def test_nm_keyfile_vpn_and_wireguard() -> None:
    vpn_text = (
        "[connection]\nid=v\nuuid=u1\ntype=vpn\n[vpn]\nremote=a.example.ac.uk:1194, b.test\n"
        "service-type=org.freedesktop.NetworkManager.openvpn\n[vpn-secrets]\npassword=SECRET7\n"
    )
    conn = parse_nm_keyfile(vpn_text)
    assert conn.vpn_hosts == ("a.example.ac.uk:1194", "b.test")
    assert "SECRET" not in repr(conn)
    wg_text = (
        "[connection]\nid=w\nuuid=u2\ntype=wireguard\n[wireguard]\nprivate-key=SECRET8\n"
        "[wireguard-peer.PUBKEY=]\nendpoint=wg.example.ac.uk:51820\npreshared-key=SECRET9\n"
    )
    conn = parse_nm_keyfile(wg_text)
    assert conn.vpn_hosts == ("wg.example.ac.uk:51820",)
    assert "SECRET" not in repr(conn)
    with pytest.raises(ParseError):
        parse_nm_keyfile("[wifi]\nssid=x\n")


def test_nmcli_terse() -> None:
    rows = parse_nmcli_connections("a\\:b:uuid-1:vpn\nbroken\n")
    assert rows == [("a:b", "uuid-1", "vpn")]
    details = parse_nmcli_details(
        "a:b", "uuid-1", "vpn", "vpn.data:gateway = https\\://vpn.example.ac.uk/x, user-name = u\n"
    )
    assert details.vpn_hosts == ("https://vpn.example.ac.uk/x",)
    assert parse_vpn_data("gateway = g, IPSec gateway = h, Xauth username = u") == {
        "gateway": "g",
        "IPSec gateway": "h",
        "Xauth username": "u",
    }


# ------------------------------------------------------------------------------ VPN parsers
def test_openvpn_remotes_skip_inline_blocks() -> None:
    text = (
        "remote a.example.ac.uk 1194\n<key>\nremote SECRET10\n</key>\n<connection>\n"
        "remote b.example.ac.uk 443 tcp\n</connection>\n# remote c.test\n"
    )
    assert parse_openvpn_remotes(text) == ["a.example.ac.uk", "b.example.ac.uk"]


def test_anyconnect_and_xml_hosts() -> None:
    text = (
        "<AnyConnectProfile><ServerList><HostEntry><HostName>Staff VPN</HostName>"
        "<HostAddress>vpn.example.ac.uk</HostAddress></HostEntry></ServerList></AnyConnectProfile>"
    )
    assert parse_anyconnect_hosts(text) == ["Staff VPN", "vpn.example.ac.uk"]
    assert host_matches(parse_anyconnect_hosts(text), ORG) == [
        ("vpn.example.ac.uk", "example.ac.uk")
    ]
    with pytest.raises(ParseError):
        parse_anyconnect_hosts("plain text")
    assert parse_xml_hosts("<a><Portal> gp.example.ac.uk </Portal><b>yes</b></a>") == [
        "gp.example.ac.uk"
    ]


def test_plist_strings_binary_and_bad() -> None:
    data = plistlib.dumps(
        {"PanSetup": {"Portal": "gp.example.ac.uk", "n": 1}}, fmt=plistlib.FMT_BINARY
    )
    assert plist_strings(data) == ["PanSetup", "Portal", "gp.example.ac.uk", "n"]
    with pytest.raises(ParseError):
        plist_strings(b"nope")


def test_wireguard_rasphone_gp() -> None:
    wg_text = "[Interface]\nPrivateKey = SECRET11\n[Peer]\nEndpoint = wg.example.ac.uk:51820 # x\n"
    assert parse_wireguard_endpoints(wg_text) == ["wg.example.ac.uk:51820"]
    pbk = "[A]\nPhoneNumber=ras.example.ac.uk\n[B]\nPhoneNumber=\n"
    assert parse_rasphone(pbk) == [("A", "ras.example.ac.uk")]
    doc = json.dumps({"Keys": {"Key": "HKLM\\X", "Values": "gp.example.ac.uk"}})
    assert parse_gp_registry(doc) == [("HKLM\\X", "gp.example.ac.uk")]
    with pytest.raises(ParseError):
        parse_gp_registry("<xml/>")


@pytest.mark.parametrize(
    ("hosts", "expected"),
    [
        (["https://vpn.example.ac.uk/staff"], [("vpn.example.ac.uk", "example.ac.uk")]),
        (["vpn.example.ac.uk.evil.com", "notexample.ac.uk", "Example VPN"], []),
        (["VPN.EXAMPLE.AC.UK:443", "vpn.example.ac.uk"], [("vpn.example.ac.uk", "example.ac.uk")]),
    ],
)
def test_host_matches(hosts: list[str], expected: list[tuple[str, str]]) -> None:
    assert host_matches(hosts, ORG) == expected


# ------------------------------------------------------------------------------ robustness
TEXT_PARSERS = [
    lambda t: parse_keyfile(t, lambda s, k: True),
    lambda t: yaml_leaves(t, lambda p: True),
    parse_netplan_wifis,
    parse_wpa_supplicant,
    lambda t: parse_iwd("x.8021x", t),
    parse_netsh_profile_ssids,
    parse_wlan_list,
    parse_wlan_details,
    parse_nm_keyfile,
    parse_nmcli_connections,
    lambda t: parse_nmcli_details("n", "u", "vpn", t),
    parse_openvpn_remotes,
    parse_anyconnect_hosts,
    parse_xml_hosts,
    lambda t: plist_strings(t.encode()),
    parse_wireguard_endpoints,
    parse_rasphone,
    parse_vpn_data,
    parse_gp_registry,
]


@settings(max_examples=150, deadline=None)
@given(st.text(), st.integers(min_value=0, max_value=len(TEXT_PARSERS) - 1))
def test_parsers_return_or_raise_parse_error(text: str, index: int) -> None:
    with contextlib.suppress(ParseError):
        TEXT_PARSERS[index](text)


def test_openvpn_gui_saved_user_names() -> None:
    """A saved user name counts when it or the connection's name is the organisation's."""
    rows = [
        ("uni", "alice.smith@example.ac.uk", True),
        ("vpn.example.ac.uk", "ab1234", False),
        ("home-router", "me", True),
        ("vpn.example.ac.uk.evil.test", "ab1234", True),
    ]
    doc = {
        "Sessions": [
            {"Key": f"K\\{name}", "HostName": name, "UserName": user, "HasPassword": saved}
            for name, user, saved in rows
        ]
    }
    assert openvpn_gui_hits(json.dumps(doc), ORG) == [
        ("K\\uni", ("saved_login", "alice.smith@example.ac.uk (uni)", "example.ac.uk")),
        ("K\\vpn.example.ac.uk", ("saved_session", "ab1234@vpn.example.ac.uk", "example.ac.uk")),
    ]
    with pytest.raises(ParseError, match="OpenVPN GUI"):
        openvpn_gui_hits("Access is denied.", ORG)
