"""The running state of one credential scan: findings, budgets, what was not inspected."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections import Counter
from dataclasses import dataclass, field

from agent.facts.probes.credentials.model import CredentialFinding, NotInspected
from agent.facts.probes.credentials.settings import Organisation, ScanSettings
from agent.matching import domain_matches


@dataclass(frozen=True)
class Home:
    """A user's home folder to scan."""

    user: str
    path: str


def display_path(homes: list[Home], path: str) -> str:
    """A path with its home shown as ~ (one home scanned) or ~user (several)."""
    for home in homes:
        prefix = home.path.rstrip("/\\")
        if path == prefix or path.startswith((prefix + "/", prefix + "\\")):
            tilde = "~" if len(homes) == 1 else f"~{home.user}"
            return tilde + path[len(prefix) :]
    return path


def match_host(value: str | None, org: Organisation) -> str | None:
    """The organisation domain or VPN host a host/e-mail/URL belongs to (subdomains count)."""
    if not value:
        return None
    for domain in (*org.domains, *org.vpn_hosts):
        if domain_matches(value, domain):
            return domain
    return None


def match_realm(value: str | None, org: Organisation) -> str | None:
    """A Kerberos realm or principal (alice@AD.EXAMPLE.AC.UK) of the organisation."""
    if not value:
        return None
    realm = value.rsplit("@", 1)[-1].lower()
    for known in org.kerberos_realms:
        if realm == known or realm.endswith("." + known):
            return known.upper()
    return match_host(realm, org)


def match_ssid(value: str | None, org: Organisation) -> str | None:
    if not value:
        return None
    return next((s for s in org.ssids if s.casefold() == value.casefold()), None)


def match_tenant(value: str | None, org: Organisation) -> str | None:
    if not value:
        return None
    return value.lower() if value.lower() in org.tenant_ids else None


@dataclass
class ScanState:
    """Mutable state of one run; finders add to it, the probe turns it into CredentialsData."""

    settings: ScanSettings
    homes: list[Home]
    started: float = field(default_factory=time.monotonic)
    findings: list[CredentialFinding] = field(default_factory=list)
    not_inspected: list[NotInspected] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    files_scanned: int = 0
    bytes_scanned: int = 0
    budget_exhausted: bool = False

    @property
    def org(self) -> Organisation:
        return self.settings.organisation

    def out_of_time(self) -> bool:
        if time.monotonic() - self.started > self.settings.time_budget_s:
            self.budget_exhausted = True
        return self.budget_exhausted

    def display(self, path: str) -> str:
        return display_path(self.homes, path)

    def fingerprint(self, store: str, location: str, identity: str | None) -> str:
        message = "\x1f".join((store, location, identity or "")).encode()
        return hmac.new(self.settings.fingerprint_key, message, hashlib.sha256).hexdigest()[:32]

    def add(
        self, kind: str, store: str, location: str, identity: str | None, org_match: str
    ) -> None:
        """Record a finding (deduplicated): where and what, never a secret."""
        shown = self.display(location)
        finding = CredentialFinding(
            kind=kind,
            store=store,
            location=shown,
            identity=identity,
            org_match=org_match,
            fingerprint=self.fingerprint(store, shown, identity),
        )
        if finding not in self.findings:
            self.findings.append(finding)

    def not_read(self, store: str, location: str, reason: str) -> None:
        self.not_inspected.append(
            NotInspected(store=store, location=self.display(location), reason=reason)
        )
