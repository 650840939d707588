"""Parsers of the wider store catalogue, on real samples: never a secret in what they return."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from agent.facts.context import ParseError
from agent.facts.probes.credentials.stores.clients_parse import login_hit, xml_root
from agent.facts.probes.credentials.stores.collaboration_parse import (
    pidgin_hits,
    slack_hits,
    sync_folder_match,
    teams_hits,
)
from agent.facts.probes.credentials.stores.databases_parse import (
    dbeaver_hits,
    mycnf_hits,
    pgpass_hits,
    sqldeveloper_hits,
)
from agent.facts.probes.credentials.stores.ftp_parse import (
    coreftp_registry_hits,
    cyberduck_config_hits,
    cyberduck_hits,
    filezilla_hits,
    ftp_navigator_hits,
    winscp_ini_hits,
    winscp_registry_hits,
)
from agent.facts.probes.credentials.stores.histories_parse import history_hits
from agent.facts.probes.credentials.stores.remote_desktop_parse import (
    mremoteng_hits,
    puttycm_databases,
    puttycm_hits,
    rdg_hits,
    rdp_hits,
    remmina_hits,
)
from agent.facts.probes.credentials.stores.subversion_parse import parse_svn_hash, svn_hit
from agent.facts.probes.credentials.stores.system_config_parse import (
    autologon_hits,
    cifs_hit,
    parse_cifs_credentials,
    parse_fstab_cifs,
    unattend_hits,
)
from agent.facts.probes.credentials.stores.vaults_parse import export_hits, kdbx_paths, named_for
from tests.unit.test_probe_fixtures import (
    TEST_ORGANISATION,
)

ORG = TEST_ORGANISATION


# ------------------------------------------------------------------------------ shared helper
@pytest.mark.parametrize(
    ("host", "user", "domain", "expected"),
    [
        ("sftp.example.ac.uk", "ab1234", "", "ab1234@sftp.example.ac.uk"),
        ("files.other.test", "alice@example.ac.uk", "", "alice@example.ac.uk (files.other.test)"),
        ("", "ab1234", "AD.EXAMPLE.AC.UK", "AD.EXAMPLE.AC.UK\\ab1234"),
        ("rds.example.ac.uk", "AD\\ab1234", "", "AD\\ab1234 (rds.example.ac.uk)"),
        ("sftp.example.ac.uk", "", "", "sftp.example.ac.uk"),
        ("host.example.ac.uk.evil.test", "x", "", None),
        ("badexample.ac.uk", "", "", None),
        ("pc.home.test", "AD\\ab1234", "", None),  # a NetBIOS name is not matched
        ("Uni server", "", "", None),  # a display name
    ],
)
def test_login_hit(host: str, user: str, domain: str, expected: str | None) -> None:
    hit = login_hit("saved_login", host, user, ORG, domain)
    assert (hit[1] if hit else None) == expected


def test_xml_with_entities_is_refused() -> None:
    bomb = '<!DOCTYPE x [<!ENTITY a "aaaa">]><FileZilla3>&a;</FileZilla3>'
    with pytest.raises(ParseError, match="entities"):
        xml_root(bomb, "FileZilla server list")
    with pytest.raises(ParseError, match="well-formed"):
        filezilla_hits("<FileZilla3><Servers>", ORG)


# ------------------------------------------------------------------------------ FTP / SFTP
def test_filezilla_saved_login_versus_session() -> None:
    text = (
        '<FileZilla3 version="3.66.4" platform="windows"><Servers><Folder>Uni<Server>'
        "<Host>sftp.example.ac.uk</Host><User>ab1234</User>"
        '<Pass encoding="crypt" pubkey="CANARY-pub">CANARY-crypt</Pass><Logontype>1</Logontype>'
        "</Server></Folder><Server><Host>ftp.example.ac.uk</Host><User>ab1234</User>"
        "<Logontype>2</Logontype></Server></Servers></FileZilla3>"
    )
    hits = filezilla_hits(text, ORG)
    assert hits == [
        ("saved_login", "ab1234@sftp.example.ac.uk", "example.ac.uk"),
        ("saved_session", "ab1234@ftp.example.ac.uk", "example.ac.uk"),
    ]
    assert "CANARY" not in repr(hits)
    with pytest.raises(ParseError, match="FileZilla3"):
        filezilla_hits("<Settings/>", ORG)


def test_winscp_ini_and_registry() -> None:
    ini = (
        "[Sessions\\a]\nHostName=scp.example.ac.uk\nUserName=ab1234\nPassword=CANARY-w1\n"
        "[Configuration\\Interface]\nHostName=ignored.example.ac.uk\n"
    )
    assert winscp_ini_hits(ini, ORG) == [
        ("saved_login", "ab1234@scp.example.ac.uk", "example.ac.uk")
    ]
    reg = '{"Sessions": {"Key": "HKEY_USERS\\\\S\\\\x", "HostName": "hpc.example.ac.uk"}}'
    assert winscp_registry_hits(reg, ORG) == [
        ("HKEY_USERS\\S\\x", ("saved_session", "hpc.example.ac.uk", "example.ac.uk"))
    ]
    with pytest.raises(ParseError):
        winscp_registry_hits("[1, 2]", ORG)
    with pytest.raises(ParseError):
        winscp_registry_hits("WinSCP: error", ORG)


def test_coreftp_registry() -> None:
    reg = (
        '{"Sessions": [{"Key": "HKEY_USERS\\\\S\\\\Sites\\\\0", "HostName": "ftp.example.ac.uk",'
        ' "UserName": "ab1234", "HasPassword": true}, {"Key": "K1", "HostName": "ftp.other.test"}]}'
    )
    assert coreftp_registry_hits(reg, ORG) == [
        ("HKEY_USERS\\S\\Sites\\0", ("saved_login", "ab1234@ftp.example.ac.uk", "example.ac.uk"))
    ]
    with pytest.raises(ParseError, match="CoreFTP"):
        coreftp_registry_hits("Get-ChildItem: denied", ORG)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "Name=Uni;Server=files.example.ac.uk;Port=21;User=ab1234;Password=CANARY-n1;",
            [("saved_login", "ab1234@files.example.ac.uk", "example.ac.uk")],
        ),
        (  # 0/1: no password saved
            "Name=Uni;Server=files.example.ac.uk;Port=21;User=ab1234;Password=0;",
            [("saved_session", "ab1234@files.example.ac.uk", "example.ac.uk")],
        ),
        ("Name=M;Server=mirror.example.ac.uk;Port=21;User=anonymous;Password=1;", []),
        ("Name=Evil;Server=example.ac.uk.evil.test;User=ab1234;Password=CANARY-n2;", []),
        ("garbage without fields", []),
    ],
)
def test_ftp_navigator_lines(line: str, expected: list[tuple[str, str, str]]) -> None:
    hits = ftp_navigator_hits(line + "\r\n", ORG)
    assert hits == expected
    assert "CANARY" not in repr(hits)


def test_cyberduck_bookmark() -> None:
    plist = (
        b'<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict>'
        b"<key>Hostname</key><string>sftp.example.ac.uk</string>"
        b"<key>Username</key><string>ab1234</string></dict></plist>"
    )
    assert cyberduck_hits(plist, ORG) == [
        ("saved_session", "ab1234@sftp.example.ac.uk", "example.ac.uk")
    ]
    with pytest.raises(ParseError):
        cyberduck_hits(b"not a plist", ORG)


def test_cyberduck_windows_user_config() -> None:
    text = (
        '<configuration><settings><setting name="sftp://ab1234@sftp.example.ac.uk" value="C1" />'
        '<setting name="https://files.example.ac.uk/dav" value="C2" />'
        '<setting name="sftp://x@example.ac.uk.evil.test" value="C3" />'
        '<setting name="bookmark.toggle" value="True" /></settings></configuration>'
    )
    assert cyberduck_config_hits(text, ORG) == [
        ("saved_login", "ab1234@sftp.example.ac.uk", "example.ac.uk"),
        ("saved_login", "files.example.ac.uk", "example.ac.uk"),
    ]


# ------------------------------------------------------------------------------ system settings
def test_autologon_needs_auto_admin_logon_or_a_password() -> None:
    base = {"DefaultDomainName": "AD.EXAMPLE.AC.UK", "DefaultUserName": "ab1234"}
    last_user_only = json.dumps({**base, "AutoAdminLogon": "0", "HasDefaultPassword": False})
    assert autologon_hits(last_user_only, ORG) == []
    with_password = json.dumps({**base, "AutoAdminLogon": "0", "HasDefaultPassword": True})
    assert autologon_hits(with_password, ORG) == [
        ("autologon", "AD.EXAMPLE.AC.UK\\ab1234", "AD.EXAMPLE.AC.UK")
    ]
    upn = json.dumps({"AutoAdminLogon": "1", "DefaultUserName": "ab1234@example.ac.uk"})
    assert autologon_hits(upn, ORG) == [("autologon", "ab1234@example.ac.uk", "example.ac.uk")]
    with pytest.raises(ParseError):
        autologon_hits("Get-Item : access denied", ORG)


def test_unattend_join_only_when_no_account() -> None:
    ns = 'xmlns="urn:schemas-microsoft-com:unattend"'
    join_only = f"<unattend {ns}><JoinDomain>ad.example.ac.uk</JoinDomain></unattend>"
    assert unattend_hits(join_only, ORG) == [
        ("unattend_account", "ad.example.ac.uk", "AD.EXAMPLE.AC.UK")
    ]
    accounts = (
        f"<unattend {ns}><DomainAccounts><DomainAccountList><Domain>AD.EXAMPLE.AC.UK</Domain>"
        "<DomainAccount><Name>ab1234</Name><Group>Administrators</Group></DomainAccount>"
        "</DomainAccountList></DomainAccounts></unattend>"
    )
    assert unattend_hits(accounts, ORG) == [
        ("unattend_account", "AD.EXAMPLE.AC.UK\\ab1234", "AD.EXAMPLE.AC.UK")
    ]
    with pytest.raises(ParseError, match="unattend"):
        unattend_hits("<other/>", ORG)


def test_fstab_cifs_lines() -> None:
    text = (
        "# //fs.example.ac.uk/x /mnt/x cifs password=commented 0 0\n"
        "//fs.example.ac.uk/a\\040b /mnt/a cifs user=ab1234,pass=CANARY-f1,dom=AD 0 0\n"
        "\\\\fs.example.ac.uk\\c /mnt/c smb3 credentials=/etc/c.cred 0 0\n"
        "//fs.example.ac.uk/pub /mnt/pub cifs guest 0 0\n"
        "fs.example.ac.uk:/x /mnt/n nfs defaults 0 0\n"
    )
    mounts = parse_fstab_cifs(text)
    assert [(m.line, m.host, m.user, m.domain, m.has_password) for m in mounts] == [
        (2, "fs.example.ac.uk", "ab1234", "AD", True),
        (3, "fs.example.ac.uk", "", "", False),
        (4, "fs.example.ac.uk", "", "", False),
    ]
    assert "CANARY" not in repr(mounts)
    assert mounts[1].credentials_file == "/etc/c.cred"
    assert cifs_hit(mounts[2], "", "", ORG) is None  # a guest mount signs in with nothing
    assert parse_cifs_credentials("username=ab1234\npassword=CANARY-f2\ndomain=AD\n") == (
        "ab1234",
        "AD",
    )


# ------------------------------------------------------------------------------ database clients
def test_pgpass_fields_and_escapes() -> None:
    text = "db.example.ac.uk:5432:*:ab1234:pa\\:ss\n#x.example.ac.uk:1:2:3:4\n*:*:*:u:CANARY\n"
    assert pgpass_hits(text, ORG) == [("saved_login", "ab1234@db.example.ac.uk", "example.ac.uk")]


def test_mycnf_sections() -> None:
    text = "[client]\nhost=mysql.example.ac.uk\nuser=ab1234\npassword\n[mysql]\nhost=localhost\n"
    assert mycnf_hits(text, ORG) == [
        ("saved_session", "ab1234@mysql.example.ac.uk", "example.ac.uk")
    ]  # a bare `password` asks for it


def test_sqldeveloper_json_and_xml() -> None:
    doc = {"connections": [{"info": {"customUrl": "jdbc:oracle:thin:@//ora.example.ac.uk:1521/X"}}]}
    assert sqldeveloper_hits(json.dumps(doc), ORG) == [
        ("saved_session", "ora.example.ac.uk", "example.ac.uk")
    ]
    xml = (
        '<References><Reference name="x"><RefAddresses><StringRefAddr addrType="hostname">'
        "<Contents>db.example.ac.uk</Contents></StringRefAddr><StringRefAddr addrType="
        '"password"><Contents>CANARY</Contents></StringRefAddr></RefAddresses></Reference>'
        "</References>"
    )
    assert sqldeveloper_hits(xml, ORG) == [("saved_login", "db.example.ac.uk", "example.ac.uk")]
    with pytest.raises(ParseError):
        sqldeveloper_hits('{"connections": {}}', ORG)


def test_dbeaver_requires_connections() -> None:
    with pytest.raises(ParseError):
        dbeaver_hits('{"folders": {}}', ORG)
    with pytest.raises(ParseError):
        dbeaver_hits("{", ORG)


# ------------------------------------------------------------------------------ Subversion
def test_svn_hash_skips_the_password_and_handles_multiline_values() -> None:
    text = (
        "K 8\npassword\nV 9\nCANARY-s1\nK 15\nsvn:realmstring\nV 44\n"
        "<https://svn.example.ac.uk:443> Two\nline realm\nK 8\nusername\nV 6\nab1234\nEND\n"
    )
    values = parse_svn_hash(text)
    assert values == {
        "password": "",
        "svn:realmstring": "<https://svn.example.ac.uk:443> Two\nline realm",
        "username": "ab1234",
    }
    assert svn_hit(text, ORG) == [("saved_login", "ab1234@svn.example.ac.uk", "example.ac.uk")]
    with pytest.raises(ParseError):
        parse_svn_hash("K 8\npassword\nX 3\n")


# ------------------------------------------------------------------------------ shell histories
@pytest.mark.parametrize(
    ("line", "tool"),
    [
        ("sshpass -p CANARY-h1 ssh ab1234@login.example.ac.uk", "sshpass"),
        (": 1733300000:0;mysql -h db.example.ac.uk -pCANARY-h2", "mysql"),
        ("- cmd: mysqldump -hdb.example.ac.uk --password=CANARY-h3 research", "mysqldump"),
        ("curl --user ab1234:CANARY-h4 https://api.example.ac.uk/", "curl"),
        ("sudo mount -t cifs //fs.example.ac.uk/a /mnt -o username=x,password=CANARY-h5", "mount"),
        ("xfreerdp /v:rds.example.ac.uk /u:ab1234 /p:CANARY-h6", "xfreerdp"),
        ("ldapsearch -H ldaps://ldap.example.ac.uk -w CANARY-h7 -D cn=x", "ldapsearch"),
        ("git clone https://ab1234:CANARY-h8@git.example.ac.uk/x.git", "git"),
        ("net use \\\\fs.example.ac.uk\\a CANARY-h9 /user:AD\\ab1234", "net"),
        ("cmdkey /add:fs.example.ac.uk /user:AD\\ab1234 /pass:CANARY-h12", "cmdkey"),
        ("cmdkey /add:fs.example.ac.uk /user:AD\\ab1234 /pass", None),
        ("mysql -h db.example.ac.uk -p", None),
        ("ssh -p 2222 login.example.ac.uk", None),
        ("docker login --password-stdin registry.example.ac.uk", None),
        ("mysql -h db.example.ac.uk -p$DB_PASSWORD", None),
        ("net use Z: \\\\fs.example.ac.uk\\a * /user:AD\\ab1234", None),
        ("sshpass -p CANARY-h10 ssh x@login.example.ac.uk.evil.test", None),
        ("echo password=CANARY-h11 # about example.org", None),
    ],
)
def test_history_lines(line: str, tool: str | None) -> None:
    hits = history_hits(line, ORG)
    assert [h.tool for h in hits] == ([tool] if tool else [])
    assert "CANARY" not in repr(hits)


# ------------------------------------------------------------------------------ vaults, exports
@pytest.mark.parametrize(
    ("name", "matched"),
    [
        ("Example Uni.kdbx", "example.ac.uk"),
        ("university-of-example.kdbx", "University of Example"),
        ("example.ac.uk.kdbx", "example.ac.uk"),
        ("counterexample.kdbx", None),
        ("personal.kdbx", None),
        ("examples.kdbx", None),
    ],
)
def test_vault_named_for_the_organisation(name: str, matched: str | None) -> None:
    assert named_for(name, ORG) == matched


def test_password_exports() -> None:
    firefox = (
        '"url","username","password","httpRealm","formActionOrigin","guid"\n'
        '"https://idp.example.ac.uk","ab1234","CANARY-e1",,"https://idp.example.ac.uk",""\n'
    )
    assert export_hits(firefox, ORG) == [("password_export", "idp.example.ac.uk", "example.ac.uk")]
    assert export_hits("name,url\nx,https://idp.example.ac.uk\n", ORG) is None  # no passwords
    assert export_hits("", ORG) is None
    assert kdbx_paths("LastOpenedDatabases=/a/Uni.kdbx, C:/b/x.KDBX\n") == [
        "/a/Uni.kdbx",
        "C:/b/x.KDBX",
    ]


# ------------------------------------------------------------------------------ chat, sync
def test_teams_prefers_the_upn_then_the_tenant() -> None:
    upn = json.dumps({"upnWindowUserUpn": "alice@example.ac.uk", "userTid": "x"})
    assert teams_hits(upn, ORG) == [("chat_account", "alice@example.ac.uk", "example.ac.uk")]
    tenant = json.dumps({"upnWindowUserUpn": "", "homeTenantId": ORG.tenant_ids[0].upper()})
    assert teams_hits(tenant, ORG) == [("chat_account", ORG.tenant_ids[0], ORG.tenant_ids[0])]
    assert teams_hits(json.dumps({"upnWindowUserUpn": "a@example.ac.uk.evil.test"}), ORG) == []


def test_slack_by_name_or_host() -> None:
    doc = {"workspaces": {"T1": {"name": "Research", "url": "https://research.example.ac.uk/"}}}
    assert slack_hits(json.dumps(doc), ORG) == [
        ("chat_account", "https://research.example.ac.uk/", "example.ac.uk")
    ]
    by_domain = {"workspaces": {"T2": {"name": "UoE", "domain": "university-of-example"}}}
    assert slack_hits(json.dumps(by_domain), ORG) == [
        ("chat_account", "UoE", "University of Example")
    ]
    with pytest.raises(ParseError):
        slack_hits('{"teams": []}', ORG)


def test_pidgin_accounts() -> None:
    text = (
        "<account version='1.0'><account><protocol>prpl-jabber</protocol>"
        "<name>ab1234@example.ac.uk/pc</name></account><account><protocol>prpl-irc</protocol>"
        "<name>me@irc.test</name><settings><setting name='connect_server'>"
        "irc.example.ac.uk</setting></settings><password>CANARY</password></account></account>"
    )
    assert pidgin_hits(text, ORG) == [
        ("chat_account", "ab1234@example.ac.uk", "example.ac.uk"),
        ("saved_login", "me@irc.test (irc.example.ac.uk)", "example.ac.uk"),
    ]


@pytest.mark.parametrize(
    ("name", "matched"),
    [
        ("OneDrive - University of Example", "University of Example"),
        ("OneDrive-UniversityofExample", "University of Example"),
        ("Dropbox (University of Example)", "University of Example"),
        ("OneDrive - Personal", None),
        ("OneDrive", None),
        ("University of Example", None),
        ("OneDrive - University of Example Alumni", None),
    ],
)
def test_sync_folder(name: str, matched: str | None) -> None:
    assert sync_folder_match(name, ORG) == matched


def test_sync_folder_needs_the_organisation_name() -> None:
    assert sync_folder_match("OneDrive - University of Example", replace(ORG, names=())) is None


# ------------------------------------------------------------------------------ remote desktop
def test_mremoteng_full_file_encryption_is_not_inspected() -> None:
    text = '<Connections FullFileEncryption="true" Protected="CANARY">CANARY-m1</Connections>'
    assert mremoteng_hits(text, ORG) is None
    with pytest.raises(ParseError):
        mremoteng_hits("<Settings/>", ORG)


def test_rdcman_settings_profiles_and_defaults() -> None:
    settings = (
        "<Settings><CredentialsProfiles><credentialsProfiles><credentialsProfile>"
        "<userName>ab1234</userName><password>C</password><domain>AD.EXAMPLE.AC.UK</domain>"
        "</credentialsProfile></credentialsProfiles></CredentialsProfiles><DefaultGroupSettings>"
        "<defaultSettings><logonCredentials><userName>a@example.ac.uk</userName>"
        "</logonCredentials></defaultSettings></DefaultGroupSettings></Settings>"
    )
    assert rdg_hits(settings, ORG) == [
        ("saved_login", "AD.EXAMPLE.AC.UK\\ab1234", "AD.EXAMPLE.AC.UK"),
        ("saved_login", "a@example.ac.uk", "example.ac.uk"),
    ]


def test_remmina_profiles() -> None:
    profile = "[remmina]\nserver=pc.home.test\nusername=alice@example.ac.uk\npassword=.\n"
    assert remmina_hits(profile, ORG) == [
        ("saved_login", "alice@example.ac.uk (pc.home.test)", "example.ac.uk")
    ]  # "." : the password is in the keyring
    gateway = "[remmina]\nserver=10.1.2.3\ngateway_server=rdg.example.ac.uk:443\npassword=\n"
    assert remmina_hits(gateway, ORG) == [("saved_session", "rdg.example.ac.uk", "example.ac.uk")]
    assert remmina_hits("[other]\nserver=rds.example.ac.uk\n", ORG) == []


def test_rdg_and_rdp() -> None:
    rdg = (
        "<RDCMan><file><group><server><properties><name>rds.example.ac.uk</name></properties>"
        "</server></group></file></RDCMan>"
    )
    assert rdg_hits(rdg, ORG) == [("saved_session", "rds.example.ac.uk", "example.ac.uk")]
    rdp = "full address:s:pc.home.test:3389\r\nusername:s:alice@example.ac.uk\r\n"
    assert rdp_hits(rdp, ORG) == [
        ("saved_session", "alice@example.ac.uk (pc.home.test)", "example.ac.uk")
    ]
    assert rdp_hits("full address:s:rds.example.ac.uk:3389\r\n", ORG) == [
        ("saved_session", "rds.example.ac.uk", "example.ac.uk")
    ]


def test_puttycm_database_and_registry() -> None:
    db = (
        '<configuration version="0.7.1.136"><root type="database" name="D"><container '
        'type="folder" name="Uni"><connection type="PuTTY" name="hpc"><connection_info>'
        "<host>hpc.example.ac.uk</host><port>22</port></connection_info><login><login>ab1234"
        '</login><password>CANARY-p1</password></login></connection><connection type="PuTTY" '
        'name="web"><connection_info><host>web.example.ac.uk</host></connection_info><login>'
        '<login>ab1234</login><password /></login></connection><connection type="PuTTY" '
        'name="x"><connection_info><host>example.ac.uk.evil.test</host></connection_info>'
        "</connection></container></root></configuration>"
    )
    hits = puttycm_hits(db, ORG)
    assert hits == [
        ("saved_login", "ab1234@hpc.example.ac.uk", "example.ac.uk"),
        ("saved_session", "ab1234@web.example.ac.uk", "example.ac.uk"),
    ]
    assert "CANARY" not in repr(hits)
    with pytest.raises(ParseError):
        puttycm_hits("<configuration>", ORG)
    assert puttycm_databases('{"Databases": "C:\\\\a.dat"}') == ["C:\\a.dat"]
    assert puttycm_databases('{"Databases": [" ", null]}') == []
    with pytest.raises(ParseError, match="PuTTY CM"):
        puttycm_databases("Access denied")
