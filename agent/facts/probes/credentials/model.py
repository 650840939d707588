"""The credentials probe's data: where organisation credentials sit, never their values."""

from __future__ import annotations

from dataclasses import dataclass

from agent.report import fact


@dataclass(frozen=True, kw_only=True)
class CredentialFinding:
    """One stray organisation credential: where and what, never the secret."""

    kind: str = fact("saved_login, sso_cookie, wifi_profile, vpn_profile, ssh_key, token, ...")
    store: str = fact("Where it lives: chrome, firefox, keychain, networkmanager, file, ...")
    location: str = fact("Path (home as ~ or ~user) or store entry.")
    identity: str | None = fact("Matching host, username, SSID or realm (never a secret).")
    org_match: str = fact("Which organisation value it matched.")
    fingerprint: str = fact("HMAC of store, location and identity with a per-device key.")


@dataclass(frozen=True, kw_only=True)
class NotInspected:
    """A store the agent knows of but could not read."""

    store: str = fact("The store, e.g. keychain, chrome.")
    location: str = fact("Where it is.")
    reason: str = fact("Why it was not read (access denied, locked, budget...).")


@dataclass(frozen=True, kw_only=True)
class CredentialsData:
    """Stray organisation credentials found on the device, and what the scan could not see."""

    findings: list[CredentialFinding] = fact("Credentials matching the organisation.")
    not_inspected: list[NotInspected] = fact("Stores that exist but could not be read.")
    homes: list[str] = fact("User homes scanned.")
    files_scanned: int = fact("Files the content scan read.")
    bytes_scanned: int = fact("Bytes the content scan read.")
    skipped: dict[str, int] = fact("Files left out of the content scan, by reason.")
    complete: bool = fact("Every store and file was inspected within the budgets.")
