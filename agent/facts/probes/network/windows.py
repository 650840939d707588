"""network on Windows: one PowerShell call (NetAdapter/NetIP/NetRoute/DnsClient/netsh/VPN/SMB)."""

from __future__ import annotations

from agent.facts.context import Context
from agent.facts.probes.base import attempt
from agent.facts.probes.network.model import NetworkData
from agent.facts.probes.network.windows_parse import (
    parse_dns_search_domains,
    parse_dns_servers,
    parse_gateways,
    parse_interfaces,
    parse_network_shares,
    parse_vpn_connections,
)
from agent.facts.probes.network.windows_wifi import parse_saved_wifi_profiles, parse_wifi_ssids
from agent.facts.probes.powershell import PS_PART, ps_text
from agent.facts.probes.powershell_parse import parse_json
from agent.report import Gaps

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
$out.wlan_profiles = Part {
  $text = (& netsh.exe wlan show profiles | Out-String)
  @{ ExitCode = $LASTEXITCODE; Text = $text }
}
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


def collect(ctx: Context) -> NetworkData:
    text = ps_text(ctx, "network", NETWORK_SCRIPT, timeout=25.0)
    parse_json(text, "powershell network")  # output that is not JSON at all fails the probe
    gaps: Gaps = {}

    return NetworkData(
        interfaces=attempt(gaps, "interfaces", lambda: parse_interfaces(text)),
        gateways=attempt(gaps, "gateways", lambda: parse_gateways(text)),
        dns_servers=attempt(gaps, "dns_servers", lambda: parse_dns_servers(text)),
        dns_search_domains=attempt(
            gaps, "dns_search_domains", lambda: parse_dns_search_domains(text)
        ),
        wifi_ssids=attempt(gaps, "wifi_ssids", lambda: parse_wifi_ssids(text)),
        saved_wifi_profiles=attempt(
            gaps, "saved_wifi_profiles", lambda: parse_saved_wifi_profiles(text)
        ),
        vpn_connections=attempt(gaps, "vpn_connections", lambda: parse_vpn_connections(text)),
        network_shares=attempt(gaps, "network_shares", lambda: parse_network_shares(text)),
        gaps=gaps,
    )
