"""Pure parser for Subversion's saved credentials (auth/svn.simple hash files)."""

from __future__ import annotations

from agent.facts.context import ParseError
from agent.facts.probes.credentials.settings import Organisation
from agent.facts.probes.credentials.stores.appdata_parse import Hit
from agent.facts.probes.credentials.stores.clients_parse import login_hit, saved_kind
from agent.matching import host_of


def parse_svn_hash(text: str) -> dict[str, str]:
    """The keys of an svn hash dump with their values, except the password's, which is skipped.

    Sample (auth/svn.simple/<md5 of the realm>):
        K 8
        passtype
        V 6
        simple
        K 8
        password
        V 14
        CANARY-0123456
        K 15
        svn:realmstring
        V 43
        <https://svn.example.ac.uk:443> Example SVN
        K 8
        username
        V 6
        ab1234
        END
    """
    values: dict[str, str] = {}
    lines = text.splitlines()
    at = 0
    while at < len(lines) and lines[at] != "END":
        if not lines[at].startswith("K ") or at + 3 >= len(lines):
            raise ParseError(f"svn auth file: expected 'K <length>' at line {at + 1}")
        key, header = lines[at + 1], lines[at + 2]
        if not header.startswith("V "):
            raise ParseError(f"svn auth file: expected 'V <length>' at line {at + 3}")
        try:
            length = int(header[2:])
        except ValueError as exc:
            raise ParseError(f"svn auth file: bad length at line {at + 3}") from exc
        # A value may span lines; its length in bytes says where it ends.
        taken: list[str] = []
        end = at + 3
        while end < len(lines) and len("\n".join(taken).encode()) < length:
            taken.append(lines[end])
            end += 1
        if key != "password":
            values[key] = "\n".join(taken)
        else:
            values[key] = ""  # present, never kept
        at = end
    return values


def svn_hit(text: str, org: Organisation) -> list[Hit]:
    """An organisation repository with a saved user (and password, or a keyring pointer)."""
    values = parse_svn_hash(text)
    realm = values.get("svn:realmstring", "")
    url = realm[1:].split(">", 1)[0] if realm.startswith("<") else realm
    kind = saved_kind("password" in values or values.get("passtype"))
    hit = login_hit(kind, host_of(url) if url else "", values.get("username", ""), org)
    return [hit] if hit else []
