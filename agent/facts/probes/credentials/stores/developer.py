"""Developer and CLI credentials: SSH, git, netrc, AWS, Azure, Docker and Kerberos."""

from __future__ import annotations

from agent.facts.context import Context, ParseError
from agent.facts.probes.credentials.per_os import PerOs, join
from agent.facts.probes.credentials.scan import ScanState, match_host, match_tenant
from agent.facts.probes.credentials.stores.developer_cli_parse import (
    Login,
    domains_in,
    parse_aws_config,
    parse_azure_profile,
    parse_docker_config,
    parse_git_credentials,
    parse_netrc,
)
from agent.facts.probes.credentials.stores.developer_kerberos import find_kerberos
from agent.facts.probes.credentials.stores.developer_ssh import find_ssh
from agent.facts.probes.credentials.stores.storefiles import Finder, read_store_file

# curl and git on Windows also read %HOME%\_netrc.
NETRC_FILES: PerOs[tuple[tuple[str, ...], ...]] = PerOs(
    linux=((".netrc",),),
    darwin=((".netrc",),),
    windows=((".netrc",), ("_netrc",)),
)


def _home_files(ctx: Context, scan: ScanState, *relative: tuple[str, ...]) -> list[str]:
    return [join(ctx, home.path, *parts) for home in scan.homes for parts in relative]


def report_logins(scan: ScanState, kind: str, store: str, path: str, logins: list[Login]) -> None:
    """A finding per login whose host, or whose user name (an e-mail), is the organisation's."""
    for login in logins:
        matched = match_host(login.host, scan.org) or (
            match_host(login.user, scan.org) if login.user and "@" in login.user else None
        )
        if matched:
            identity = login.host if not login.user else f"{login.user}@{login.host}"
            if login.user and "@" in login.user:
                identity = f"{login.user} ({login.host})"  # an e-mail as the account name
            scan.add(kind, store, path, identity, matched)


def find_git_credentials(ctx: Context, scan: ScanState) -> None:
    """git's plain-text credential store: ~/.git-credentials and ~/.config/git/credentials."""
    for path in _home_files(ctx, scan, (".git-credentials",), (".config", "git", "credentials")):
        text = read_store_file(ctx, scan, "git_credentials", path)
        if text is not None:
            report_logins(scan, "saved_login", "git_credentials", path, parse_git_credentials(text))


def find_netrc(ctx: Context, scan: ScanState) -> None:
    """~/.netrc (and ~/_netrc on Windows): machine and login, never the password."""
    for path in _home_files(ctx, scan, *NETRC_FILES.pick(ctx)):
        text = read_store_file(ctx, scan, "netrc", path)
        if text is not None:
            report_logins(scan, "saved_login", "netrc", path, parse_netrc(text))


def find_aws_cli(ctx: Context, scan: ScanState) -> None:
    """~/.aws/config and credentials: SSO start URLs and role ARNs in the organisation's
    domains (an awsapps.com start URL names no organisation and is not reported)."""
    for path in _home_files(ctx, scan, (".aws", "config"), (".aws", "credentials")):
        text = read_store_file(ctx, scan, "aws_cli", path)
        for section, key, value in parse_aws_config(text or ""):
            words = [value] if key == "sso_start_url" else domains_in(value)
            matched = next((m for w in words if (m := match_host(w, scan.org))), None)
            if matched:
                scan.add("cloud_cli", "aws_cli", path, f"[{section}] {key} = {value}", matched)


def find_azure_cli(ctx: Context, scan: ScanState) -> None:
    """~/.azure/azureProfile.json: signed-in user and tenants of each subscription."""
    for path in _home_files(ctx, scan, (".azure", "azureProfile.json")):
        text = read_store_file(ctx, scan, "azure_cli", path)
        try:
            accounts = parse_azure_profile(text) if text is not None else []
        except ParseError as exc:
            scan.not_read("azure_cli", path, str(exc))
            continue
        for account in accounts:
            user_match = match_host(account.user, scan.org) if account.user else None
            tenant = next((t for t in account.tenants if match_tenant(t, scan.org)), None)
            if account.user and user_match:
                scan.add("cloud_cli", "azure_cli", path, account.user, user_match)
            elif tenant:
                identity = f"{account.user} (tenant {tenant})" if account.user else tenant
                scan.add("cloud_cli", "azure_cli", path, identity, tenant.lower())


def find_docker(ctx: Context, scan: ScanState) -> None:
    """~/.docker/config.json: registries the user has logged in to (auth values never kept)."""
    for path in _home_files(ctx, scan, (".docker", "config.json")):
        text = read_store_file(ctx, scan, "docker", path)
        try:
            registries = parse_docker_config(text) if text is not None else []
        except ParseError as exc:
            scan.not_read("docker", path, str(exc))
            continue
        for registry in registries:
            matched = match_host(registry, scan.org)
            if matched:
                scan.add("registry_login", "docker", path, registry, matched)


_ALL = (
    find_ssh,
    find_git_credentials,
    find_netrc,
    find_aws_cli,
    find_azure_cli,
    find_docker,
    find_kerberos,
)
FINDERS: PerOs[tuple[Finder, ...]] = PerOs(linux=_ALL, darwin=_ALL, windows=_ALL)
