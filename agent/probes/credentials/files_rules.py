"""File scan content rules: organisation mentions first, then credential patterns near them."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from agent.probes.credentials.scan import match_host, match_realm, match_tenant
from agent.scan_settings import Organisation

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


@dataclass(frozen=True)
class Mention:
    """An organisation identifier in a file: where it starts, the host it names, what matched."""

    start: int
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

    @property
    def empty(self) -> bool:
        return not self.hosts and not self.tenants

    def mentions(self, low: bytes) -> list[Mention]:
        """Organisation identifiers in lower-cased text, with look-alikes rejected.

        b"url = https://git.example.ac.uk/x" -> [Mention(14, "git.example.ac.uk", "example.ac.uk")];
        b"example.ac.uk.evil.com", b"badexample.ac.uk", b"example.ac.uk-x.com" -> [].
        """
        found: list[Mention] = []
        for literal in self.hosts:
            at = low.find(literal)
            while at != -1:
                end = at + len(literal)
                mention = self._host_at(low, at, end)
                if mention is not None:
                    found.append(mention)
                at = low.find(literal, end)
        for literal in self.tenants:
            at = low.find(literal)
            while at != -1:
                end = at + len(literal)
                inside = (at > 0 and low[at - 1] in _HEX_BYTES) or (
                    end < len(low) and low[end] in _HEX_BYTES
                )
                tenant = match_tenant(literal.decode("ascii"), self.org)
                if not inside and tenant is not None:
                    found.append(Mention(at, tenant, tenant))
                at = low.find(literal, end)
        found.sort(key=lambda m: m.start)
        return found

    def _host_at(self, low: bytes, at: int, end: int) -> Mention | None:
        size = len(low)
        if end < size and (
            low[end] in _HOST_BYTES
            or (low[end] == _DOT and end + 1 < size and low[end + 1] in _HOST_BYTES)
        ):
            return None  # example.ac.uk.evil.com, example.ac.uk-evil.com
        literal = low[at:end]
        is_ip = literal.replace(b".", b"").isdigit()
        joined = at > 0 and (low[at - 1] in _HOST_BYTES or (is_ip and low[at - 1] == _DOT))
        if joined and not low.endswith(b"%40", 0, at):  # alice%40example.ac.uk: URL e-mail
            return None  # badexample.ac.uk
        start = at
        while not is_ip and start > 1 and low[start - 1] == _DOT and end - start < 253:
            label = start - 1
            while label > 0 and low[label - 1] in _HOST_BYTES and start - label < 64:
                label -= 1
            if label == start - 1:
                break
            start = label
        host = low[start:end].decode("ascii", "replace")
        matched = match_host(host, self.org) or match_realm(host, self.org)
        return None if matched is None else Mention(at, host, matched)


_CREDENTIALS = re.compile(
    rb"""
    (?P<pem>-----(?:BEGIN|END)[ A-Z0-9]{0,40}PRIVATE[ ]KEY(?:[ ]BLOCK)?-----
        |PuTTY-User-Key-File-[0-9]+:)
    |(?P<url>[a-z][a-z0-9+.-]{1,30}://[^\s:/?\#@"'<>]{0,128}:(?P<urlpw>[^\s/?\#@"'<>]{1,256})
        @(?P<urlhost>[a-z0-9_.-]{1,253}))
    |(?P<auth>authorization["']?[ \t]*[:=][ \t]*["']?(?:bearer|basic|token|negotiate)[ \t]+
        [a-z0-9._~+/=-]{8,})
    |(?P<tok>(?<![a-z0-9_-])(?:gh[pousr]_[a-z0-9]{36,}|github_pat_[a-z0-9_]{22,}
        |glpat-[a-z0-9_-]{20,}|xox[abposr]-[a-z0-9-]{10,}|(?:akia|asia)[a-z0-9]{16}(?![a-z0-9])
        |eyj[a-z0-9_-]{8,}\.eyj[a-z0-9_-]{8,}\.[a-z0-9_-]{8,}))
    |(?P<xml><(?P<xkey>pass(?:word|wd)?|pwd|secret|token|api[_-]?key|client[_-]?secret)>[ \t]*
        (?P<xval>[^<\s]{1,256})[ \t]*</)
    |(?P<netrc>(?<![a-z0-9])login[ \t]+[^\s]+[ \t]+password[ \t]+(?P<nval>[^\s]{1,256}))
    |(?P<cli>(?:--(?P<cflag>password|passwd|pass|token|api-key|secret)[= ]|sshpass[ \t]+-p[ \t]*)
        ["']?(?P<cval>[^\s"']{1,256}))
    |(?P<kv>(?<![a-z0-9])(?:[a-z0-9]+[_.-]){0,4}
        (?:(?P<pk>pass(?:word|wd|phrase)?|pwd)
          |secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|client[_-]?secret)
        (?:[_.-]?(?:access[_-]?key|key|token|secret|value|string))?
        ["']?[ \t]{0,3}(?::=|=>|==|=|:)[ \t]{0,3}
        (?P<q>["']?)(?P<val>(?!-----)[^\s"'`,;&<>\\]{1,256}))
    """,
    re.IGNORECASE | re.VERBOSE,
)

_PLACEHOLDER_WORDS = frozenset(
    b"null none nil true false undefined required optional string str bool int password "
    b"passwd passphrase secret token changeme redacted hidden example placeholder "
    b"yourpassword your_password your-password mypassword my_password prompt keyring "
    b"env environment empty default".split()
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
    b"null" -> True; b"CANARY-file-3f9a1c" -> False.
    """
    value = value.strip(b"\"'")
    if len(value) < shortest or value.lower() in _PLACEHOLDER_WORDS:
        return True
    if value.startswith(_PLACEHOLDER_PREFIXES) or _VARIABLE.fullmatch(value):
        return True
    if set(value) <= _MASK_BYTES:
        return True
    return not quoted and _CODE_REFERENCE.fullmatch(value) is not None


def _kind(match: re.Match[bytes]) -> str | None:
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
        return "password_in_file" if match["xkey"].lower().startswith(b"p") else "token_in_file"
    if group == "netrc":
        return None if is_placeholder(match["nval"], False) else "password_in_file"
    if group == "cli":
        if is_placeholder(match["cval"], False):
            return None
        flag = (match["cflag"] or b"pass").lower()
        return "password_in_file" if flag.startswith(b"pass") else "token_in_file"
    if is_placeholder(match["val"], bool(match["q"])):
        return None
    return "password_in_file" if match["pk"] else "token_in_file"


def _windows(data: bytes, mentions: list[Mention]) -> list[tuple[int, int]]:
    """Merged byte ranges around each mention, widened to whole lines where lines are short."""
    size = len(data)
    ranges: list[tuple[int, int]] = []
    for mention in mentions:
        low, high = max(0, mention.start - WINDOW_BYTES), min(size, mention.start + WINDOW_BYTES)
        if low > 0:
            newline = data.rfind(b"\n", max(0, low - LINE_SLACK), low)
            low = newline + 1 if newline != -1 else (0 if low <= LINE_SLACK else low)
        if high < size:
            newline = data.find(b"\n", high, high + LINE_SLACK)
            high = newline if newline != -1 else (size if size - high <= LINE_SLACK else high)
        if ranges and low <= ranges[-1][1]:
            ranges[-1] = (ranges[-1][0], max(ranges[-1][1], high))
        else:
            ranges.append((low, high))
    return ranges


def find_in_text(data: bytes, index: OrgIndex) -> list[FileFinding]:
    """Organisation credentials in one text file: never the secret, only kind and host.

    A credential pattern counts when an organisation identifier is within WINDOW_BYTES of it,
    except a URL with credentials, which counts only when its own host is the organisation's:
    b"[db]\\nhost = db.example.ac.uk\\npassword = CANARY-1" ->
    [FileFinding("password_in_file", "db.example.ac.uk", "example.ac.uk")];
    b"https://bob:CANARY-2@git.other.edu # see example.ac.uk" -> [].
    """
    mentions = index.mentions(data.lower())
    if not mentions:
        return []
    starts = [m.start for m in mentions]
    found: set[FileFinding] = set()
    for low, high in _windows(data, mentions):
        for match in _CREDENTIALS.finditer(data, low, high):
            kind = _kind(match)
            if kind is None:
                continue
            if kind == "url_credentials_in_file":
                host = match["urlhost"].decode("ascii").lower().rstrip(".")
                matched = match_host(host, index.org)
                if matched is not None:
                    found.add(FileFinding(kind, host, matched))
                continue
            place = bisect.bisect_left(starts, match.start())
            near = [mentions[i] for i in (place - 1, place) if 0 <= i < len(mentions)]
            nearest = min(near, key=lambda m: abs(m.start - match.start()))
            found.add(FileFinding(kind, nearest.identity, nearest.org_match))
    return sorted(found)
