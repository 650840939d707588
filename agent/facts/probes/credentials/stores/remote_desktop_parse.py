"""Pure parsers for remote-desktop managers: mRemoteNG, RDCMan (.rdg), .rdp files and PuTTY
Connection Manager."""

from __future__ import annotations

import json
import re

from agent.facts.context import ParseError
from agent.facts.probes.credentials.settings import Organisation
from agent.facts.probes.credentials.stores.appdata_parse import Hit
from agent.facts.probes.credentials.stores.clients_parse import (
    add_hit,
    child_text,
    local,
    login_hit,
    saved_kind,
    xml_root,
)


def mremoteng_hits(text: str, org: Organisation) -> list[Hit] | None:
    """Organisation connections in mRemoteNG's confCons.xml; None when the whole file is
    encrypted (FullFileEncryption="true"), so it could not be inspected.

    Sample: <mrng:Connections xmlns:mrng="http://mremoteng.org" Name="Connections"
    EncryptionEngine="AES" FullFileEncryption="false" ConfVersion="2.6"><Node Name="Uni RDP"
    Type="Connection" Username="ab1234" Domain="AD.EXAMPLE.AC.UK" Password="c2VjcmV0..."
    Hostname="rdp.example.ac.uk" Protocol="RDP" Port="3389" /></mrng:Connections>
    """
    root = xml_root(text, "confCons.xml")
    if local(root.tag) != "Connections":
        raise ParseError("confCons.xml: root element is not <Connections>")
    if root.get("FullFileEncryption", "").lower() == "true":
        return None
    hits: list[Hit] = []
    for node in root.iter():
        if local(node.tag) != "Node" or node.get("Type") != "Connection":
            continue
        kind = saved_kind(node.get("Password"))
        hit = login_hit(
            kind, node.get("Hostname", ""), node.get("Username", ""), org, node.get("Domain", "")
        )
        add_hit(hits, hit)
    return hits


def rdg_hits(text: str, org: Organisation) -> list[Hit]:
    """Organisation servers and logon credentials in a Remote Desktop Connection Manager file
    (.rdg) or in RDCMan.settings, which keeps credential profiles and default credentials too.

    Sample: <RDCMan programVersion="2.90" schemaVersion="3"><file><credentialsProfiles/>
    <properties><name>Uni</name></properties><server><properties><name>rdp.example.ac.uk</name>
    </properties><logonCredentials inherit="None"><profileName scope="Local">Custom
    </profileName><userName>ab1234</userName><password>AQAAANCMnd8B...</password>
    <domain>AD</domain></logonCredentials></server></file></RDCMan>
    RDCMan.settings: <Settings><CredentialsProfiles><credentialsProfiles><credentialsProfile>
    <profileName scope="Local">uni</profileName><userName>ab1234</userName><password>...
    </password><domain>AD.EXAMPLE.AC.UK</domain></credentialsProfile>...<DefaultGroupSettings>
    <defaultSettings><logonCredentials>...</logonCredentials></defaultSettings>...</Settings>
    """
    root = xml_root(text, "RDCMan file")
    if local(root.tag) not in ("RDCMan", "Settings"):
        raise ParseError("RDCMan file: root element is neither <RDCMan> nor <Settings>")
    hits: list[Hit] = []
    in_servers: set[int] = set()
    for element in root.iter():
        name = local(element.tag)
        hit: Hit | None = None
        if name == "server":
            props = next((c for c in element if local(c.tag) == "properties"), element)
            creds = next((c for c in element if local(c.tag) == "logonCredentials"), None)
            user = domain = ""
            if creds is not None:
                in_servers.add(id(creds))
                user, domain = child_text(creds, "userName"), child_text(creds, "domain")
            saved = creds is not None and bool(child_text(creds, "password"))
            kind = saved_kind(saved)
            hit = login_hit(kind, child_text(props, "name"), user, org, domain)
        elif name == "credentialsProfile" or (
            name == "logonCredentials" and id(element) not in in_servers
        ):
            user, domain = child_text(element, "userName"), child_text(element, "domain")
            hit = login_hit("saved_login", "", user, org, domain)
        add_hit(hits, hit)
    return hits


_RDP_SETTING = re.compile(r"^([a-z0-9 ]+):([sib]):(.*)$", re.IGNORECASE)


def rdp_hits(text: str, org: Organisation) -> list[Hit]:
    """An organisation host or account in a Remote Desktop Connection file (.rdp).

    Sample (UTF-16 text): screen mode id:i:2\\r\\nfull address:s:rdp.example.ac.uk\\r\\n
    username:s:AD\\ab1234\\r\\ngatewayhostname:s:rdg.example.ac.uk\\r\\n
    password 51:b:01000000D08C9DDF...   <- a DPAPI-sealed password: only its presence counts
    """
    settings: dict[str, str] = {}
    for raw in text.splitlines():
        match = _RDP_SETTING.match(raw.strip())
        if match:
            settings[match[1].lower()] = (
                match[3].strip() if match[1].lower() != "password 51" else "1"
            )
    kind = saved_kind(settings.get("password 51"))
    user = settings.get("username", "")
    for host_key in ("full address", "alternate full address", "gatewayhostname"):
        host = settings.get(host_key, "").split(":", 1)[0]
        if host and (hit := login_hit(kind, host, user, org)):
            return [hit]
    hit = login_hit(kind, "", user, org) if user else None
    return [hit] if hit else []


def remmina_hits(text: str, org: Organisation) -> list[Hit]:
    """An organisation server or account in a Remmina connection profile (.remmina, INI).

    Sample:
        [remmina]
        name=Uni RDP
        protocol=RDP
        server=rds.example.ac.uk:3389
        username=ab1234
        domain=AD.EXAMPLE.AC.UK
        password=CANARY...          <- encrypted with remmina.pref's secret; "." = in the keyring
        gateway_server=rdg.example.ac.uk
    """
    values: dict[str, str] = {}
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
        elif section == "remmina" and "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = "1" if key.strip() == "password" and value.strip() else value
    kind = saved_kind(values.get("password"))
    user, domain = values.get("username", "").strip(), values.get("domain", "").strip()
    for host_key in ("server", "gateway_server", "ssh_tunnel_server"):
        host = values.get(host_key, "").strip().rsplit(":", 1)[0] if values.get(host_key) else ""
        if host and (hit := login_hit(kind, host, user, org, domain)):
            return [hit]
    hit = login_hit(kind, "", user, org, domain) if user or domain else None
    return [hit] if hit else []


def puttycm_databases(text: str) -> list[str]:
    """The database files PuTTY Connection Manager opens, from its registry script's JSON.

    Sample: {"Databases":["C:\\\\Users\\\\alice\\\\Documents\\\\PuTTYCM.dat"]} (DefaultDatabase of
    HKCU\\Software\\ACS\\PuTTY Connection Manager, per loaded user hive).
    """
    try:
        doc = json.loads(text.strip().lstrip("\ufeff") or "{}")
    except ValueError as exc:
        raise ParseError(f"PuTTY CM registry script did not print JSON: {exc}") from exc
    paths = doc.get("Databases", []) if isinstance(doc, dict) else None
    if isinstance(paths, str):
        paths = [paths]
    if not isinstance(paths, list):
        raise ParseError("PuTTY CM registry script: expected {Databases: [...]}")
    return [p for p in paths if isinstance(p, str) and p.strip()]


def puttycm_hits(text: str, org: Organisation) -> list[Hit]:
    """Organisation connections in a PuTTY Connection Manager database (XML).

    Sample: <configuration version="0.7.1.136"><root type="database" name="Database"><container
    type="folder" name="Uni"><connection type="PuTTY" name="hpc"><connection_info><name>hpc
    </name><protocol>SSH</protocol><host>hpc.example.ac.uk</host><port>22</port>
    </connection_info><login><login>ab1234</login><password>CANARY</password><prompt />
    </login></connection></container></root></configuration>
    A non-empty <password> (kept in plain text) makes it a saved login; its value is never kept.
    """
    root = xml_root(text, "PuTTY CM database")
    hits: list[Hit] = []
    for connection in root.iter():
        if local(connection.tag) != "connection":
            continue
        info = {local(c.tag): (c.text or "").strip() for part in connection for c in part}
        kind = saved_kind(info.get("password"))
        hit = login_hit(kind, info.get("host", ""), info.get("login", ""), org)
        add_hit(hits, hit)
    return hits
