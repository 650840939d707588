"""The credentials probe's data: where organisation credentials sit, never their values."""

from __future__ import annotations

from dataclasses import dataclass

from agent.probes.base import fact


@dataclass(frozen=True, kw_only=True)
class CredentialFinding:
    """One stray organisation credential: where and what, never the secret."""

    kind: str = fact("saved_login, sso_cookie, wifi_profile, ssh_key, token, ...")
    store: str = fact("Where it lives: chrome, keychain, networkmanager, file, ...")
    location: str = fact("Path (home as ~) or store entry.")
    identity: str | None = fact("Matching host, username, SSID or realm.")
    org_match: str = fact("Which organisation value it matched.")
    fingerprint: str = fact("HMAC of store, location and identity with a per-device key.")


@dataclass(frozen=True, kw_only=True)
class CredentialsData:
    """Stray organisation credentials found on the device."""

    findings: list[CredentialFinding] = fact("Credentials matching the organisation.")
    not_inspected: list[str] = fact("Stores the agent could not read.")
    complete: bool = fact("The scan finished within its budgets.")
