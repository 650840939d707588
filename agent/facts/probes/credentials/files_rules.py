"""File scan content rules: organisation mentions first, then credential patterns near them."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass

from agent.facts.probes.credentials.files_exports import export_columns, export_rows
from agent.facts.probes.credentials.scan import match_host, match_realm, match_tenant
from agent.facts.probes.credentials.settings import Organisation

WINDOW_BYTES = 1024  # a credential counts this close to an organisation mention...
LINE_SLACK = 256  # ...widened to whole lines when the line ends within this much more
BINARY_PROBE = 8192  # a NUL byte in the first block makes a file binary
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")

_HOST_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789-_")
_HEX_BYTES = frozenset(b"0123456789abcdef-")
_DOT = ord(".")


@dataclass(frozen=True, order=True)
class FileFinding:
    """One organisation credential in a file: its kind and the organisation name beside it."""

    kind: str
    identity: str
    org_match: str


def is_binary(head: bytes) -> bool:
    """A NUL byte in the first block, unless the file is UTF-16 text (it starts with a BOM).

    b"host=db.example.ac.uk" -> False; b"\\x7fELF\\x02\\x01\\x00" -> True;
    b"\\xff\\xfep\\x00w\\x00" (a UTF-16 PowerShell transcript) -> False.
    """
    return not head.startswith(_UTF16_BOMS) and b"\0" in head[:BINARY_PROBE]


def as_text(data: bytes) -> bytes:
    """The bytes to scan: UTF-16 is transcoded to UTF-8, anything else is scanned as it is.

    b"\\xff\\xfep\\x00w\\x00" -> b"pw"; b"pw" -> b"pw".
    """
    if data.startswith(_UTF16_BOMS):
        return data.decode("utf-16", "replace").encode("utf-8")
    return data


class OrgIndex:
    """The organisation's identifiers as lower-case byte literals, for a fast first pass."""

    def __init__(self, org: Organisation) -> None:
        self.org = org
        names = {n.strip(".").lower() for n in (*org.domains, *org.kerberos_realms, *org.vpn_hosts)}
        names.discard("")
        # A name under another (vpn.example.ac.uk under example.ac.uk) is found by the shorter.
        kept = sorted(n for n in names if not any(n.endswith("." + o) for o in names))
        self.hosts = tuple(n.encode("utf-8") for n in kept)
        self.tenants = tuple(t.lower().encode("ascii", "ignore") for t in org.tenant_ids if t)
        self._known: dict[str, tuple[str, str] | None] = {}

    @property
    def empty(self) -> bool:
        return not self.hosts and not self.tenants

    def mentions(self, low: bytes) -> list[int]:
        """Where organisation identifiers start in lower-cased text; look-alikes are not.

        b"url = https://git.example.ac.uk/x" -> [18];
        b"example.ac.uk.evil.com", b"badexample.ac.uk", b"example.ac.uk-x.com" -> [].
        """
        found: list[int] = []
        size = len(low)
        for literal in self.hosts:
            is_ip = literal.replace(b".", b"").isdigit()
            at = low.find(literal)
            while at != -1:
                end = at + len(literal)
                after = low[end] if end < size else 0
                before = low[at - 1] if at else 0
                if (
                    after not in _HOST_BYTES  # example.ac.uk-evil.com
                    and not (after == _DOT and end + 1 < size and low[end + 1] in _HOST_BYTES)
                    and (
                        (before not in _HOST_BYTES and not (is_ip and before == _DOT))
                        or low.endswith(b"%40", 0, at)  # alice%40example.ac.uk in a URL
                    )
                ):
                    found.append(at)
                at = low.find(literal, end)
        for literal in self.tenants:
            at = low.find(literal)
            while at != -1:
                end = at + len(literal)
                if not (at and low[at - 1] in _HEX_BYTES) and not (
                    end < size and low[end] in _HEX_BYTES
                ):
                    found.append(at)
                at = low.find(literal, end)
        found.sort()
        return found

    def identify(self, low: bytes, at: int) -> tuple[str, str] | None:
        """The host (with its subdomains) or tenant id mentioned at `at`, and what it matched."""
        for literal in self.tenants:
            if low.startswith(literal, at):
                tenant = literal.decode("ascii")
                matched = match_tenant(tenant, self.org)
                return None if matched is None else (tenant, matched)
        end = next((at + len(h) for h in self.hosts if low.startswith(h, at)), at)
        start = at
        while start > 1 and low[start - 1] == _DOT and end - start < 253:
            label = start - 1
            while label > 0 and low[label - 1] in _HOST_BYTES and start - label < 64:
                label -= 1
            if label == start - 1:
                break
            start = label
        host = low[start:end].decode("utf-8", "replace")
        if host not in self._known:
            matched = match_host(host, self.org) or match_realm(host, self.org)
            self._known[host] = None if matched is None else (host, matched)
        return self._known[host]


# Every credential pattern starts where one of these does: a cheap first pass finds them
# (factored by first letter, which makes Python's re about a fifth faster).
_TRIGGERS = re.compile(
    rb"p(?:ass|wd|rivate[ _-]?key|utty-user-key-file-)|secret|token"
    rb"|a(?:pi[_-]?key|pikey|cc(?:ess|ount)[_-]?key|uth|kia|sia)"
    rb"|g(?:h[pousr]_|ithub_pat_|lpat-)|xox[abposr]-|eyj"
    rb"""|://[^\s:/?#@"'<>]{0,128}:[^\s/?#@"'<>]{1,256}@"""  # a URL with a user and password
)
# Matched (on lower-cased text) where a trigger starts.
_CREDENTIALS = re.compile(
    rb"""
    (?P<pem>private[ ]key(?:[ ]block)?-----|putty-user-key-file-[0-9]+:)
    |(?P<url>(?<=[a-z0-9])://[^\s:/?\#@"'<>]{0,128}:(?P<urlpw>[^\s/?\#@"'<>]{1,256})
        @(?P<urlhost>[a-z0-9_.-]{1,253}))
    |(?P<auth>authorization["']?[ \t]*[:=][ \t]*["']?(?:bearer|basic|token|negotiate)[ \t]+
        [a-z0-9._~+/=-]{8,})
    |(?P<tok>(?<![a-z0-9_-])(?:gh[pousr]_[a-z0-9]{36,}|github_pat_[a-z0-9_]{22,}
        |glpat-[a-z0-9_-]{20,}|xox[abposr]-[a-z0-9-]{10,}|(?:akia|asia)[a-z0-9]{16}(?![a-z0-9])
        |eyj[a-z0-9_-]{8,}\.eyj[a-z0-9_-]{8,}\.[a-z0-9_-]{8,}))
    |(?P<xml>(?<=<)(?P<xkey>pass(?:word|wd)?|pwd|secret|token|api[_-]?key)>[ \t]*
        (?P<xval>[^<\s]{1,256})[ \t]*</)
    |(?P<cli>(?:(?<=--)(?P<cflag>password|passwd|pass|token|api-key|secret)[= ]
        |(?<=ssh)pass[ \t]+-p[ \t]*)["']?(?P<cval>[^\s"']{1,256}))
    |(?P<kv>(?:(?P<pk>pass(?:word|wd|phrase)|(?<![a-z0-9])pass|pwd)  # dbPassword, not bypass
          |secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key  # clientSecret
          |account[_-]?key  # an Azure storage connection string's AccountKey=
          |(?<![a-z0-9])auth)  # docker's "auth": "<base64 user:password>", not oauth
        (?:[_.-]?(?:access[_-]?key|key|token|secret|value|string))?
        ["']?[ \t]{0,3}(?::=|=>|==|=|:)[ \t]{0,3}
        (?P<q>["']?)(?P<val>(?!-----)[^\s"'`,;&<>\\]{1,256}))
    |(?P<netrc>(?<![a-z0-9])password[ \t]+(?P<nval>[^\s]{1,256}))
    """,
    re.VERBOSE,
)

_PLACEHOLDER_WORDS = frozenset(
    b"null none nil true false undefined required optional string str bool int password "
    b"passwd passphrase secret token changeme redacted hidden example placeholder "
    b"yourpassword your_password your-password mypassword my_password prompt keyring "
    b"env environment empty default pass pw pwd user username".split()
)
_PLACEHOLDER_PREFIXES = (b"${", b"$(", b"{{", b"{%", b"%(", b"#{", b"<", b"[", b"!vault")
_VARIABLE = re.compile(rb"\$[a-z_][a-z0-9_]*|%[a-z_][a-z0-9_]*%", re.IGNORECASE)
_CODE_REFERENCE = re.compile(
    rb"[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)+(?:\(.*)?|[a-z_][a-z0-9_.]*\(.*", re.IGNORECASE
)
_MASK_BYTES = frozenset(b"*xX.#-_ ")


def is_placeholder(value: bytes, quoted: bool, shortest: int = 6) -> bool:
    """A value that stands for a secret rather than being one.

    b"${DB_PASSWORD}", b"<password>", b"********", b"changeme", b"os.environ.get(" (unquoted),
    b"ose_...", b"null" -> True; b"CANARY-file-3f9a1c" -> False.
    """
    value = value.strip(b"\"'")
    if len(value) < shortest or value.lower() in _PLACEHOLDER_WORDS:
        return True
    if value.startswith(_PLACEHOLDER_PREFIXES) or _VARIABLE.fullmatch(value):
        return True
    if value.endswith((b"...", "\u2026".encode())):  # elided in documentation: "ose_..."
        return True
    if set(value) <= _MASK_BYTES:
        return True
    return not quoted and _CODE_REFERENCE.fullmatch(value) is not None


def _kind(match: re.Match[bytes], low: bytes) -> str | None:
    """The finding kind of one credential-pattern match, or None for a placeholder."""
    group = match.lastgroup
    if group == "pem":
        return "private_key_in_file"
    if group == "url":
        return None if is_placeholder(match["urlpw"], True, 1) else "url_credentials_in_file"
    if group in ("auth", "tok"):
        return "token_in_file"
    if group == "xml":
        if is_placeholder(match["xval"], True):
            return None
        return "password_in_file" if match["xkey"].startswith(b"p") else "token_in_file"
    if group == "cli":
        if is_placeholder(match["cval"], False):
            return None
        return "password_in_file" if (match["cflag"] or b"pass")[0] == ord("p") else "token_in_file"
    if group == "netrc":  # "machine h login u password p": only after a login on the same line
        line = low.rfind(b"\n", 0, match.start()) + 1
        if low.find(b"login", line, match.start()) == -1 or is_placeholder(match["nval"], False):
            return None
        return "password_in_file"
    if is_placeholder(match["val"], bool(match["q"])):
        return None
    return "password_in_file" if match["pk"] else "token_in_file"


def _windows(low: bytes, mentions: list[int]) -> list[tuple[int, int]]:
    """Byte ranges within WINDOW_BYTES of a mention, merged, widened to whole lines if short."""
    size = len(low)
    ranges: list[tuple[int, int]] = []
    first = last = mentions[0]
    for at in [*mentions[1:], size + 2 * WINDOW_BYTES + 1]:  # a sentinel closes the last range
        if at - last <= 2 * WINDOW_BYTES:
            last = at
            continue
        start, end = max(0, first - WINDOW_BYTES), min(size, last + WINDOW_BYTES)
        if start > 0:
            newline = low.rfind(b"\n", max(0, start - LINE_SLACK), start)
            start = newline + 1 if newline != -1 else (0 if start <= LINE_SLACK else start)
        if end < size:
            newline = low.find(b"\n", end, end + LINE_SLACK)
            end = newline if newline != -1 else (size if size - end <= LINE_SLACK else end)
        if ranges and start <= ranges[-1][1]:
            start = ranges[-1][0]
            ranges.pop()
        ranges.append((start, end))
        first = last = at
    return ranges


def _in_export(data: bytes, low: bytes, index: OrgIndex) -> Iterator[FileFinding]:
    """The organisation's passwords in a password manager's CSV export (files_exports), each
    named by the site or login of its row."""
    columns = export_columns(low)
    if columns is None:
        return
    for cells, password in export_rows(data, columns):
        named = cells.encode("utf-8")
        mentioned = index.mentions(named)
        if not mentioned or is_placeholder(password, True, 1):
            continue
        identity = index.identify(named, mentioned[0])
        if identity is not None:
            yield FileFinding("password_in_file", *identity)


def find_in_text(data: bytes, index: OrgIndex, *, exports: bool = True) -> list[FileFinding]:
    """Organisation credentials in one text file: never the secret, only kind and host.

    A credential pattern counts when an organisation identifier is within WINDOW_BYTES of it,
    except a URL with credentials, which counts only when its own host is the organisation's:
    b"[db]\\nhost = db.example.ac.uk\\npassword = CANARY-1" ->
    [FileFinding("password_in_file", "db.example.ac.uk", "example.ac.uk")];
    b"https://bob:CANARY-2@git.other.edu # see example.ac.uk" -> [].
    `exports=False` leaves a password manager's CSV export to its own store finder.
    """
    low = data.lower()
    mentions = index.mentions(low)
    if not mentions:
        return []
    found: set[FileFinding] = set(_in_export(data, low, index) if exports else ())
    for start, end in _windows(low, mentions):
        free = start  # a trigger inside the last match (a password holding "token") is not one
        for trigger in _TRIGGERS.finditer(low, start, end):
            at = trigger.start()
            match = None if at < free else _CREDENTIALS.match(low, at, end)
            if match is None:
                continue
            free = match.end()
            kind = _kind(match, low)
            if kind is None:
                continue
            if kind == "url_credentials_in_file":
                host = match["urlhost"].decode("ascii").rstrip(".")
                matched = match_host(host, index.org)
                if matched is not None:
                    found.add(FileFinding(kind, host, matched))
                continue
            place = bisect.bisect_left(mentions, match.start())
            near = [mentions[i] for i in (place - 1, place) if 0 <= i < len(mentions)]
            named = index.identify(low, min(near, key=lambda m: abs(m - match.start())))
            if named is not None:
                found.add(FileFinding(kind, *named))
    return sorted(found)
