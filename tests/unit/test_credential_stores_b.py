"""Known credential stores, part B: Wi-Fi, VPN, developer and CLI credentials (never a secret)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import plistlib
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.facts.context import Context, ParseError
from agent.facts.probes.credentials import probe, stores
from agent.facts.probes.credentials.stores import developer, networkmanager, vpn, wifi
from agent.facts.probes.credentials.stores.developer_cli import (
    domains_in,
    parse_aws_config,
    parse_azure_profile,
    parse_docker_config,
    parse_git_credentials,
    parse_netrc,
)
from agent.facts.probes.credentials.stores.developer_kerberos import (
    TicketCache,
    parse_keytab_principals,
    parse_klist,
    ticket_findings,
)
from agent.facts.probes.credentials.stores.developer_ssh import (
    hashed_host_is,
    host_block_match,
    host_candidates,
    key_header,
    parse_known_hosts,
    parse_ssh_config,
)
from agent.facts.probes.credentials.stores.networkmanager import (
    parse_nm_keyfile,
    parse_nmcli_connections,
    parse_nmcli_details,
)
from agent.facts.probes.credentials.stores.vpn_parse import (
    host_matches,
    parse_anyconnect_hosts,
    parse_gp_registry,
    parse_openvpn_remotes,
    parse_rasphone,
    parse_vpn_data,
    parse_wireguard_endpoints,
    parse_xml_hosts,
    plist_strings,
)
from agent.facts.probes.credentials.stores.wifi_parse import (
    WifiProfile,
    decode_nm_ssid,
    iwd_ssid,
    parse_iwd,
    parse_keyfile,
    parse_netplan_wifis,
    parse_netsh_profile_ssids,
    parse_wlan_details,
    parse_wlan_list,
    parse_wpa_supplicant,
    ps_quote,
    wifi_matches,
    yaml_leaves,
)
from agent.facts.runner import run_probe
from tests.replay import ReplayContext
from tests.unit.test_probe_fixtures import TEST_ORGANISATION, assert_matches, scan_settings

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "credentials"
MODULES: dict[str, ModuleType] = {
    "wifi": wifi,
    "vpn": vpn,
    "developer": developer,
    "networkmanager": networkmanager,
}
CASES = sorted(p for p in FIXTURES.glob("*/*.json") if p.name.split("_", 1)[0] in MODULES)
# Cases whose stores have no secret field at all (command output that never shows one).
NO_SECRET_FIELDS = {
    "darwin/wifi_match.json",
    "darwin/wifi_nomatch.json",
    "darwin/wifi_refused.json",
    "windows/wifi_match.json",
    "windows/wifi_german.json",
    "windows/wifi_nomatch.json",
    "windows/wifi_no_wlansvc.json",
    "linux/networkmanager_nmcli_fallback.json",
    "linux/networkmanager_denied.json",
    "linux/wifi_denied.json",
}
ORG = TEST_ORGANISATION


# ------------------------------------------------------------------------------ recorded cases
def _case_id(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def test_there_are_match_and_nomatch_cases_per_module_and_os() -> None:
    names = {_case_id(p) for p in CASES}
    for module in ("wifi", "vpn", "developer"):
        for os_name in ("linux", "darwin", "windows"):
            assert f"{os_name}/{module}_match.json" in names
            assert f"{os_name}/{module}_nomatch.json" in names
    assert {"linux/networkmanager_match.json", "linux/networkmanager_nomatch.json"} <= names


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_recorded_case(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each case runs through the real probe and runner with only its module's finders."""
    spec = json.loads(case.read_text(encoding="utf-8"))
    module = MODULES[case.name.split("_", 1)[0]]
    os_name = case.parent.name
    assert spec["context"]["os"] == os_name
    monkeypatch.setattr(stores, "finders_for", lambda name: module.FINDERS[name])
    ctx = ReplayContext(spec["context"])
    result = run_probe(ctx, probe(scan_settings(spec.get("scan", {}))))
    got: dict[str, Any] = {"status": result.status, "data": result.data, "error": result.error}
    assert result.error is None, result.error
    assert_matches(got, spec["expect"])
    raw = case.read_text(encoding="utf-8")
    if _case_id(case) not in NO_SECRET_FIELDS:
        assert "CANARY-" in raw, "a case with secret fields must plant canaries in them"
    report = json.dumps({"data": result.data, "error": result.error}, default=str)
    assert "CANARY" not in report, "a secret reached the probe's result"


@pytest.mark.system
@pytest.mark.skipif(sys.platform != "linux", reason="reads this Linux machine's real paths")
def test_real_home_on_this_machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Linux finders over a real home folder, through the real Context and runner."""
    home = tmp_path / "alice"
    files = {
        ".ssh/config": "Host uni\n  HostName login.example.ac.uk\n  IdentityFile ~/.ssh/id_uni\n",
        ".ssh/id_uni": "-----BEGIN OPENSSH PRIVATE KEY-----\nCANARY-real-ssh\n-----END OPENSSH",
        ".ssh/known_hosts": _hashed_line("ssh.example.ac.uk") + " ssh-ed25519 AAAA\n",
        ".git-credentials": "https://ab1234:CANARY-real-git@git.example.ac.uk\n",
        ".netrc": "machine ftp.example.ac.uk login ab1234 password CANARY-real-netrc\n",
        ".docker/config.json": '{"auths": {"registry.example.ac.uk": {"auth": "CANARY-real-d"}}}',
        "Downloads/uni.ovpn": "remote vpn.example.ac.uk 1194\n<key>\nCANARY-real-ovpn\n</key>\n",
        ".anyconnect": "<P><DefaultHostAddress>vpn.example.ac.uk.evil.com</DefaultHostAddress></P>",
    }
    for name, text in files.items():
        (home / name).parent.mkdir(parents=True, exist_ok=True)
        (home / name).write_text(text, encoding="utf-8")
    linux = tuple(f for m in MODULES.values() for f in m.FINDERS.get("linux", ()))
    monkeypatch.setattr(stores, "finders_for", lambda name: linux)
    result = run_probe(Context(), probe(scan_settings({"homes": [str(home)]})))
    assert result.status == "ok", result.error
    assert result.data is not None
    mine = {(f["store"], f["identity"]) for f in result.data["findings"] if f["location"][0] == "~"}
    assert mine == {
        ("ssh", "login.example.ac.uk"),
        ("ssh", "ssh.example.ac.uk"),
        ("git_credentials", "ab1234@git.example.ac.uk"),
        ("netrc", "ab1234@ftp.example.ac.uk"),
        ("docker", "registry.example.ac.uk"),
        ("openvpn", "vpn.example.ac.uk"),
    }
    assert "CANARY" not in json.dumps(result.data)


def _hashed_line(host: str) -> str:
    salt = b"outpost-test-salt-20"
    digest = hmac.new(salt, host.encode(), hashlib.sha1).digest()
    return f"|1|{base64.b64encode(salt).decode()}|{base64.b64encode(digest).decode()}"


def test_finders_are_exported_per_os() -> None:
    for module in (wifi, vpn, developer):
        assert set(module.FINDERS) == {"linux", "darwin", "windows"}
    assert set(networkmanager.FINDERS) == {"linux"}
    for module in MODULES.values():
        for finders in module.FINDERS.values():
            assert finders and all(callable(f) and f.__name__.startswith("find_") for f in finders)


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


# ------------------------------------------------------------------------------ git, netrc, CLIs
def test_git_credentials_never_keep_the_password() -> None:
    text = (
        "https://ab1234:SECRET12@git.example.ac.uk\nhttps://a%40example.ac.uk:SECRET13@github.com/x\n"
        "https://tok-SECRET14@gitlab.com\nnot a url\n"
    )
    logins = parse_git_credentials(text)
    assert [(x.user, x.host) for x in logins] == [
        ("ab1234", "git.example.ac.uk"),
        ("a@example.ac.uk", "github.com"),
        ("tok-SECRET14", "gitlab.com"),  # a user name, as git stores it (no ':')
    ]
    assert "SECRET12" not in repr(logins) and "SECRET13" not in repr(logins)


def test_netrc() -> None:
    text = (
        "machine a.example.ac.uk login u1 password SECRET15\nmacdef init\ncd SECRET16\n\n"
        'machine "b.test" account acct\npassword SECRET17 login u2\ndefault login anon password x\n'
    )
    logins = parse_netrc(text)
    assert [(x.host, x.user) for x in logins] == [("a.example.ac.uk", "u1"), ("b.test", "acct")]
    assert "SECRET" not in repr(logins)


def test_aws_azure_docker() -> None:
    aws = "[profile a]\nsso_start_url = https://x.awsapps.com/start\naws_secret_access_key = S18\n"
    assert parse_aws_config(aws) == [("profile a", "sso_start_url", "https://x.awsapps.com/start")]
    assert domains_in("arn:aws:iam::1:role/ops.example.ac.uk-admin") == ["ops.example.ac.uk"]
    azure = '\ufeff{"subscriptions": [{"user": {"name": "a@example.ac.uk"}, "tenantId": "t"}, 3]}'
    assert [(a.user, a.tenants) for a in parse_azure_profile(azure)] == [
        ("a@example.ac.uk", ("t",))
    ]
    with pytest.raises(ParseError):
        parse_azure_profile('{"installationId": "x"}')
    docker = '{"auths": {"r.example.ac.uk": {"auth": "SECRET19"}}, "credHelpers": {"gcr.io": "g"}}'
    assert parse_docker_config(docker) == ["r.example.ac.uk", "gcr.io"]
    with pytest.raises(ParseError):
        parse_docker_config("[]")


# ------------------------------------------------------------------------------ SSH
def test_ssh_config_blocks() -> None:
    text = (
        "User global\nHost a *.example.ac.uk !b\n  HostName %h.example.ac.uk\n  HostName ignored\n"
        '  IdentityFile "~/.ssh/my key"\nMatch host x\n  IdentityFile ~/.ssh/m\n'
        "Host j\n  ProxyJump u@bastion.example.ac.uk:2200,none\n"
    )
    blocks = parse_ssh_config(text)
    assert [b.patterns for b in blocks] == [("*",), ("a", "*.example.ac.uk", "!b"), (), ("j",)]
    assert blocks[1].hostname == "%h.example.ac.uk" and blocks[1].identity_files == [
        "~/.ssh/my key"
    ]
    assert host_block_match(blocks[1], ORG) == ("%h.example.ac.uk", "example.ac.uk")
    assert host_block_match(blocks[3], ORG) == ("bastion.example.ac.uk", "example.ac.uk")
    assert host_block_match(blocks[0], ORG) is None


def test_hashed_known_hosts_reference_sample() -> None:
    """The reference's real `ssh-keygen -H` line is login.cs.example-uni.ac.uk."""
    line = "|1|q4IK9hftUew4tH/f8ZLxN2CuVb8=|PTwBea9kZj5lVvnekvyzHhhCTXE= ssh-ed25519 AAAAC3Nz"
    plain, hashed = parse_known_hosts(line + "\n@revoked r.example.ac.uk ssh-rsa X\n[h]:2222 k X\n")
    assert plain == ["h"] and len(hashed) == 1
    salt, digest = hashed[0]
    assert hashed_host_is(salt, digest, "login.cs.example-uni.ac.uk")
    assert not hashed_host_is(salt, digest, "github.com")


def test_host_candidates_cover_common_names_and_named_hosts() -> None:
    candidates = host_candidates(ORG, ["cluster.cs.example.ac.uk", "*.example.ac.uk", "x.test"])
    assert {"example.ac.uk", "vpn.example.ac.uk", "login.example.ac.uk"} <= set(candidates)
    assert "cluster.cs.example.ac.uk" in candidates
    assert "*.example.ac.uk" not in candidates and "x.test" not in candidates
    salt = b"0123456789abcdefghij"
    digest = hmac.new(salt, b"gitlab.example.ac.uk", hashlib.sha1).digest()
    assert any(hashed_host_is(salt, digest, c) for c in candidates)


class _ReadLog(ReplayContext):
    """A recorded context that remembers how many bytes each read asked for."""

    def __init__(self, files: dict[str, str]) -> None:
        super().__init__({"os": "linux", "files": files})
        self.limits: list[int] = []

    def read_bytes(self, path: str, limit: int) -> bytes:
        self.limits.append(limit)
        return super().read_bytes(path, limit)


@pytest.mark.parametrize(
    ("content", "header", "max_read"),
    [
        ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n", "OPENSSH", 35),
        ("-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIFAKE\n", "EC", 30),
        ("PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\n", "PuTTY", 22),
        ("Host uni\n  HostName login.example.ac.uk\n", None, 22),
        ("-----BEGIN CERTIFICATE-----\nMIIB\n", None, 22),
    ],
)
def test_key_header_reads_no_byte_past_the_header(
    content: str, header: str | None, max_read: int
) -> None:
    ctx = _ReadLog({"/k": content})
    found = key_header(ctx, "/k")
    assert (found is None) if header is None else (header in str(found))
    assert max(ctx.limits) == max_read
    assert found is None or len(found) == max(ctx.limits)


# ------------------------------------------------------------------------------ Kerberos
def test_klist_formats() -> None:
    mit = (
        "Ticket cache: FILE:/tmp/krb5cc_1000\nDefault principal: a@AD.EXAMPLE.AC.UK\n\n"
        "Valid starting     Expires            Service principal\n"
        "11/21/26 20:59:13  11/22/26 20:59:13  krbtgt/AD.EXAMPLE.AC.UK@AD.EXAMPLE.AC.UK\n"
        "\trenew until 11/28/26 20:59:13\n\nTicket cache: KCM:1000:2\n"
        "Default principal: b@OTHER.TEST\n\n"
        "11/21/26 20:59:13  11/22/26 20:59:13  krbtgt/AD.EXAMPLE.AC.UK@OTHER.TEST\n"
    )
    caches = parse_klist(mit)
    assert [(c.name, c.principal, c.services) for c in caches] == [
        (
            "FILE:/tmp/krb5cc_1000",
            "a@AD.EXAMPLE.AC.UK",
            ["krbtgt/AD.EXAMPLE.AC.UK@AD.EXAMPLE.AC.UK"],
        ),
        ("KCM:1000:2", "b@OTHER.TEST", ["krbtgt/AD.EXAMPLE.AC.UK@OTHER.TEST"]),
    ]
    assert ticket_findings(caches[0], ORG) == [("a@AD.EXAMPLE.AC.UK", "AD.EXAMPLE.AC.UK")]
    # another realm's cross-realm TGT into the organisation's realm is the organisation's
    assert ticket_findings(caches[1], ORG) == [
        ("krbtgt/AD.EXAMPLE.AC.UK@OTHER.TEST", "AD.EXAMPLE.AC.UK")
    ]
    windows = (
        "Cached Tickets: (1)\r\n\r\n#0>\tClient: u @ AD.EXAMPLE.AC.UK\r\n"
        "\tServer: cifs/f.example.ac.uk @ AD.EXAMPLE.AC.UK\r\n"
    )
    (cache,) = parse_klist(windows)
    assert cache.principal == "u@AD.EXAMPLE.AC.UK"
    assert cache.services == ["cifs/f.example.ac.uk@AD.EXAMPLE.AC.UK"]
    assert parse_klist("Cached Tickets: (0)\r\n") == []
    other = TicketCache("c", "x@OTHER.TEST", ["HTTP/web.example.ac.uk@OTHER.TEST"])
    assert ticket_findings(other, ORG) == [("HTTP/web.example.ac.uk@OTHER.TEST", "example.ac.uk")]


def test_keytab_principals() -> None:
    text = "Keytab name: FILE:/k\nKVNO Principal\n---- ----\n   2 a@R\n   2 a@R\n   3 host/h@R\n"
    assert parse_keytab_principals(text) == ["a@R", "host/h@R"]


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
    parse_git_credentials,
    parse_netrc,
    parse_aws_config,
    parse_azure_profile,
    parse_docker_config,
    parse_ssh_config,
    parse_known_hosts,
    parse_klist,
    parse_keytab_principals,
]


@settings(max_examples=150, deadline=None)
@given(st.text(), st.integers(min_value=0, max_value=len(TEXT_PARSERS) - 1))
def test_parsers_return_or_raise_parse_error(text: str, index: int) -> None:
    with contextlib.suppress(ParseError):
        TEXT_PARSERS[index](text)


def test_known_hosts_bad_base64_is_skipped() -> None:
    bad = "|1|!!!|" + base64.b64encode(b"x").decode() + " ssh-rsa X\n"
    assert parse_known_hosts(bad) == ([], [])
