"""Pure parsers for FTP/SFTP clients: FileZilla, WinSCP (ini, registry), Cyberduck (bookmarks,
user.config), CoreFTP (registry) and FTP Navigator (Ftplist.txt)."""

from __future__ import annotations

import plistlib
import re

from agent.facts.context import ParseError
from agent.facts.probes.credentials.settings import Organisation
from agent.facts.probes.credentials.stores.appdata_parse import Hit
from agent.facts.probes.credentials.stores.clients_parse import (
    add_hit,
    child_text,
    local,
    login_hit,
    registry_session_hits,
    saved_kind,
    session_hits,
    xml_root,
)


def filezilla_hits(text: str, org: Organisation) -> list[Hit]:
    """Organisation servers in FileZilla's sitemanager.xml or recentservers.xml.

    Sample: <FileZilla3 version="3.66.4" platform="windows"><Servers><Folder expanded="1">Uni
    <Server><Host>sftp.example.ac.uk</Host><Port>22</Port><Protocol>1</Protocol><Type>0</Type>
    <User>ab1234</User><Pass encoding="base64">Q0FO...</Pass><Logontype>1</Logontype>
    <Name>Uni SFTP</Name></Server></Folder></Servers></FileZilla3>
    A <Pass> element (base64, or "crypt" under a master password) makes it a saved login;
    without one (Logontype 2/3: ask, interactive) it is a saved session. The value is never read.
    """
    root = xml_root(text, "FileZilla server list")
    if local(root.tag) != "FileZilla3":
        raise ParseError("FileZilla server list: root element is not <FileZilla3>")
    hits: list[Hit] = []
    for server in root.iter():
        if local(server.tag) != "Server":
            continue
        saved = any(local(child.tag) == "Pass" for child in server)
        kind = saved_kind(saved)
        hit = login_hit(kind, child_text(server, "Host"), child_text(server, "User"), org)
        add_hit(hits, hit)
    return hits


def winscp_ini_hits(text: str, org: Organisation) -> list[Hit]:
    """Organisation sessions in WinSCP.ini (the portable/INI storage of WinSCP's settings).

    Sample:
        [Sessions\\ab1234@sftp.example.ac.uk]
        HostName=sftp.example.ac.uk
        UserName=ab1234
        Password=A35C4356...            <- obfuscated password: only its presence counts
        [Configuration\\Interface]
    """
    sessions: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("[") and line.endswith("]"):
            current = {} if line[1:].lower().startswith("sessions\\") else None
            if current is not None:
                sessions.append(current)
        elif current is not None and "=" in line:
            key, _, value = line.partition("=")
            current[key.strip()] = value.strip() if key.strip() != "Password" else "1"
    return session_hits(sessions, org)


def winscp_registry_hits(text: str, org: Organisation) -> list[tuple[str, Hit]]:
    """(registry key, hit) for organisation sessions from the WinSCP registry script's JSON.

    Sample: {"Sessions":[{"Key":"HKEY_USERS\\\\S-1-5-21-...-1001\\\\Software\\\\Martin Prikryl\\\\
    WinSCP 2\\\\Sessions\\\\ab1234@sftp.example.ac.uk","HostName":"sftp.example.ac.uk",
    "UserName":"ab1234","HasPassword":true}]}
    """
    return registry_session_hits(text, org, "WinSCP")


def coreftp_registry_hits(text: str, org: Organisation) -> list[tuple[str, Hit]]:
    """(registry key, hit) for organisation sites from the CoreFTP registry script's JSON (the
    script maps each Sites subkey's Host and User values; HasPassword: a PW value is saved).

    Sample: {"Sessions":[{"Key":"HKEY_USERS\\\\S-1-5-21-...-1001\\\\Software\\\\FTPware\\\\
    CoreFTP\\\\Sites\\\\1","HostName":"ftp.example.ac.uk","UserName":"ab1234","HasPassword":true}]}
    """
    return registry_session_hits(text, org, "CoreFTP")


def ftp_navigator_hits(text: str, org: Organisation) -> list[Hit]:
    """Organisation servers in FTP Navigator's Ftplist.txt (one site a line).

    Sample: Name=Uni web;Server=ftp.example.ac.uk;Port=21;User=ab1234;Password=xZ|w;
    Password is the XOR-0x19-encoded password, or 0/1 when none is saved: only whether a
    password is there counts; its value is never kept.
    """
    hits: list[Hit] = []
    for line in text.splitlines():
        fields: dict[str, str] = {}
        for part in line.split(";"):
            key, sep, value = part.partition("=")
            if sep:
                fields[key.strip()] = value.strip()
        if "Server" not in fields or fields.get("User", "").lower() == "anonymous":
            continue  # an anonymous login is no one's credential
        saved = fields.get("Password", "") not in ("", "0", "1")
        kind = saved_kind(saved)
        hit = login_hit(kind, fields["Server"], fields.get("User", ""), org)
        add_hit(hits, hit)
    return hits


def cyberduck_hits(data: bytes, org: Organisation) -> list[Hit]:
    """An organisation server in a Cyberduck / Mountain Duck bookmark (.duck property list).

    Sample: <plist version="1.0"><dict><key>Protocol</key><string>sftp</string>
    <key>Nickname</key><string>Uni</string><key>Hostname</key><string>sftp.example.ac.uk</string>
    <key>Port</key><string>22</string><key>Username</key><string>ab1234</string></dict></plist>
    Its password, if saved, is in the keychain / Credential Manager, so this is a saved session.
    """
    try:
        doc = plistlib.loads(data)
    except (plistlib.InvalidFileException, ValueError, TypeError, OverflowError) as exc:
        raise ParseError(f"Cyberduck bookmark is not a property list: {exc}") from exc
    if not isinstance(doc, dict):
        raise ParseError("Cyberduck bookmark: expected a dictionary")
    host, user = doc.get("Hostname"), doc.get("Username")
    hit = login_hit(
        "saved_session",
        host if isinstance(host, str) else "",
        user if isinstance(user, str) else "",
        org,
    )
    return [hit] if hit else []


_URL = re.compile(r"^(?:s?ftps?|https?|davs?|dav)://(?:(?P<user>[^@/]*)@)?(?P<host>[^/:]+)", re.I)


def cyberduck_config_hits(text: str, org: Organisation) -> list[Hit]:
    """Organisation servers whose passwords Cyberduck for Windows keeps in its user.config
    (DPAPI-sealed values of settings named by URL; the values are never read).

    Sample: <configuration><userSettings><Ch.Cyberduck.Core.Properties.Settings><setting
    name="CdSettings" serializeAs="Xml"><value><settings><setting
    name="sftp://ab1234@sftp.example.ac.uk" value="AQAAANCMnd8BFdERjHoAwE..." /></settings>
    </value></setting></Ch.Cyberduck.Core.Properties.Settings></userSettings></configuration>
    """
    root = xml_root(text, "Cyberduck user.config")
    hits: list[Hit] = []
    for element in root.iter():
        match = _URL.match(element.get("name", ""))
        if match is None or not element.get("value"):
            continue
        hit = login_hit("saved_login", match["host"], match["user"] or "", org)
        add_hit(hits, hit)
    return hits
