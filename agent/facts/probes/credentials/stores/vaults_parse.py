"""Pure parsers for password vaults and exports: names that are the organisation's, CSV rows."""

from __future__ import annotations

import csv
import re

from agent.facts.context import ParseError
from agent.facts.probes.credentials.scan import match_host
from agent.facts.probes.credentials.settings import Organisation
from agent.facts.probes.credentials.stores.appdata_parse import Hit
from agent.matching import host_of

# Column names of the URL and the user in password-manager exports (Chrome/Edge/Brave,
# Firefox, Safari, Bitwarden, 1Password, LastPass, KeePass/KeePassXC), lower-cased.
_URL_COLUMNS = ("url", "login_uri", "website", "web site", "hostname", "origin", "uri", "urls")
_USER_COLUMNS = ("username", "login_username", "user name", "login name", "login", "email")
_PASSWORD_COLUMNS = ("password", "login_password")
_WORDS = re.compile(r"[^a-z0-9]+")


def words(text: str) -> str:
    """Lower-case words joined by single spaces: 'OneDrive - Univ. of X' -> 'onedrive univ of x'."""
    return " ".join(_WORDS.split(text.lower())).strip()


def org_names(org: Organisation) -> list[tuple[str, str]]:
    """(words to look for, what it matched): each organisation name and each domain, and a
    domain's first label when it is distinctive (4+ letters): 'example.ac.uk' -> 'example'."""
    found = [(words(name), name) for name in org.names if words(name)]
    for domain in org.domains:
        found.append((words(domain), domain))
        label = domain.split(".", 1)[0]
        if len(label) >= 4:
            found.append((words(label), domain))
    return found


def named_for(name: str, org: Organisation) -> str | None:
    """The organisation value a file name stands for, as whole words, or None.

    Samples: 'Example Uni.kdbx' -> 'example.ac.uk'; 'university-of-example.kdbx' ->
    'University of Example'; 'counterexample.kdbx', 'personal.kdbx' -> None.
    """
    stem = f" {words(name.rsplit('.', 1)[0])} "
    for phrase, matched in org_names(org):
        if f" {phrase} " in stem:
            return matched
    return None


def export_hits(text: str, org: Organisation) -> list[Hit] | None:
    """Organisation sites in a password-manager export (CSV); None when it is not one (no URL
    and password columns). The password column is never kept.

    Sample (Chrome/Edge "Passwords.csv"): name,url,username,password,note
    idp.example.ac.uk,https://idp.example.ac.uk/idp/profile/SAML2/Redirect/SSO,ab1234,CANARY..,
    """
    reader = csv.reader(text.splitlines(keepends=True))
    try:
        header = [cell.strip().lower() for cell in next(reader, [])]
    except csv.Error:
        return None  # not even a CSV header: some other file named .csv

    url = next((header.index(c) for c in _URL_COLUMNS if c in header), None)
    if url is None or not any(c in header for c in _PASSWORD_COLUMNS):
        return None
    user = next((header.index(c) for c in _USER_COLUMNS if c in header), None)
    hits: list[Hit] = []
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise ParseError(f"password export: malformed CSV ({exc})") from exc
    for row in rows:
        site = row[url].strip() if url < len(row) else ""
        login = row[user].strip() if user is not None and user < len(row) else ""
        by_user = match_host(login, org) if "@" in login else None
        matched = by_user or (match_host(site, org) if site and " " not in site else None)
        if matched is None:
            continue
        hit = ("password_export", login if by_user else host_of(site), matched)
        if hit not in hits:
            hits.append(hit)
    return hits


def kdbx_paths(text: str) -> list[str]:
    """The KeePass database paths a KeePassXC settings file or KeePass 2's KeePass.config.xml
    remembers (recent, last opened); names may hold spaces.

    Samples: [General]\nLastOpenedDatabases=/home/alice/Documents/Uni.kdbx, /home/alice/me.kdbx
    <LastUsedFile><Path>..\\..\\Documents\\Example Uni.kdbx</Path></LastUsedFile>
    """
    found = re.findall(r"[^\n\r,=\"'<>]+?\.kdbx\b", text, flags=re.IGNORECASE)
    return list(dict.fromkeys(path.strip() for path in found if path.strip()))
