"""network on Windows: one PowerShell call (NetAdapter/NetIP/NetRoute/DnsClient/netsh/VPN/SMB)."""

from __future__ import annotations

from agent.facts.probes.base import Reading
from agent.facts.probes.network.model import Gateway, Interface, NetworkShare, VpnConnection
from agent.facts.probes.network.readers import SavedWifi
from agent.facts.probes.network.windows_parse import (
    parse_dns_search_domains,
    parse_dns_servers,
    parse_gateways,
    parse_interfaces,
    parse_network_shares,
    parse_saved_wifi_profiles,
    parse_vpn_connections,
    parse_wifi_ssids,
)
from agent.facts.probes.powershell import PS_PART, ps_text
from agent.facts.probes.powershell_parse import parse_json

SAVED_WIFI_LOCATION = "netsh wlan show profiles"
# The saved Wi-Fi profiles as {ExitCode, Text}: the network probe's 'wlan_profiles' part and the
# credential scan's own script both run this, and read it with netsh_output/parse_netsh_profiles.
SAVED_WIFI_PS = r"""
  $text = (& netsh.exe wlan show profiles | Out-String)
  @{ ExitCode = $LASTEXITCODE; Text = $text }
"""

# Friendly names ("WLAN", "Ethernet 2") are localised: kinds come from InterfaceDescription,
# NdisPhysicalMedium and InterfaceType; enums are cast to int or string. netsh is used only for
# the Wi-Fi SSID (the 'SSID' key is not translated) and the saved profile names.
NETWORK_SCRIPT = (
    PS_PART
    + r"""
$out = @{}
$out.system = Part { @{ IsSystem = [Security.Principal.WindowsIdentity]::GetCurrent().IsSystem } }
$out.adapters = Part {
  @{ Adapters = @(Get-NetAdapter | ForEach-Object { @{
    ifIndex = [int]$_.ifIndex; Name = [string]$_.Name; Description = [string]$_.InterfaceDescription
    MacAddress = [string]$_.MacAddress; Status = [string]$_.Status; MediaType = [string]$_.MediaType
    PhysicalMediaType = [string]$_.PhysicalMediaType; NdisPhysicalMedium = $_.NdisPhysicalMedium
    InterfaceType = $_.InterfaceType; HardwareInterface = $_.HardwareInterface } }) }
}
$out.ip = Part {
  @{ Addresses = @(Get-NetIPAddress | ForEach-Object { @{
       ifIndex = [int]$_.InterfaceIndex; Alias = [string]$_.InterfaceAlias
       IPAddress = [string]$_.IPAddress; PrefixLength = [int]$_.PrefixLength
       AddressFamily = [int]$_.AddressFamily } })
     Interfaces = @(Get-NetIPInterface | ForEach-Object { @{
       ifIndex = [int]$_.InterfaceIndex; Alias = [string]$_.InterfaceAlias
       AddressFamily = [int]$_.AddressFamily; ConnectionState = [int]$_.ConnectionState
       InterfaceMetric = [int]$_.InterfaceMetric } }) }
}
$out.routes = Part {
  # -EA 0 (SilentlyContinue): Get-NetRoute fails when there is no default route at all.
  $routes = Get-NetRoute -DestinationPrefix '0.0.0.0/0', '::/0' -PolicyStore ActiveStore -EA 0
  @{ Routes = @($routes | ForEach-Object { @{
      ifIndex = [int]$_.InterfaceIndex; Alias = [string]$_.InterfaceAlias
      NextHop = [string]$_.NextHop; RouteMetric = [int]$_.RouteMetric
      AddressFamily = [int]$_.AddressFamily } }) }
}
$out.dns = Part {
  $g = Get-DnsClientGlobalSetting
  $primary = [Net.NetworkInformation.IPGlobalProperties]::GetIPGlobalProperties().DomainName
  @{ Servers = @(Get-DnsClientServerAddress | Where-Object { $_.ServerAddresses } |
     ForEach-Object { @{
       ifIndex = [int]$_.InterfaceIndex; AddressFamily = [int]$_.AddressFamily
       ServerAddresses = @($_.ServerAddresses | ForEach-Object { [string]$_ }) } })
     Suffixes = @(Get-DnsClient | ForEach-Object { @{
       ifIndex = [int]$_.InterfaceIndex; Suffix = [string]$_.ConnectionSpecificSuffix } })
     SearchList = @($g.SuffixSearchList | Where-Object { $_ } | ForEach-Object { [string]$_ })
     PrimarySuffix = [string]$primary }
}
$out.profiles = Part {
  @{ Profiles = @(Get-NetConnectionProfile | ForEach-Object { @{
    ifIndex = [int]$_.InterfaceIndex; Name = [string]$_.Name
    NetworkCategory = [int]$_.NetworkCategory } }) }
}
$out.wlan = Part {
  $text = (& netsh.exe wlan show interfaces | Out-String)
  @{ ExitCode = $LASTEXITCODE; Text = $text }
}
$out.wlan_profiles = Part {"""
    + SAVED_WIFI_PS
    + r"""}
$out.vpn = Part {
  $ras = @(Get-VpnConnection) + @(Get-VpnConnection -AllUserConnection)
  @{ Connections = @($ras | Where-Object { $_ } | ForEach-Object { @{
    Name = [string]$_.Name; ServerAddress = [string]$_.ServerAddress
    ConnectionStatus = [string]$_.ConnectionStatus; TunnelType = [string]$_.TunnelType } }) }
}
$out.shares = Part {
  @{ Mappings = @(Get-SmbMapping | ForEach-Object { @{
    LocalPath = [string]$_.LocalPath; RemotePath = [string]$_.RemotePath
    Status = [string]$_.Status } }) }
}
ConvertTo-Json -Compress -Depth 8 -InputObject $out
"""
)


def read_interfaces(reading: Reading) -> list[Interface]:
    return parse_interfaces(_network(reading))


def read_gateways(reading: Reading) -> list[Gateway]:
    return parse_gateways(_network(reading))


def read_dns_servers(reading: Reading) -> list[str]:
    return parse_dns_servers(_network(reading))


def read_dns_search_domains(reading: Reading) -> list[str]:
    return parse_dns_search_domains(_network(reading))


def read_wifi_ssids(reading: Reading) -> list[str]:
    return parse_wifi_ssids(_network(reading))


def read_saved_wifi_profiles(reading: Reading) -> list[SavedWifi]:
    names = parse_saved_wifi_profiles(_network(reading))
    return [SavedWifi(location=SAVED_WIFI_LOCATION, names=names)]


def read_vpns(reading: Reading) -> list[VpnConnection]:
    return parse_vpn_connections(_network(reading))


def read_shares(reading: Reading) -> list[NetworkShare]:
    return parse_network_shares(_network(reading))


def _network(reading: Reading) -> str:
    """NETWORK_SCRIPT's output, run once; a failing script, or output that is not JSON at all,
    fails the probe."""

    def read() -> str:
        text = ps_text(reading.ctx, "network", NETWORK_SCRIPT, timeout=25.0)
        parse_json(text, "powershell network")
        return text

    return reading.essential("network", read)
