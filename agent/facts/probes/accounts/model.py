"""The accounts probe's data: who is logged in, who exists, and whose domain this is."""

from __future__ import annotations

from dataclasses import dataclass

from agent.report import Gaps, fact, gaps_field


@dataclass(frozen=True, kw_only=True)
class Session:
    """A logged-in user session."""

    name: str = fact("Account name.")
    terminal: str | None = fact("Terminal, seat or session type.")
    host: str | None = fact("Remote host for remote logins.")
    started_at: str | None = fact("Login time (RFC 3339 UTC).")


@dataclass(frozen=True, kw_only=True)
class LocalAccount:
    """A human account defined on this device."""

    name: str = fact("Account name.")
    uid: str | None = fact("UID or SID.")
    admin: bool | None = fact(
        "Member of the administrators group (sudo, wheel, admin, S-1-5-32-544)."
    )
    enabled: bool | None = fact("Account can log in.")
    source: str | None = fact("local, MicrosoftAccount, AzureAD, ...")


@dataclass(frozen=True, kw_only=True)
class DomainJoin:
    """Whether the device belongs to a directory."""

    joined: bool | None = fact("Joined to any directory (AD, Entra ID, Kerberos realm).")
    kind: str | None = fact("active_directory, entra, hybrid, kerberos, workgroup...")
    domain: str | None = fact("Domain or realm name.")
    tenant_id: str | None = fact("Entra ID (Azure AD) tenant id.")


@dataclass(frozen=True, kw_only=True)
class WorkAccount:
    """A work or school account signed in at OS level."""

    identity: str = fact("User principal name or e-mail.")
    provider: str | None = fact("entra, platform_sso, goa, ...")
    tenant_id: str | None = fact("Tenant id, when known.")


@dataclass(frozen=True, kw_only=True)
class AccountsData:
    """Logged-in users, local accounts and admins, directory join, work accounts."""

    logged_in: list[Session] | None = fact("Users logged in now.")
    local_accounts: list[LocalAccount] | None = fact("Human accounts on this device.")
    domain_join: DomainJoin | None = fact("Directory join state.")
    work_accounts: list[WorkAccount] | None = fact("Work or school accounts signed in.")
    gaps: Gaps = gaps_field()
