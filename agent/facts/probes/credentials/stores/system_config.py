"""System logon and mount settings: Windows auto-logon and answer files, CIFS mounts in fstab."""

from __future__ import annotations

from agent.facts.context import CommandNotFound, Context, FactUnavailable
from agent.facts.probes.credentials.per_os import PerOs
from agent.facts.probes.credentials.scan import ScanState
from agent.facts.probes.credentials.stores.readers import read_parsed
from agent.facts.probes.credentials.stores.storefiles import Finder, read_store_file, why
from agent.facts.probes.credentials.stores.system_config_parse import (
    autologon_hits,
    cifs_hit,
    parse_cifs_credentials,
    parse_fstab_cifs,
    unattend_hits,
)
from agent.facts.probes.powershell import ps_text

WINLOGON_KEY = r"HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon"
# Only the names of the values and the non-secret ones: DefaultPassword's value is never read.
WINLOGON_SCRIPT = r"""
$k = Get-Item -LiteralPath 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon'
$names = @($k.GetValueNames())
ConvertTo-Json -Compress -InputObject @{
  AutoAdminLogon = [string]$k.GetValue('AutoAdminLogon')
  DefaultDomainName = [string]$k.GetValue('DefaultDomainName')
  DefaultUserName = [string]$k.GetValue('DefaultUserName')
  HasDefaultPassword = ($names -contains 'DefaultPassword') }
"""
# Where Windows Setup and Sysprep look for (and leave) answer files.
UNATTEND_FILES = (
    "C:\\unattend.xml",
    "C:\\Windows\\Panther\\Unattend.xml",
    "C:\\Windows\\Panther\\Unattended.xml",
    "C:\\Windows\\Panther\\Unattend\\Unattend.xml",
    "C:\\Windows\\Panther\\Unattend\\Unattended.xml",
    "C:\\Windows\\System32\\Sysprep\\unattend.xml",
    "C:\\Windows\\System32\\Sysprep\\Panther\\unattend.xml",
)
FSTAB = "/etc/fstab"


def find_autologon(ctx: Context, scan: ScanState) -> None:
    """Windows auto-logon (Winlogon) with an organisation account or domain."""
    try:
        hits = autologon_hits(ps_text(ctx, "winlogon", WINLOGON_SCRIPT, 20.0), scan.org)
    except CommandNotFound:
        return
    except FactUnavailable as exc:
        scan.not_read("autologon", WINLOGON_KEY, why(exc))
        return
    for kind, identity, matched in hits:
        scan.add(kind, "autologon", WINLOGON_KEY, identity, matched)


def find_unattend(ctx: Context, scan: ScanState) -> None:
    """Unattended-setup answer files left by Setup and Sysprep, with organisation accounts."""
    for path in UNATTEND_FILES:
        read_parsed(ctx, scan, "unattend", path, unattend_hits)


def find_fstab_cifs(ctx: Context, scan: ScanState) -> None:
    """CIFS/SMB mounts in /etc/fstab that sign in to an organisation share or as its account."""
    text = read_store_file(ctx, scan, "fstab", FSTAB)
    if text is None:
        return
    for mount in parse_fstab_cifs(text):
        user, domain = mount.user, mount.domain
        if mount.credentials_file:
            creds = read_store_file(ctx, scan, "fstab", mount.credentials_file)
            if creds is not None:
                file_user, file_domain = parse_cifs_credentials(creds)
                user, domain = user or file_user, domain or file_domain
        hit = cifs_hit(mount, user, domain, scan.org)
        if hit is not None:
            kind, identity, matched = hit
            scan.add(kind, "fstab", f"{FSTAB} line {mount.line}", identity, matched)
            if mount.credentials_file:
                scan.add(kind, "cifs_credentials", mount.credentials_file, identity, matched)


FINDERS: PerOs[tuple[Finder, ...]] = PerOs(
    linux=(find_fstab_cifs,),
    darwin=(),
    windows=(find_autologon, find_unattend),
)
