"""Pure macOS parsers on command output and file text (samples after platform-probes.md)."""

from __future__ import annotations

import contextlib
import json
import plistlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.facts.context import FactUnavailable, ParseError
from agent.facts.host.darwin import read_hardware_id
from agent.facts.host.darwin_parse import parse_platform_uuid
from agent.facts.probes.accounts.darwin_parse import (
    AdBinding,
    AdminGroup,
    PlatformSso,
    admin_group,
    domain_join,
    is_human,
    local_account,
    parse_app_sso_platform,
    parse_console_user,
    parse_dscl_record,
    parse_dscl_uids,
    parse_dsconfigad,
    platform_sso_identities,
    work_accounts,
)
from agent.facts.probes.base import Reading
from agent.facts.probes.device_security.darwin_parse import (
    parse_fdesetup_status,
    parse_screenlock_status,
    parse_socketfilterfw_state,
    parse_sp_firewall,
)
from agent.facts.probes.network.darwin_parse import (
    WifiState,
    parse_hardware_ports,
    parse_ipconfig_summary,
    parse_mount,
    parse_preferred_networks,
    parse_route_get,
    parse_scutil_dns,
    parse_scutil_nc_list,
    parse_system_profiler_airport,
    port_kind,
)
from agent.facts.probes.patch_level.darwin import read_os_identity
from agent.facts.probes.patch_level.darwin_parse import (
    AvailableUpdate,
    InstallRecord,
    auto_updates_from_prefs,
    is_security_update,
    is_system_update,
    load_xml_plist,
    parse_install_history,
    parse_software_update_prefs,
    parse_softwareupdate_list,
    parse_sw_vers,
)
from tests.replay import ReplayContext

# -- patch_level ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "version", "build", "extra"),
    [
        (
            "ProductName:\t\tmacOS\nProductVersion:\t\t14.6.1\nBuildVersion:\t\t23G93\n",
            "14.6.1",
            "23G93",
            None,
        ),
        (
            "ProductName:\t\tmacOS\nProductVersion:\t\t13.4.1\nProductVersionExtra:\t(c)\n"
            "BuildVersion:\t\t22F770820d\n",
            "13.4.1",
            "22F770820d",
            "(c)",
        ),
        ("ProductName: Mac OS X\nProductVersion: 10.15.7\n", "10.15.7", None, None),
    ],
)
def test_parse_sw_vers(text: str, version: str, build: str | None, extra: str | None) -> None:
    parsed = parse_sw_vers(text)
    assert (parsed.product_version, parsed.build_version, parsed.version_extra) == (
        version,
        build,
        extra,
    )


@pytest.mark.parametrize("text", ["", "ProductVersion: soon\n", "sw_vers: not found\n"])
def test_parse_sw_vers_rejects(text: str) -> None:
    with pytest.raises(ParseError):
        parse_sw_vers(text)


def _xml(value: Any) -> str:
    return plistlib.dumps(value, fmt=plistlib.FMT_XML).decode()


def test_parse_install_history_and_rule() -> None:
    text = _xml(
        [
            {"date": datetime(2024, 8, 8, 8, 12, 44), "displayName": "macOS Sonoma 14.6.1",
             "processName": "softwareupdated"},
            {"date": datetime(2024, 9, 3, 2, 0, 19), "displayName": "XProtectPlistConfigData",
             "processName": "softwareupdated", "contentType": "config-data"},
            {"date": datetime(2024, 9, 10), "displayName": "Slack", "processName": "appstoreagent"},
            {"displayName": "no date"},
            "not a dict",
        ]
    )  # fmt: skip
    records = parse_install_history(text)
    assert [r.name for r in records] == ["macOS Sonoma 14.6.1", "XProtectPlistConfigData", "Slack"]
    assert (
        records[0].installed_at == datetime.fromisoformat("2024-08-08T08:12:44+00:00").timestamp()
    )
    assert [is_system_update(r) for r in records] == [True, False, False]


@pytest.mark.parametrize(
    ("name", "process", "content_type", "counts"),
    [
        ("macOS Ventura 13.4.1", "Software Update", None, True),
        ("Security Update 2023-003", "installer", None, True),
        ("Rapid Security Response macOS 13.4.1 (c)", "softwareupdated", None, True),
        ("Safari", "softwareupdated", None, False),
        ("Command Line Tools for Xcode", "softwareupdated", None, False),
        ("MRTConfigData", "softwareupdated", "config-data", False),
        ("Microsoft Word", "installer", None, False),
    ],
)
def test_is_system_update(name: str, process: str, content_type: str | None, counts: bool) -> None:
    record = InstallRecord(name, None, process, content_type, 0.0)
    assert is_system_update(record) is counts


@pytest.mark.parametrize(
    "text",
    ["", "bplist00\x00\x01", "<plist><dict><key>a</key></plist>", "<?xml version='1.0'?><plist>"],
)
def test_load_xml_plist_rejects(text: str) -> None:
    with pytest.raises(ParseError):
        load_xml_plist(text, "test.plist")


def test_install_history_must_be_an_array() -> None:
    with pytest.raises(ParseError, match="not an array"):
        parse_install_history(_xml({"date": datetime(2024, 1, 1)}))
    with pytest.raises(ParseError, match="not a dictionary"):
        parse_software_update_prefs(_xml([1, 2]))


SU_LIST = (
    "Software Update Tool\n\nFinding available software\n"
    "Software Update found the following new or updated software:\n"
    "* Label: Command Line Tools for Xcode-15.3\n"
    "\tTitle: Command Line Tools for Xcode, Version: 15.3, Size: 728502KiB, Recommended: YES, \n"
    "* Label: macOS Sonoma 14.7-23H124\n"
    "\tTitle: macOS Sonoma 14.7, Version: 14.7, Size: 1566345KiB, Recommended: YES, "
    "Action: restart, \n"
    "* Label: Safari18.0SonomaAuto-18.0\n"
    "\tTitle: Safari, Version: 18.0, Size: 151237KiB, Recommended: YES,\n"
)


def test_parse_softwareupdate_list() -> None:
    updates = parse_softwareupdate_list(SU_LIST)
    assert updates == [
        AvailableUpdate("Command Line Tools for Xcode-15.3", "Command Line Tools for Xcode",
                        "15.3", None),
        AvailableUpdate("macOS Sonoma 14.7-23H124", "macOS Sonoma 14.7", "14.7", "restart"),
        AvailableUpdate("Safari18.0SonomaAuto-18.0", "Safari", "18.0", None),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("Software Update Tool\n\nFinding available software\n\nNo new software available.\n", 0),
        ("* Label: Foo-1.0\n", 1),  # a label without a Title line still counts
    ],
)
def test_parse_softwareupdate_list_counts(text: str, count: int) -> None:
    assert len(parse_softwareupdate_list(text)) == count


@pytest.mark.parametrize(
    "text",
    ["", "Software Update Tool\n\nFinding available software\nCan't connect.\n", "garbage"],
)
def test_parse_softwareupdate_list_rejects(text: str) -> None:
    with pytest.raises(ParseError):
        parse_softwareupdate_list(text)


@pytest.mark.parametrize(
    ("label", "title", "version", "action", "major", "security"),
    [
        ("macOS Sonoma 14.7-23H124", "macOS Sonoma 14.7", "14.7", "restart", 14, True),
        ("macOS Sequoia 15.0-24A335", "macOS Sequoia 15.0", "15.0", "restart", 14, False),
        ("macOS Sequoia 15.0-24A335", "macOS Sequoia 15.0", "15.0", "restart", None, True),
        ("Security Update 2024-003 (Ventura)", None, None, None, 13, True),
        ("Background Security Improvement-1", None, None, None, 26, True),
        ("Safari18.0SonomaAuto-18.0", "Safari", "18.0", None, 14, False),
        ("macOS Sonoma 14.7-23H124", "macOS Sonoma 14.7", "14.7", None, 14, False),
    ],
)
def test_is_security_update(
    label: str,
    title: str | None,
    version: str | None,
    action: str | None,
    major: int | None,
    security: bool,
) -> None:
    assert is_security_update(AvailableUpdate(label, title, version, action), major) is security


@pytest.mark.parametrize(
    ("prefs", "expected"),
    [
        ({"AutomaticCheckEnabled": True, "AutomaticallyInstallMacOSUpdates": True}, True),
        ({"AutomaticallyInstallMacOSUpdates": True}, True),
        ({"AutomaticallyInstallMacOSUpdates": False}, False),
        ({"AutomaticCheckEnabled": False, "AutomaticallyInstallMacOSUpdates": True}, False),
        ({"AutomaticDownload": False}, False),
        ({"AutomaticCheckEnabled": True}, None),
        ({}, None),
    ],
)
def test_auto_updates_from_prefs(prefs: dict[str, Any], expected: bool | None) -> None:
    if expected is None:
        with pytest.raises(FactUnavailable, match="AutomaticallyInstallMacOSUpdates"):
            auto_updates_from_prefs(prefs)
    else:
        assert auto_updates_from_prefs(prefs) is expected


def test_read_os_identity_never_raises() -> None:
    ctx = ReplayContext(
        {
            "os": "darwin",
            "commands": {"sw_vers": {"fails": "missing", "message": "sw_vers is not installed"}},
            "calls": {"kernel_release": "23.6.0"},
        }
    )
    identity = read_os_identity(Reading(ctx))
    assert (identity.os_id, identity.os_version, identity.kernel) == ("macos", None, "23.6.0")


# -- network --------------------------------------------------------------------------------

PORTS = """
Hardware Port: Ethernet Adapter (en4)
Device: en4
Ethernet Address: 2e:c4:1a:00:00:04

Hardware Port: Wi-Fi
Device: en0
Ethernet Address: a4:83:e7:12:34:56

Hardware Port: Bluetooth PAN
Device: en6

VLAN Configurations
===================
"""


def test_parse_hardware_ports() -> None:
    ports = parse_hardware_ports(PORTS)
    assert ports == {"en4": "Ethernet Adapter (en4)", "en0": "Wi-Fi", "en6": "Bluetooth PAN"}
    assert {d: port_kind(p) for d, p in ports.items()} == {
        "en4": "ethernet",
        "en0": "wifi",
        "en6": "other",
    }


@pytest.mark.parametrize(
    ("port", "kind"),
    [
        ("Wi-Fi", "wifi"),
        ("AirPort", "wifi"),
        ("USB 10/100/1000 LAN", "ethernet"),
        ("Thunderbolt Ethernet Slot 1", "ethernet"),
        ("Thunderbolt Bridge", "virtual"),
        ("iPhone USB", "cellular"),
        ("Thunderbolt 1", "other"),
    ],
)
def test_port_kind(port: str, kind: str) -> None:
    assert port_kind(port) == kind


def _summary(*lines: str) -> str:
    return "<dictionary> {\n" + "".join(f"  {line}\n" for line in lines) + "}\n"


@pytest.mark.parametrize(
    ("text", "state"),
    [
        (_summary("BSSID : 7c:21:0e:aa:bb:cc", "InterfaceType : WiFi", "SSID : Home Net"),
         WifiState("connected", "Home Net")),
        (_summary("InterfaceType : WiFi", "LinkStatusActive : TRUE", "SSID : <redacted>"),
         WifiState("hidden", None)),
        (_summary("InterfaceType : WiFi", "SSID : "), WifiState("hidden", None)),
        (_summary("InterfaceType : WiFi", "LinkStatusActive : FALSE"),
         WifiState("disconnected", None)),
        (_summary("InterfaceType : WiFi", "LinkStatusActive : TRUE"), WifiState("hidden", None)),
        (_summary("IPv4 : <array> {", "  0 : <dictionary> {", "    SSID : nested", "  }", "}",
                  "InterfaceType : WiFi", "LinkStatusActive : FALSE"),
         WifiState("disconnected", None)),
    ],
)  # fmt: skip
def test_parse_ipconfig_summary(text: str, state: WifiState) -> None:
    assert parse_ipconfig_summary(text) == state


@pytest.mark.parametrize(
    "text", ["", "ipconfig: en9: not found\n", _summary("InterfaceType : Ethernet")]
)
def test_parse_ipconfig_summary_rejects(text: str) -> None:
    with pytest.raises(ParseError):
        parse_ipconfig_summary(text)


def _airport(interface: dict[str, Any]) -> str:
    return json.dumps({"SPAirPortDataType": [{"spairport_airport_interfaces": [interface]}]})


@pytest.mark.parametrize(
    ("interface", "state"),
    [
        ({"_name": "en0", "spairport_status_information": "spairport_status_connected",
          "spairport_current_network_information": {"_name": "HomeNet"}},
         WifiState("connected", "HomeNet")),
        ({"_name": "en0", "spairport_status_information": "spairport_status_connected",
          "spairport_current_network_information": {"_name": "<redacted>"}},
         WifiState("hidden", None)),
        ({"_name": "en0", "spairport_status_information": "spairport_status_off"},
         WifiState("disconnected", None)),
        ({"_name": "en0"}, WifiState("hidden", None)),
    ],
)  # fmt: skip
def test_parse_system_profiler_airport(interface: dict[str, Any], state: WifiState) -> None:
    assert parse_system_profiler_airport(_airport(interface), "en0") == state


@pytest.mark.parametrize("text", ["", "{}", '{"SPAirPortDataType": 3}', _airport({"_name": "en1"})])
def test_parse_system_profiler_airport_rejects(text: str) -> None:
    with pytest.raises(ParseError):
        parse_system_profiler_airport(text, "en0")


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Preferred networks on en0:\n\tCorpWiFi\n\tHome Net\n", ["CorpWiFi", "Home Net"]),
        ("Preferred networks on en0:\n", []),
        ("No preferred wireless networks found on en0.\n", []),
    ],
)
def test_parse_preferred_networks(text: str, names: list[str]) -> None:
    assert parse_preferred_networks(text) == names


@pytest.mark.parametrize("text", ["", "en5 is not a Wi-Fi interface.\n", "** Error: ...\n"])
def test_parse_preferred_networks_rejects(text: str) -> None:
    with pytest.raises(ParseError):
        parse_preferred_networks(text)


ROUTE = """   route to: default
destination: default
       mask: default
    gateway: 192.168.1.1
  interface: en0
      flags: <UP,GATEWAY,DONE,STATIC,PRCLONING,GLOBAL>
"""


@pytest.mark.parametrize(
    ("text", "route"),
    [
        (ROUTE, ("192.168.1.1", "en0")),
        ("   route to: default\n  interface: utun4\n", (None, "utun4")),
        ("    gateway: link#12\n  interface: en0\n", (None, "en0")),
        ("route: writing to routing socket: not in table\n", (None, None)),
    ],
)
def test_parse_route_get(text: str, route: tuple[str | None, str | None]) -> None:
    assert parse_route_get(text) == route


DNS = """DNS configuration

resolver #1
  search domain[0] : corp.example.com
  search domain[1] : example.com
  nameserver[0] : 10.10.0.53
  nameserver[1] : fe80::1%15
  if_index : 6 (en0)

resolver #2
  domain   : local
  options  : mdns
  timeout  : 5

resolver #3
  domain   : vpn.example.org.
  nameserver[0] : 10.99.0.1

resolver #4
  domain   : 8.e.f.ip6.arpa
  options  : mdns

resolver #5
  domain   : 99.10.in-addr.arpa
  nameserver[0] : 10.99.0.1

DNS configuration (for scoped queries)

resolver #1
  search domain[0] : scoped.example.net
  nameserver[0] : 192.0.2.53
"""


def test_parse_scutil_dns() -> None:
    servers, domains = parse_scutil_dns(DNS)
    assert servers == ["10.10.0.53", "fe80::1", "10.99.0.1"]
    assert domains == ["corp.example.com", "example.com", "vpn.example.org"]


@pytest.mark.parametrize(
    ("text", "result"),
    [("No DNS configuration available\n", ([], [])), ("DNS configuration\n", ([], []))],
)
def test_parse_scutil_dns_empty(text: str, result: tuple[list[str], list[str]]) -> None:
    assert parse_scutil_dns(text) == result


NC = (
    "Available network connection services in the current set (*=enabled):\n"
    "* (Connected)      4F1D2C3B-1234-4ABC-9DEF-0123456789AB VPN "
    '(com.paloaltonetworks.GlobalProtect.client) "GlobalProtect"     '
    "[VPN/com.paloaltonetworks.GlobalProtect.client]\n"
    '* (Disconnected)   A1B2C3D4-5E6F-4A7B-8C9D-0E1F2A3B4C5D IPSec   "Corp IPSec"   [IPSec]\n'
    '  (Connected)      B2C3D4E5-6F70-4A8B-9C0D-1E2F3A4B5C6D PPP --> L2TP   "Old L2TP"   '
    "[PPP/L2TP]\n"
    '* (Connected)      C3D4E5F6-7081-4B9C-8D0E-2F3A4B5C6D7E VPN (com.wireguard.macos) "wg-home"\n'
    '* (Connecting)     D4E5F607-8192-4CAD-9E0F-3A4B5C6D7E8F VPN (com.example.vpn) "Other"  '
    "[VPN/com.example.vpn]\n"
)


def test_parse_scutil_nc_list() -> None:
    services = parse_scutil_nc_list(NC)
    assert [(s.state, s.name, s.kind) for s in services] == [
        ("Connected", "GlobalProtect", "globalprotect"),
        ("Disconnected", "Corp IPSec", "ipsec"),
        ("Connected", "Old L2TP", "l2tp"),
        ("Connected", "wg-home", "wireguard"),
        ("Connecting", "Other", "vpn"),
    ]


@pytest.mark.parametrize("text", ["", "garbage\n", '* (Connected) not-a-uuid VPN "x"\n'])
def test_parse_scutil_nc_list_rejects(text: str) -> None:
    with pytest.raises(ParseError):
        parse_scutil_nc_list(text)


MOUNT = """/dev/disk3s1s1 on / (apfs, sealed, local, read-only, journaled)
map auto_home on /System/Volumes/Data/home (autofs, automounted, nobrowse)
//alice@fs01.corp.example.com/projects on /Volumes/projects (smbfs, nodev, nosuid, mounted by alice)
//bob:Canary-S3cret@fs02.corp.example.com/home on /Volumes/home (smbfs, nodev, nosuid)
//GUEST:@nas.local/Public on /Volumes/Public (smbfs, nodev, nosuid, mounted by alice)
nas01.corp.example.com:/export/scratch on /Volumes/scratch (nfs, nodev, nosuid, mounted by alice)
//alice@fs03._afpovertcp._tcp.local/Media on /Volumes/Media (afpfs, nodev, nosuid)
https://dav.example.org/remote.php/webdav on /Volumes/webdav (webdav, nodev, noexec, nosuid)
"""


def test_parse_mount() -> None:
    shares = parse_mount(MOUNT)
    assert [(s.source, s.fstype, s.host) for s in shares] == [
        ("//alice@fs01.corp.example.com/projects", "smbfs", "fs01.corp.example.com"),
        ("//bob@fs02.corp.example.com/home", "smbfs", "fs02.corp.example.com"),
        ("//GUEST@nas.local/Public", "smbfs", "nas.local"),
        ("nas01.corp.example.com:/export/scratch", "nfs", "nas01.corp.example.com"),
        ("//alice@fs03._afpovertcp._tcp.local/Media", "afpfs", "fs03._afpovertcp._tcp.local"),
        ("https://dav.example.org/remote.php/webdav", "webdav", "dav.example.org"),
    ]
    assert shares[0].mountpoint == "/Volumes/projects"
    assert "Canary-S3cret" not in repr(shares)


def test_parse_mount_rejects() -> None:
    with pytest.raises(ParseError):
        parse_mount("this is not a mount table\n")


# -- accounts -------------------------------------------------------------------------------


def test_parse_dscl_uids() -> None:
    rows = parse_dscl_uids("_amavisd   83\nalice      501\nnobody     -2\nitadmin 502\n")
    assert rows == [("_amavisd", 83), ("alice", 501), ("nobody", -2), ("itadmin", 502)]
    assert [name for name, uid in rows if is_human(name, uid)] == ["alice", "itadmin"]


@pytest.mark.parametrize("text", ["", "alice\n", "alice five\n", "<html>\n"])
def test_parse_dscl_uids_rejects(text: str) -> None:
    with pytest.raises(ParseError):
        parse_dscl_uids(text)


RECORD = (
    "AuthenticationAuthority:\n"
    " ;LocalCachedUser;/Active Directory/CORP/corp.example.com:bob:E9F6E0ED-138E\n"
    " ;Kerberosv5;;bob@CORP.EXAMPLE.COM;CORP.EXAMPLE.COM;\n"
    "AltSecurityIdentities: PlatformSSO:Bob@Contoso.Example Kerberos:bob@CORP\n"
    "No such key: OriginalNodeName\n"
)


def test_parse_dscl_record() -> None:
    record = parse_dscl_record(RECORD)
    assert record["AuthenticationAuthority"][0].startswith(";LocalCachedUser;")
    assert platform_sso_identities(record) == ["Bob@Contoso.Example"]
    account = local_account("bob", 1104, record, AdminGroup(frozenset({"root"}), nested=False))
    assert (account.admin, account.enabled, account.source) == (False, True, "active_directory")


def test_admin_group_with_nested_groups() -> None:
    group = admin_group(
        parse_dscl_record("GroupMembership: root itadmin\nNestedGroups: ABCDEFAB-CDEF-ABCD\n")
    )
    assert group == AdminGroup(frozenset({"root", "itadmin"}), nested=True)
    assert local_account("itadmin", 502, None, group).admin is True
    assert local_account("bob", 1104, None, group).admin is None  # maybe admin via AD group
    flat = admin_group(parse_dscl_record("GroupMembership: root\nNo such key: NestedGroups\n"))
    assert local_account("bob", 1104, None, flat).admin is False


@pytest.mark.parametrize(
    ("authority", "enabled", "source"),
    [
        (";ShadowHash;HASHLIST:<SALTED-SHA512-PBKDF2>", True, "local"),
        (";DisabledUser; ;ShadowHash;HASHLIST:<SALTED-SHA512-PBKDF2>", False, "local"),
        (None, None, None),
    ],
)
def test_local_account(authority: str | None, enabled: bool | None, source: str | None) -> None:
    record = {"AuthenticationAuthority": authority.split()} if authority else None
    account = local_account("alice", 501, record, None)
    assert (account.admin, account.enabled, account.source) == (None, enabled, source)


@pytest.mark.parametrize("text", [" orphan value\n", "DS Error: -14136 (eDSRecordNotFound)\n"])
def test_parse_dscl_record_rejects(text: str) -> None:
    with pytest.raises(ParseError):
        parse_dscl_record(text)


@pytest.mark.parametrize(
    ("text", "name"),
    [("alice\n", "alice"), ("root\n", "root"), ("jane.doe@corp\n", "jane.doe@corp")],
)
def test_parse_console_user(text: str, name: str) -> None:
    assert parse_console_user(text) == name


@pytest.mark.parametrize("text", ["", "stat: /dev/console: No such file\n", "a b\n"])
def test_parse_console_user_rejects(text: str) -> None:
    with pytest.raises(ParseError):
        parse_console_user(text)


TENANT = "82dbaca4-3e81-46ca-9c73-0950c1eaca97"
APP_SSO = f"""Time: 2025-06-18 20:23:40 +0000

Device Configuration:
 {{
  "extensionIdentifier" : "com.microsoft.CompanyPortalMac.ssoextension",
  "registrationCompleted" : true
}}

Login Configuration:
 {{
  "issuer" : "https://login.microsoftonline.com/{TENANT.upper()}/v2.0"
}}

User Configuration:
 {{
  "kerberosStatus" : [
    {{
      "realm" : "KERBEROS.MICROSOFTONLINE.COM",
      "upn" : "foobar\\\\@contoso.onmicrosoft.com@KERBEROS.MICROSOFTONLINE.COM"
    }}
  ]
}}

SSO Tokens:
Received:
2025-06-18T20:22:55Z
"""
NULL_BLOCKS = "Device Configuration:\n (null)\n\nLogin Configuration:\n (null)\n"
PLIST_STYLE = (
    'Device Configuration:\n {\n    extensionIdentifier = "com.okta.mobile.auth-service-extension";'
    "\n    type = Credential;\n }\n"
)
NOT_REGISTERED = (
    "Device Configuration:\n {\n"
    '  "extensionIdentifier" : "com.microsoft.CompanyPortalMac.ssoextension",\n'
    '  "registrationCompleted" : false\n}\n\nLogin Configuration:\n (null)\n'
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (APP_SSO, PlatformSso(True, "com.microsoft.CompanyPortalMac.ssoextension", TENANT,
                              "foobar@contoso.onmicrosoft.com")),
        (NULL_BLOCKS, PlatformSso(False, None, None, None)),
        (PLIST_STYLE, PlatformSso(True, "com.okta.mobile.auth-service-extension", None, None)),
        (NOT_REGISTERED, PlatformSso(False, "com.microsoft.CompanyPortalMac.ssoextension", None,
                                     None)),
    ],
)  # fmt: skip
def test_parse_app_sso_platform(text: str, expected: PlatformSso) -> None:
    assert parse_app_sso_platform(text) == expected


def test_parse_app_sso_platform_rejects() -> None:
    with pytest.raises(ParseError):
        parse_app_sso_platform("app-sso: unknown verb\n")


DSCONFIGAD = """Active Directory Forest          = corp.example.com
Active Directory Domain          = corp.example.com
Computer Account                 = mbp-0042$
"""


@pytest.mark.parametrize(
    ("text", "domain"), [(DSCONFIGAD, "corp.example.com"), ("", None), ("\n\n", None)]
)
def test_parse_dsconfigad(text: str, domain: str | None) -> None:
    assert parse_dsconfigad(text) == AdBinding(domain)


def test_parse_dsconfigad_rejects() -> None:
    with pytest.raises(ParseError):
        parse_dsconfigad("dsconfigad: something went wrong\n")


ENTRA = PlatformSso(True, "com.microsoft.CompanyPortalMac.ssoextension", TENANT, None)
OKTA = PlatformSso(True, "com.okta.mobile.auth-service-extension", None, None)
CONFIGURED_ONLY = PlatformSso(False, "com.microsoft.CompanyPortalMac.ssoextension", None, None)


@pytest.mark.parametrize(
    ("ad", "sso", "joined", "kind", "tenant"),
    [
        (None, None, False, None, None),
        (None, CONFIGURED_ONLY, False, None, None),
        ("corp.example.com", None, True, "active_directory", None),
        ("corp.example.com", ENTRA, True, "hybrid", TENANT),
        (None, ENTRA, True, "entra", TENANT),
        (None, OKTA, True, "platform_sso", None),
    ],
)
def test_domain_join(
    ad: str | None, sso: PlatformSso | None, joined: bool, kind: str | None, tenant: str | None
) -> None:
    join = domain_join(AdBinding(ad), sso)
    assert (join.joined, join.kind, join.domain, join.tenant_id) == (joined, kind, ad, tenant)


def test_work_accounts_merge_case_insensitively() -> None:
    sso = PlatformSso(True, "com.microsoft.CompanyPortalMac.ssoextension", TENANT, "bob@x.example")
    records = [{"AltSecurityIdentities": ["PlatformSSO:Bob@X.example"]}, {}]
    accounts = work_accounts(records, sso)
    assert [(a.identity, a.provider, a.tenant_id) for a in accounts] == [
        ("bob@x.example", "entra", TENANT)
    ]
    assert work_accounts([{}], None) == []


# -- device_security ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "encrypted", "detail"),
    [
        ("FileVault is On.\n", True, "FileVault is On"),
        ("FileVault is Off.\n", False, "FileVault is Off"),
        ("FileVault is Off, but will be enabled after the next restart.\n", False,
         "FileVault is Off; it will be enabled after the next restart"),
        ("Encryption in progress: Percent completed = 37.4\n", False,
         "FileVault encryption in progress (37.4% done)"),
        ("FileVault is On.\nDecryption in progress: Percent completed = 12.0\n", False,
         "FileVault decryption in progress (12.0% done)"),
        ("FileVault is On.\nFileVault master keychain appears to be installed.\n", True,
         "FileVault is On"),
    ],
)  # fmt: skip
def test_parse_fdesetup_status(text: str, encrypted: bool, detail: str) -> None:
    assert parse_fdesetup_status(text) == (encrypted, detail)


@pytest.mark.parametrize(
    ("text", "enabled"),
    [
        ("Firewall is enabled. (State = 1)\n", True),
        ("Firewall is disabled. (State = 0)\n", False),
        ("Firewall is blocking all non-essential incoming connections. (State = 2)\n", True),
        ("Firewall is disabled.\n", False),
        ("Firewall is enabled.\n", True),
    ],
)
def test_parse_socketfilterfw_state(text: str, enabled: bool) -> None:
    assert parse_socketfilterfw_state(text)[0] is enabled


@pytest.mark.parametrize(
    ("state", "enabled"),
    [
        ("spfirewall_globalstate_allow_all", False),
        ("spfirewall_globalstate_limit_connections", True),
        ("spfirewall_globalstate_block_all", True),
    ],
)
def test_parse_sp_firewall(state: str, enabled: bool) -> None:
    text = f'{{"SPFirewallDataType":[{{"spfirewall_globalstate":"{state}"}}]}}'
    assert parse_sp_firewall(text)[0] is enabled


@pytest.mark.parametrize(
    ("text", "enabled"),
    [
        ("2024-06-12 09:41:07.531 sysadminctl[4821:113503] screenLock delay is immediate\n", True),
        (
            "2024-06-12 09:41:07.531 sysadminctl[4821:113503] screenLock delay is 300 seconds\n",
            True,
        ),
        ("2024-06-12 09:41:07.531 sysadminctl[4821:113503] screenLock is off\n", False),
        ("screenLock delay is off\n", False),
    ],
)
def test_parse_screenlock_status(text: str, enabled: bool) -> None:
    assert parse_screenlock_status(text)[0] is enabled


@pytest.mark.parametrize(
    "parser",
    [parse_fdesetup_status, parse_socketfilterfw_state, parse_sp_firewall, parse_screenlock_status],
)
def test_device_parsers_reject_nonsense(parser: Callable[[str], object]) -> None:
    with pytest.raises(ParseError):
        parser("lorem ipsum (State = 9) {")


# -- host -----------------------------------------------------------------------------------

IOREG = """+-o J314sAP  <class IOPlatformExpertDevice, id 0x100000110, registered, matched, active>
    {
      "IOPlatformSerialNumber" = "C02XXXXXXXXX"
      "IOPlatformUUID" = "564d0a3f-7e55-4b8a-9b1c-2d3e4f5a6b7c"
      "model" = <"MacBookPro18,3">
    }
"""


def test_parse_platform_uuid() -> None:
    assert parse_platform_uuid(IOREG) == "564D0A3F-7E55-4B8A-9B1C-2D3E4F5A6B7C"
    with pytest.raises(ParseError):
        parse_platform_uuid('"IOPlatformUUID" = "not-a-uuid"\n')


def test_read_hardware_id() -> None:
    argv = "ioreg -rd1 -c IOPlatformExpertDevice"
    ok = ReplayContext({"os": "darwin", "commands": {argv: {"rc": 0, "stdout": IOREG}}})
    assert read_hardware_id(ok) == "564D0A3F-7E55-4B8A-9B1C-2D3E4F5A6B7C"
    failed = ReplayContext({"os": "darwin", "commands": {argv: {"rc": 1, "stderr": "boom"}}})
    with pytest.raises(FactUnavailable, match="boom"):
        read_hardware_id(failed)


# -- any text: return or raise ParseError, never crash ----------------------------------------

PREFIXES = [
    "",
    "<?xml version='1.0'?>",
    '<plist version="1.0">',
    "<dictionary> {\n  ",
    "DNS configuration\n\nresolver #1\n  ",
    "Available network connection services in the current set (*=enabled):\n",
    "Preferred networks on en0:\n",
    "Device Configuration:\n ",
    "Software Update found the following new or updated software:\n* Label: ",
    '{"SPAirPortDataType":[{"spairport_airport_interfaces":[',
    '{"SPFirewallDataType":[',
]
arbitrary_text = st.builds(lambda prefix, body: prefix + body, st.sampled_from(PREFIXES), st.text())


def _tolerates(parsers: list[Callable[[str], object]], text: str) -> None:
    for parser in parsers:
        with contextlib.suppress(ParseError):
            parser(text)


@settings(max_examples=300)
@given(arbitrary_text)
def test_patch_parsers_never_crash(text: str) -> None:
    _tolerates(
        [
            parse_sw_vers,
            parse_install_history,
            parse_software_update_prefs,
            parse_softwareupdate_list,
        ],
        text,
    )


@settings(max_examples=300)
@given(arbitrary_text)
def test_network_parsers_never_crash(text: str) -> None:
    _tolerates(
        [
            parse_hardware_ports,
            parse_ipconfig_summary,
            lambda t: parse_system_profiler_airport(t, "en0"),
            parse_preferred_networks,
            parse_route_get,
            parse_scutil_dns,
            parse_scutil_nc_list,
            parse_mount,
        ],
        text,
    )


@settings(max_examples=300)
@given(arbitrary_text)
def test_accounts_parsers_never_crash(text: str) -> None:
    _tolerates(
        [
            parse_dscl_uids,
            parse_dscl_record,
            parse_console_user,
            parse_app_sso_platform,
            parse_dsconfigad,
            parse_platform_uuid,
        ],
        text,
    )


@settings(max_examples=300)
@given(arbitrary_text)
def test_device_security_parsers_never_crash(text: str) -> None:
    _tolerates(
        [
            parse_fdesetup_status,
            parse_socketfilterfw_state,
            parse_sp_firewall,
            parse_screenlock_status,
        ],
        text,
    )
