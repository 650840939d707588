"""Pure parsers of the Windows probes: PowerShell JSON parts, netsh and dsregcmd text."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.facts.context import AccessDenied, FactUnavailable, ParseError
from agent.facts.host.windows import read_hardware_id
from agent.facts.probes.accounts import windows_parse as accounts
from agent.facts.probes.device_security import windows_parse as security
from agent.facts.probes.network import windows_parse as net
from agent.facts.probes.patch_level import windows_parse as patch
from agent.facts.probes.powershell import ps_text
from agent.facts.probes.powershell_parse import part, ps_date, ps_list
from tests.replay import ReplayContext

SEC = "0fa1201d-4330-4fa8-8ae9-b877473b6441"
DEF = "e0789628-ce08-4437-be74-2495b842f43b"


def ok(value: Any) -> dict[str, Any]:
    return {"ok": True, "value": value}


def doc(**parts: Any) -> str:
    return json.dumps(parts)


def replay(commands: dict[str, Any]) -> ReplayContext:
    return ReplayContext({"os": "windows", "commands": commands})


# -- shared helpers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-06-12T07:01:13.0000000Z", "2024-06-12T07:01:13Z"),
        ("2024-06-12T09:01:13.5+02:00", "2024-06-12T07:01:13Z"),
        ("2024-06-12T03:14:07.0000000", "2024-06-12T03:14:07Z"),  # no zone: taken as UTC
        ("/Date(1718092800000)/", "2024-06-11T08:00:00Z"),
        ("\\/Date(1718092800000)\\/", "2024-06-11T08:00:00Z"),
        ("1899-12-30T00:00:00.0000000", None),  # COM "no date"
        ("1601-01-01T00:00:00.0000000Z", None),
        (None, None),
        ("", None),
    ],
)
def test_ps_date(raw: str | None, expected: str | None) -> None:
    assert ps_date(raw) == expected


@pytest.mark.parametrize("raw", ["yesterday", "2024-13-45T00:00:00", 1718092800, ["2024-06-12"]])
def test_ps_date_rejects(raw: Any) -> None:
    with pytest.raises(ParseError):
        ps_date(raw)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, []), ([1, 2], [1, 2]), ({"a": 1}, [{"a": 1}]), ("x", ["x"])],
)
def test_ps_list_undoes_powershell_collapsing(value: Any, expected: list[Any]) -> None:
    assert ps_list(value, "what") == expected


@pytest.mark.parametrize("value", ["System.Object[]", "System.Collections.Hashtable", True])
def test_ps_list_rejects_truncation_and_odd_types(value: Any) -> None:
    with pytest.raises(ParseError):
        ps_list(value, "what")


@pytest.mark.parametrize(
    ("section", "error"),
    [
        ({"ok": False, "denied": True, "error": "Access denied"}, AccessDenied),
        ({"ok": False, "error": "boom\r\nmore"}, FactUnavailable),
        ({"value": 1}, ParseError),
        ("System.Collections.Hashtable", ParseError),
    ],
)
def test_part_failures(section: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        part({"x": section}, "x")


def test_part_missing_and_ok() -> None:
    assert part({"x": ok(3)}, "x") == 3
    with pytest.raises(ParseError):
        part({"y": ok(3)}, "x")
    with pytest.raises(ParseError):
        part([1], "x")


@pytest.mark.parametrize(
    ("entry", "error"),
    [
        (
            {"rc": 1, "stdout": "", "stderr": "+ CategoryInfo : PermissionDenied: (:) []"},
            AccessDenied,
        ),
        (
            {"rc": 1, "stdout": "", "stderr": "Get-CimInstance : Ungültiger Namespace"},
            FactUnavailable,
        ),
        ({"fails": "timeout", "message": "too slow"}, FactUnavailable),
    ],
)
def test_ps_text_failures(entry: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        ps_text(replay({"powershell probe": entry}), "probe", "script")


# -- host -------------------------------------------------------------------------------------


def test_read_hardware_id() -> None:
    ctx = replay(
        {
            "powershell machine_guid": {
                "rc": 0,
                "stdout": '"5C1D2E3F-4A5B-4C6D-8E7F-9A0B1C2D3E4F"\r\n',
            }
        }
    )
    assert read_hardware_id(ctx) == "5c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"


@pytest.mark.parametrize(
    ("entry", "error"),
    [
        ({"rc": 0, "stdout": '""'}, FactUnavailable),
        ({"rc": 0, "stdout": "null"}, FactUnavailable),
        ({"rc": 0, "stdout": '"not-a-guid"'}, ParseError),
        ({"rc": 0, "stdout": "Zugriff verweigert"}, ParseError),
        (
            {
                "rc": 1,
                "stdout": "",
                "stderr": "Get-ItemProperty : Property MachineGuid does not exist",
            },
            FactUnavailable,
        ),
        ({"fails": "missing", "message": "powershell.exe is not installed"}, FactUnavailable),
    ],
)
def test_read_hardware_id_failures(entry: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        read_hardware_id(replay({"powershell machine_guid": entry}))


# -- patch_level ------------------------------------------------------------------------------

OS_BASE = {"ReleaseId": "2009", "InstallationType": "Client", "ProductName": "Windows 10 Pro"}


@pytest.mark.parametrize(
    ("fields", "name", "build"),
    [
        (
            {
                "Version": "10.0.22631",
                "BuildNumber": "22631",
                "UBR": 3737,
                "DisplayVersion": "23H2",
                "EditionID": "Enterprise",
            },
            "Windows 11 Enterprise 23H2",
            "22631.3737",
        ),
        (
            {
                "Version": "10.0.22000",
                "BuildNumber": "22000",
                "UBR": 1,
                "EditionID": "Core",
                "DisplayVersion": "21H2",
            },
            "Windows 11 Home 21H2",
            "22000.1",
        ),
        (
            {
                "Version": "10.0.19044",
                "BuildNumber": "19044",
                "UBR": None,
                "EditionID": "EnterpriseS",
                "DisplayVersion": None,
            },
            "Windows 10 Enterprise LTSC 2009",
            "19044",
        ),
        (
            {
                "Version": "10.0.20348",
                "BuildNumber": "20348",
                "UBR": 2582,
                "EditionID": "ServerStandard",
                "InstallationType": "Server",
                "ProductName": "Windows Server 2022 Standard",
            },
            "Windows Server 2022 Standard",
            "20348.2582",
        ),
        (
            {
                "Version": "10.0.26100",
                "BuildNumber": "26100",
                "UBR": "2033",
                "EditionID": "NewThing",
                "DisplayVersion": "24H2",
            },
            "Windows 11 NewThing 24H2",
            "26100.2033",
        ),
    ],
)
def test_parse_os_identity(fields: dict[str, Any], name: str, build: str) -> None:
    identity = patch.parse_os_identity(json.dumps({**OS_BASE, **fields}))
    assert (identity.os_id, identity.os_name, identity.os_build) == ("windows", name, build)
    assert identity.os_version == fields["Version"]


@pytest.mark.parametrize(
    "text",
    ['{"Version":"10"}', '{"BuildNumber":"22631"}', '{"Version":"10.0.x"}', "[]", "", "Windows 11"],
)
def test_parse_os_identity_rejects(text: str) -> None:
    with pytest.raises(ParseError):
        patch.parse_os_identity(text)


def test_parse_pending_updates_counts_security_and_skips_definitions() -> None:
    updates = [
        {"Title": "LCU (KB1)", "MsrcSeverity": None, "KB": ["1"], "Categories": [SEC.upper()]},
        {"Title": "", "MsrcSeverity": "Moderate", "KB": ["2"], "Categories": []},
        {"Title": "Driver", "MsrcSeverity": None, "KB": [], "Categories": ["ebfc1fc5"]},
        {"Title": "Defender", "MsrcSeverity": None, "KB": ["2267602"], "Categories": [DEF]},
    ]
    pending = patch.parse_pending_updates(doc(pending=ok({"Updates": updates})))
    assert (pending.total, pending.security, pending.security_names) == (3, 2, ["LCU (KB1)", "KB2"])


def test_parse_pending_updates_caps_names() -> None:
    updates = [
        {"Title": f"U{i}", "MsrcSeverity": "Low", "KB": [], "Categories": []} for i in range(60)
    ]
    pending = patch.parse_pending_updates(doc(pending=ok({"Updates": updates})))
    assert (pending.total, pending.security, len(pending.security_names)) == (60, 60, 50)


NOW = 1720600000.0  # 2024-07-10T08:26:40Z


@pytest.mark.parametrize(
    ("policy", "level", "expected"),
    [
        ({"NoAutoUpdate": None, "AUOptions": None, "wuauserv": "Manual"}, 0, True),
        ({"NoAutoUpdate": 1, "AUOptions": 4, "wuauserv": "Manual"}, 4, False),
        ({"NoAutoUpdate": 0, "AUOptions": 4, "wuauserv": "Disabled"}, 4, False),
        ({"NoAutoUpdate": 0, "AUOptions": 3, "wuauserv": "Manual"}, 3, False),
        ({"NoAutoUpdate": 0, "AUOptions": 4, "wuauserv": "Manual"}, 1, True),
        ({"NoAutoUpdate": None, "AUOptions": 5, "wuauserv": "Automatic"}, 1, False),
        ({"PauseUpdatesExpiryTime": "2024-07-20T09:00:00Z"}, 4, False),
        ({"PauseUpdatesExpiryTime": "2024-07-01T09:00:00Z"}, 4, True),
    ],
)
def test_parse_auto_updates(policy: dict[str, Any], level: int, expected: bool) -> None:
    text = doc(policy=ok(policy), au=ok({"NotificationLevel": level}))
    assert patch.parse_auto_updates(text, NOW) is expected


@pytest.mark.parametrize(
    ("reboot", "expected"),
    [
        (
            {"CBSRebootPending": False, "WURebootRequired": False, "WUAgentRebootRequired": None},
            False,
        ),
        (
            {"CBSRebootPending": True, "WURebootRequired": False, "WUAgentRebootRequired": False},
            True,
        ),
        (
            {"CBSRebootPending": False, "WURebootRequired": False, "WUAgentRebootRequired": True},
            True,
        ),
    ],
)
def test_parse_reboot_pending(reboot: dict[str, Any], expected: bool) -> None:
    assert patch.parse_reboot_pending(doc(reboot=ok(reboot))) is expected


def test_parse_reboot_pending_needs_the_registry_flags() -> None:
    with pytest.raises(ParseError):
        patch.parse_reboot_pending(doc(reboot=ok({"WUAgentRebootRequired": False})))


def test_parse_last_update_counts_only_windows_quality_and_feature_updates() -> None:
    def entry(date: str, categories: list[str], title: str | None, client: str = "x") -> Any:
        row = {"Date": date, "Operation": 1, "ResultCode": 2, "ClientAppID": client}
        return {**row, "Categories": categories, **({"Title": title} if title else {})}

    history = {
        "Entries": [
            entry("2024-07-05T00:00:00Z", [DEF], "Security Intelligence Update (KB2267602)"),
            entry("2024-07-04T00:00:00Z", [SEC.upper()], "Windows MSRT x64 - v5.125 (KB890830)"),
            entry("2024-07-03T00:00:00Z", ["ebfc1fc5-71a4-4f7b-9aca-3b9a503104a0"], "Intel - Net"),
            entry("2024-07-02T00:00:00Z", [SEC], "Security Update for Microsoft Office (KB1)"),
            entry("2024-07-01T00:00:00Z", [], "Microsoft Edge Update", "Windows Defender"),
            entry("2024-06-01T00:00:00Z", [], "Funktionsupdate für Windows 11, Version 24H2"),
            {**entry("2024-06-20T00:00:00Z", [SEC], None), "ResultCode": 4},  # failed
        ]
    }
    au = ok({"LastInstallationSuccessDate": "2024-07-05T00:00:00Z"})
    assert patch.parse_last_update(doc(history=ok(history), au=au)) == "2024-06-01T00:00:00Z"
    with pytest.raises(FactUnavailable, match="no successful install of a Windows quality"):
        patch.parse_last_update(doc(history=ok({"Entries": []}), au=au))


# -- network ----------------------------------------------------------------------------------


def adapter(description: str, **values: Any) -> dict[str, Any]:
    return {"Description": description, **values}


@pytest.mark.parametrize(
    ("row", "kind"),
    [
        (adapter("Intel(R) Wi-Fi 6 AX201 160MHz", NdisPhysicalMedium=9, InterfaceType=71), "wifi"),
        (adapter("Killer Wireless", MediaType="Native 802.11"), "wifi"),
        (
            adapter(
                "Realtek PCIe GbE", NdisPhysicalMedium=14, InterfaceType=6, HardwareInterface=True
            ),
            "ethernet",
        ),
        (adapter("Intel(R) Ethernet I219-LM", MediaType="802.3"), "ethernet"),
        (
            adapter("Hyper-V Virtual Ethernet Adapter", NdisPhysicalMedium=0, InterfaceType=6),
            "virtual",
        ),
        (adapter("Some vSwitch", NdisPhysicalMedium=14, HardwareInterface=False), "virtual"),
        (adapter("Microsoft Wi-Fi Direct Virtual Adapter #2", NdisPhysicalMedium=9), "virtual"),
        (adapter("PANGP Virtual Ethernet Adapter Secure", NdisPhysicalMedium=0), "vpn"),
        (adapter("WireGuard Tunnel", InterfaceType=53), "vpn"),
        (adapter("Unknown tunnel driver", InterfaceType=131), "vpn"),
        (
            adapter("Generic Mobile Broadband Adapter", NdisPhysicalMedium=8, InterfaceType=243),
            "cellular",
        ),
        (
            adapter(
                "Bluetooth Device (Personal Area Network)",
                NdisPhysicalMedium=10,
                InterfaceType=6,
                MediaType="802.3",
            ),
            "other",
        ),
        (adapter("Software Loopback Interface 1", InterfaceType=24), "loopback"),
        (adapter("Mystery"), "other"),
    ],
)
def test_adapter_kind(row: dict[str, Any], kind: str) -> None:
    assert net.adapter_kind(row) == kind


@pytest.mark.parametrize(
    ("description", "kind"),
    [
        ("PANGP Virtual Ethernet Adapter Secure", "globalprotect"),
        (
            "Cisco AnyConnect Secure Mobility Client Virtual Miniport Adapter for Windows x64",
            "anyconnect",
        ),
        ("Cisco Secure Client Virtual Miniport Adapter", "anyconnect"),
        ("WireGuard Tunnel", "wireguard"),
        ("Tailscale Tunnel", "tailscale"),
        ("TAP-Windows Adapter V9", "openvpn"),
        ("Fortinet SSL VPN Virtual Ethernet Adapter", "fortinet"),
        ("WAN Miniport (IKEv2)", "ras"),
        ("Intel(R) Wi-Fi 6 AX201 160MHz", None),
    ],
)
def test_vpn_kind(description: str, kind: str | None) -> None:
    assert net.vpn_kind(description) == kind


NETSH_IF_EN = """
There is 1 interface on the system:

    Name                   : Wi-Fi
    State                  : connected
    SSID                   : CorpWiFi
    AP BSSID               : 7c:21:0e:aa:bb:cc
    Profile                : CorpWiFi
"""
NETSH_IF_DE = """
Es ist 1 Schnittstelle auf dem System vorhanden:

    Name                   : WLAN
    Status                 : Verbunden
    SSID                   : Büro : 2.OG
    AP BSSID               : 7c:21:0e:aa:bb:cc
"""
NETSH_IF_DISCONNECTED = """
There is 1 interface on the system:

    Name                   : Wi-Fi
    State                  : disconnected
"""


@pytest.mark.parametrize(
    ("text", "ssids"),
    [
        (NETSH_IF_EN, ["CorpWiFi"]),
        (NETSH_IF_DE.replace("\n", "\r\n"), ["Büro : 2.OG"]),
        (NETSH_IF_DISCONNECTED, []),
        ("Network shell commands need location permission to access WLAN information.", []),
        ("", []),
    ],
)
def test_parse_netsh_ssids(text: str, ssids: list[str]) -> None:
    assert net.parse_netsh_ssids(text) == ssids


PROFILES_EN = """
Profiles on interface Wi-Fi:

Group policy profiles (read only)
---------------------------------
    CorpWiFi

User profiles
-------------
    All User Profile     : HomeNet
    All User Profile     : CoffeeShop_Guest
"""
PROFILES_DE = """
Profile auf Schnittstelle WLAN:

Gruppenrichtlinienprofile (schreibgeschützt)
---------------------------------
    <Kein>

Benutzerprofile
---------------
    Profil für alle Benutzer : HomeNet
    Aktuelles Benutzerprofil : Café : Gäste
"""
PROFILES_TWO_INTERFACES = (
    PROFILES_EN
    + PROFILES_EN.replace("Wi-Fi:", "Wi-Fi 2:")
    + """
User profiles
-------------
    <None>
"""
)


@pytest.mark.parametrize(
    ("text", "names"),
    [
        (PROFILES_EN, ["CorpWiFi", "HomeNet", "CoffeeShop_Guest"]),
        (PROFILES_DE.replace("\n", "\r\n"), ["HomeNet", "Café : Gäste"]),
        (PROFILES_TWO_INTERFACES, ["CorpWiFi", "HomeNet", "CoffeeShop_Guest"]),
        ("Profiles on interface Wi-Fi:\n\nUser profiles\n-------------\n    <None>\n", []),
    ],
)
def test_parse_netsh_profiles(text: str, names: list[str]) -> None:
    assert net.parse_netsh_profiles(text) == names


@pytest.mark.parametrize(
    "text", ["There is no wireless interface on the system.", "", "    All User Profile : X"]
)
def test_parse_netsh_profiles_rejects_unknown_output(text: str) -> None:
    with pytest.raises(ParseError):
        net.parse_netsh_profiles(text)


# -- accounts ---------------------------------------------------------------------------------

DSREG = """
+----------------------------------------------------------------------+
| Device State                                                         |
+----------------------------------------------------------------------+

             AzureAdJoined : YES
          EnterpriseJoined : NO
              DomainJoined : YES
                DomainName : CORP

+----------------------------------------------------------------------+
| Tenant Details                                                       |
+----------------------------------------------------------------------+

                  TenantId : 11111111-2222-4333-8444-555555555555
      AzureAdPrtUpdateTime : 2024-06-12 07:01:40.000 UTC
"""


def test_parse_dsregcmd() -> None:
    values = accounts.parse_dsregcmd(DSREG)
    assert values["AzureAdJoined"] == "YES"
    assert values["DomainName"] == "CORP"
    assert values["TenantId"] == "11111111-2222-4333-8444-555555555555"
    assert values["AzureAdPrtUpdateTime"] == "2024-06-12 07:01:40.000 UTC"


@pytest.mark.parametrize("text", ["", "Der Befehl wurde nicht gefunden.", "DomainJoined : YES"])
def test_parse_dsregcmd_rejects(text: str) -> None:
    with pytest.raises(ParseError):
        accounts.parse_dsregcmd(text)


def join_doc(azure: str | None, part_of_domain: bool | None, device: list[Any] | None) -> str:
    parts: dict[str, Any] = {
        "computer": ok({"PartOfDomain": part_of_domain, "Domain": "corp.example.com"})
        if part_of_domain is not None
        else {"ok": False, "error": "CIM failed"},
        "dsreg": ok({"ExitCode": 0, "Text": f"AzureAdJoined : {azure}\nTenantId : t-1"})
        if azure
        else {"ok": False, "error": "dsregcmd missing"},
        "joininfo": ok({"Device": device}) if device is not None else {"ok": False, "error": "x"},
    }
    return json.dumps(parts)


@pytest.mark.parametrize(
    ("azure", "domain", "device", "expected"),
    [
        ("YES", True, [], (True, "hybrid", "corp.example.com", "t-1")),
        ("YES", False, [], (True, "entra", None, "t-1")),
        ("NO", True, [], (True, "active_directory", "corp.example.com", None)),
        ("NO", False, [], (False, "workgroup", None, None)),
        (
            None,
            False,
            [{"UserEmail": "a@b.example", "TenantId": "t-2"}],
            (True, "entra", None, "t-2"),
        ),
        (None, True, [], (True, "active_directory", "corp.example.com", None)),
    ],
)
def test_parse_domain_join(
    azure: str | None, domain: bool, device: list[Any], expected: tuple[Any, ...]
) -> None:
    join = accounts.parse_domain_join(join_doc(azure, domain, device))
    assert (join.joined, join.kind, join.domain, join.tenant_id) == expected


def test_parse_domain_join_unknown_when_sources_fail() -> None:
    with pytest.raises(FactUnavailable, match="dsregcmd missing"):
        accounts.parse_domain_join(join_doc(None, False, None))


# -- device_security --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "encrypted"), [(1, True), (2, False), (3, False), (4, False), (5, False), (6, True)]
)
def test_parse_disk_encryption_shell_values(value: int, encrypted: bool) -> None:
    result = security.parse_disk_encryption(doc(bitlocker=ok({"Drive": "C:", "Protection": value})))
    assert result[0] is encrypted
    assert result[1].startswith("C: BitLocker")


def test_parse_disk_encryption_is_never_false_when_unknown() -> None:
    text = doc(
        bitlocker=ok({"Drive": "C:", "Protection": None}),
        bitlocker_wmi={"ok": False, "denied": True, "error": "Access denied"},
    )
    with pytest.raises(FactUnavailable, match="access denied"):
        security.parse_disk_encryption(text)


def firewall(states: tuple[int | None, ...], current: int | None) -> str:
    names = ("Domain", "Private", "Public")
    profiles = [{"Name": n, "Enabled": s} for n, s in zip(names, states, strict=True)]
    return doc(firewall=ok({"Profiles": profiles, "Current": current}))


@pytest.mark.parametrize(
    ("states", "current", "expected"),
    [
        ((1, 1, 1), 2, True),
        ((1, 1, 0), 2, True),  # Public off, but Private is the one in use
        ((1, 1, 0), 4, False),
        ((0, 1, 1), 3, False),  # Domain and Private both in use, Domain off
        ((1, 1, 1), None, True),
        ((0, 0, 0), None, False),
        ((1, 2, 1), 2, None),  # NotConfigured in use: unknown
        ((1, 1, 0), None, None),
    ],
)
def test_parse_firewall(
    states: tuple[int, ...], current: int | None, expected: bool | None
) -> None:
    if expected is None:
        with pytest.raises(FactUnavailable):
            security.parse_firewall(firewall(states, current))
    else:
        assert security.parse_firewall(firewall(states, current))[0] is expected


SAVER = "C:\\Windows\\system32\\scrnsave.scr"


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (
            {
                "ScreenSaveActive": "1",
                "ScreenSaverIsSecure": "1",
                "ScreenSaveTimeOut": "600",
                "ScreenSaver": SAVER,
            },
            True,
        ),
        ({"ScreenSaveActive": "1", "ScreenSaverIsSecure": "1", "ScreenSaveTimeOut": "600"}, False),
        (
            {
                "ScreenSaveActive": "1",
                "ScreenSaverIsSecure": "0",
                "ScreenSaveTimeOut": "600",
                "ScreenSaver": SAVER,
            },
            False,
        ),
        (
            {
                "ScreenSaveActive": "0",
                "ScreenSaverIsSecure": "1",
                "ScreenSaveTimeOut": "600",
                "ScreenSaver": SAVER,
            },
            False,
        ),
        (
            {
                "ScreenSaveActive": "0",
                "ScreenSaverIsSecure": "0",
                "ScreenSaver": SAVER,
                "PolicyActive": "1",
                "PolicyIsSecure": "1",
                "PolicyTimeOut": "900",
            },
            True,
        ),
        ({"InactivityTimeoutSecs": 900}, True),
        ({"InactivityTimeoutSecs": 0}, False),
        ({}, False),
    ],
)
def test_parse_screen_lock(values: dict[str, Any], expected: bool) -> None:
    text = doc(screen=ok(values), system=ok({"IsSystem": False}))
    assert security.parse_screen_lock(text)[0] is expected


# -- arbitrary input --------------------------------------------------------------------------

TEXT_PARSERS = [
    net.parse_netsh_ssids,
    net.parse_netsh_profiles,
    accounts.parse_dsregcmd,
]
JSON_PARSERS = [
    patch.parse_os_identity,
    patch.parse_pending_updates,
    patch.parse_last_update,
    patch.parse_updates_checked_at,
    patch.parse_reboot_pending,
    lambda t: patch.parse_auto_updates(t, NOW),
    net.parse_interfaces,
    net.parse_gateways,
    net.parse_dns_servers,
    net.parse_dns_search_domains,
    net.parse_vpn_connections,
    net.parse_network_shares,
    net.parse_wifi_ssids,
    net.parse_saved_wifi_profiles,
    accounts.parse_admin_members,
    lambda t: accounts.parse_local_accounts(t, None),
    accounts.parse_domain_join,
    accounts.parse_work_accounts,
    security.parse_disk_encryption,
    security.parse_firewall,
    security.parse_screen_lock,
]
PART_NAMES = [
    "pending", "history", "au", "reboot", "policy", "adapters", "ip", "routes", "dns", "profiles",
    "wlan", "wlan_profiles", "vpn", "shares", "system", "users", "admins", "computer", "dsreg",
    "joininfo", "workplace", "bitlocker", "bitlocker_wmi", "firewall", "screen",
]  # fmt: skip
SCALARS = st.none() | st.booleans() | st.integers() | st.text(max_size=20)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(["ok", "value", "Name", "Text", "ExitCode", "x"]), inner)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_text_parsers_return_or_raise_parse_error(text: str) -> None:
    for parser in TEXT_PARSERS:
        with contextlib.suppress(ParseError):
            parser(text)


@settings(max_examples=200, deadline=None)
@given(st.text() | st.dictionaries(st.sampled_from(PART_NAMES), JSON_VALUES).map(json.dumps))
def test_json_parsers_return_or_raise_fact_unavailable(text: str) -> None:
    # A part that reports its own failure ({"ok": false}) is FactUnavailable, not a ParseError.
    for parser in JSON_PARSERS:
        with contextlib.suppress(FactUnavailable):
            parser(text)


FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
FIXTURE_DOCS = [
    json.loads(entry["stdout"])
    for case in sorted(FIXTURES.glob("*/windows/*.json"))
    for entry in json.loads(case.read_text(encoding="utf-8"))["context"]
    .get("commands", {})
    .values()
    if entry.get("rc") == 0 and entry.get("stdout", "").lstrip().startswith("{")
]


def _mutate(value: Any, path: list[int], replacement: Any) -> Any:
    """Replace the node reached by walking `path` (indexes modulo the children) with replacement."""
    if not path or not isinstance(value, dict | list) or not value:
        return replacement
    keys = list(value) if isinstance(value, dict) else list(range(len(value)))
    key = keys[path[0] % len(keys)]
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[key] = _mutate(value[key], path[1:], replacement)
    return copy


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(FIXTURE_DOCS),
    st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=8),
    JSON_VALUES,
)
def test_json_parsers_survive_mutated_fixtures(base: Any, path: list[int], new: Any) -> None:
    text = json.dumps(_mutate(base, path, new))
    for parser in JSON_PARSERS:
        with contextlib.suppress(FactUnavailable):
            parser(text)
