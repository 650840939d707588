"""Where alerts go: webhooks and e-mail addresses from the settings, each with its routing rule.

A routing rule rides in the destination's fragment, which no HTTP client ever sends:
  https://hooks.slack.com/services/T0/B0/XXXX#severity=critical+high&department=Press
  security@example.org#department=Press+Finance%20Office
and `format=json|slack|teams` picks a webhook's body (Slack and Teams hosts are recognised)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import unquote, urlsplit

SEVERITIES = ("critical", "high", "medium", "low")
Style = Literal["json", "slack", "teams", "email"]
_STYLES: tuple[Style, ...] = ("json", "slack", "teams")


class DestinationError(ValueError):
    """A destination or SMTP setting the collector refuses to start with (never the secret)."""


@dataclass(frozen=True)
class Route:
    """Which alerts a destination takes: empty sets take all."""

    severities: frozenset[str] = frozenset()
    departments: frozenset[str] = frozenset()

    def allows(self, severity: str, department: str) -> bool:
        return (not self.severities or severity in self.severities) and (
            not self.departments or department in self.departments
        )


@dataclass(frozen=True)
class Destination:
    """One place alerts go. `id` is stable across restarts and names no secret (a webhook's
    path often is one); `label` is what logs and the dashboard show."""

    id: str
    label: str
    style: Style
    target: str = field(repr=False)  # the URL without its fragment, or the address
    route: Route = Route()


@dataclass(frozen=True)
class Smtp:
    """The mail server: smtp:// (STARTTLS, required) or smtps:// (TLS from the start)."""

    host: str
    port: int
    implicit_tls: bool
    username: str | None
    password: str | None = field(repr=False)
    sender: str

    @property
    def label(self) -> str:
        user = f"{self.username}@" if self.username else ""
        return f"{'smtps' if self.implicit_tls else 'smtp'}://{user}{self.host}:{self.port}"


def _route(fragment: str, what: str) -> tuple[Route, Style | None]:
    severities: set[str] = set()
    departments: set[str] = set()
    style: Style | None = None
    for part in filter(None, fragment.split("&")):
        name, _, value = part.partition("=")
        values = [unquote(v) for v in value.split("+") if v]
        if name == "severity":
            unknown = set(values) - set(SEVERITIES)
            if unknown or not values:
                raise DestinationError(f"{what}: severity must be among {', '.join(SEVERITIES)}")
            severities |= set(values)
        elif name == "department" and values:
            departments |= set(values)
        elif name == "format" and len(values) == 1 and values[0] in _STYLES:
            style = next(s for s in _STYLES if s == values[0])
        else:
            raise DestinationError(
                f"{what}: unknown routing {name!r} (severity=, department=, format=)"
            )
    return Route(frozenset(severities), frozenset(departments)), style


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def webhook(text: str, number: int) -> Destination:
    """--alert-webhook URL[#routing]; http:// is allowed (a receiver on loopback or the LAN)."""
    what = f"alert webhook #{number}"
    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DestinationError(f"{what}: not an http(s) URL with a host")
    if parts.username or parts.password:
        raise DestinationError(f"{what}: no user or password in the URL (put a token in the path)")
    route, style = _route(parts.fragment, what)
    target = parts._replace(fragment="").geturl()
    if style is None:
        host = parts.hostname
        style = "json"
        if host == "hooks.slack.com":
            style = "slack"
        elif host.endswith((".webhook.office.com", ".logic.azure.com")):
            style = "teams"
    label = f"{parts.scheme}://{parts.netloc}/… ({style})"
    return Destination(f"webhook:{_digest(target)}", label, style, target, route)


def email(text: str, number: int) -> Destination:
    """--alert-email ADDRESS[#routing]."""
    address, _, fragment = text.strip().partition("#")
    local, at, domain = address.partition("@")
    if not (local and at and "." in domain) or any(c in address for c in " <>,;\r\n"):
        raise DestinationError(f"alert e-mail #{number}: not an address like name@example.org")
    route, style = _route(fragment, f"alert e-mail #{number}")
    if style is not None:
        raise DestinationError(f"alert e-mail #{number}: format= is for webhooks")
    return Destination(f"email:{address.lower()}"[:100], address, "email", address, route)


def smtp(url: str, sender: str | None) -> Smtp:
    """smtp://user:pass@host:587 (STARTTLS) or smtps://user:pass@host:465; never echoes it."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise DestinationError("--smtp-url: give smtp://user:password@host:port or smtps://...")
    try:
        port = parts.port or (465 if parts.scheme == "smtps" else 587)
    except ValueError as exc:
        raise DestinationError("--smtp-url: the port is not a number") from exc
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    if (user is None) != (password is None):
        raise DestinationError("--smtp-url: a user and a password go together")
    from_address = sender or (user if user and "@" in user else f"outpost@{parts.hostname}")
    return Smtp(parts.hostname, port, parts.scheme == "smtps", user, password, from_address)


@dataclass(frozen=True)
class Destinations:
    """Every destination of this collector, and the mail server when e-mail is configured."""

    all: tuple[Destination, ...] = ()
    mail: Smtp | None = None

    def for_alert(self, severity: str, department: str) -> list[str]:
        return [d.id for d in self.all if d.route.allows(severity, department)]

    def by_id(self) -> dict[str, Destination]:
        return {d.id: d for d in self.all}


def parse(
    webhooks: tuple[str, ...], emails: tuple[str, ...], smtp_url: str | None, sender: str | None
) -> Destinations:
    """The settings' destinations, checked; DestinationError names the bad one, not its secret."""
    hooks = [webhook(text, n) for n, text in enumerate(webhooks, 1)]
    mails = [email(text, n) for n, text in enumerate(emails, 1)]
    if mails and not smtp_url:
        raise DestinationError("--alert-email needs --smtp-url (the mail server)")
    server = smtp(smtp_url, sender) if smtp_url else None
    found = [*hooks, *mails]
    if len({d.id for d in found}) != len(found):
        raise DestinationError("an alert destination is given twice")
    return Destinations(tuple(found), server)
