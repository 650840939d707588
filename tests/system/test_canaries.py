"""Canaries: a home full of organisation credentials, each secret a unique canary. The whole
product runs over it (facts, self-check, send to a real collector, the dashboard) and no canary
byte may appear in a report, a log line, the collector's database or a dashboard page."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from tests.unit.classified_files import (
    CONFIDENTIAL_ID,
    msip_custom,
    pdf_classic,
    pdf_compressed,
    sheet,
    word_part,
    write_ooxml,
    xmp_packet,
)

pytestmark = pytest.mark.system

BIN = Path(sys.executable).parent
SAMPLE_LOGIN_DATA = Path(__file__).resolve().parents[1] / "fixtures/credentials/samples"
ORG = "example-uni.ac.uk"
PASSWORD = "canary test admin password"


def canary(tag: str) -> str:
    return f"CANARY-{tag}-{secrets.token_hex(6)}"


def build_home(home: Path) -> list[str]:
    """Plant organisation credentials in well-known places; returns every canary planted."""
    planted: list[str] = []

    def plant(tag: str) -> str:
        value = canary(tag)
        planted.append(value)
        return value

    def write(relative: str, text: str) -> None:
        path = home / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    write(".netrc", f"machine files.{ORG} login alice password {plant('netrc')}\n")
    write(".git-credentials", f"https://alice:{plant('git')}@git.{ORG}\n")
    write(
        ".ssh/config",
        f"Host uni\n  HostName login.cs.{ORG}\n  User ab1234\n  IdentityFile ~/.ssh/id_uni\n",
    )
    write(
        ".ssh/id_uni",
        "-----BEGIN OPENSSH PRIVATE KEY-----\n" + plant("sshkey") + "\n"
        "-----END OPENSSH PRIVATE KEY-----\n",
    )
    write(".ssh/id_uni.pub", f"ssh-ed25519 AAAAC3Nza ab1234@{ORG}\n")
    write(
        ".aws/config",
        f"[profile uni]\nsso_start_url = https://sso.{ORG}/start\nsso_region = eu-west-2\n",
    )
    write(
        ".aws/credentials",
        f"[uni]\naws_access_key_id = AKIA{secrets.token_hex(8).upper()}\n"
        f"aws_secret_access_key = {plant('aws')}\n",
    )
    write(
        ".docker/config.json",
        json.dumps({"auths": {f"registry.{ORG}": {"auth": plant("docker")}}}),
    )
    write(
        "projects/app/settings.ini",
        f"[database]\nhost = db.{ORG}\nuser = app\npassword = {plant('settings')}\n",
    )
    write(
        "notes/deploy.txt",
        f"deploy with https://deployer:{plant('url')}@deploy.{ORG}/hooks\n",
    )
    write(
        "backup/old-laptop/passwords.csv",
        "name,url,username,password,note\n"
        f"portal,https://portal.{ORG}/login,alice,{plant('oldexport')},\n",
    )
    write(
        "projects/data/storage.ini",
        f"; research data, served as files.{ORG}\nconnection = DefaultEndpointsProtocol=https;"
        f"AccountName=uniresearch;AccountKey={plant('storage')}==;EndpointSuffix=core.windows.net\n",
    )
    profile = home / ".config/google-chrome/Default"
    profile.mkdir(parents=True)
    shutil.copy(SAMPLE_LOGIN_DATA / "chrome_Login_Data.sqlite", profile / "Login Data")
    with sqlite3.connect(profile / "Login Data") as db:
        for (rowid,) in db.execute("SELECT rowid FROM logins").fetchall():
            db.execute(
                "UPDATE logins SET password_value = ? WHERE rowid = ?",
                (plant("chrome").encode(), rowid),
            )
    local_state = {
        "os_crypt": {"encrypted_key": plant("chromekey")},
        "profile": {"info_cache": {"Default": {}}},
    }
    write(".config/google-chrome/Local State", json.dumps(local_state))
    # The wider store catalogue: FTP client, database clients, Subversion, shell history,
    # a password export and a folder synced for the organisation.
    write(
        ".config/filezilla/sitemanager.xml",
        '<?xml version="1.0" encoding="UTF-8" standalone="yes" ?>\n<FileZilla3 version="3.66.4" '
        f'platform="*nix"><Servers><Server><Host>sftp.{ORG}</Host><Port>22</Port>'
        f'<Protocol>1</Protocol><User>ab1234</User><Pass encoding="base64">{plant("filezilla")}'
        "</Pass><Logontype>1</Logontype><Name>Uni</Name></Server></Servers></FileZilla3>\n",
    )
    write(".pgpass", f"db.{ORG}:5432:research:ab1234:{plant('pgpass')}\n")
    write(".my.cnf", f"[client]\nhost=mysql.{ORG}\nuser=ab1234\npassword={plant('mycnf')}\n")
    realm = f"<https://svn.{ORG}:443> Uni SVN"
    password = plant("svn")
    write(
        ".subversion/auth/svn.simple/5671adf2865e267db74f09ba6f872c28",
        f"K 8\npasstype\nV 6\nsimple\nK 8\npassword\nV {len(password)}\n{password}\n"
        f"K 15\nsvn:realmstring\nV {len(realm)}\n{realm}\nK 8\nusername\nV 6\nab1234\nEND\n",
    )
    write(".bash_history", f"ls\nsshpass -p {plant('history')} ssh ab1234@login.{ORG}\n")
    write(
        "Downloads/Chrome Passwords.csv",
        f"name,url,username,password,note\nidp,https://idp.{ORG}/,ab1234,{plant('export')},\n",
    )
    (home / "OneDrive - Canary University").mkdir()
    plant_classified_files(home, plant)
    return planted


def plant_classified_files(home: Path, plant: Callable[[str], str]) -> None:
    """Office files and PDFs classified above PUBLIC, canaries in their body, headers and
    properties (and in a broken PDF, whose parser's errors must not quote it)."""
    label = msip_custom(CONFIDENTIAL_ID, "Confidential", Project=plant("docprop"))
    write_ooxml(
        home / "Documents/plan.docx",
        "docx",
        {
            "word/document.xml": word_part("document", plant("docbody")),
            "word/header1.xml": word_part("hdr", "CONFIDENTIAL ", plant("docheader")),
            "docProps/custom.xml": label,
        },
    )
    write_ooxml(
        home / "Documents/budget.xlsx",
        "xlsx",
        {"xl/worksheets/sheet1.xml": sheet([plant("cell")], f"&CRestricted {plant('xlhead')}")},
    )
    info = {
        f"MSIP_Label_{CONFIDENTIAL_ID}_Enabled": "true",
        f"MSIP_Label_{CONFIDENTIAL_ID}_Name": "Confidential",
        "Title": plant("pdftitle"),
    }
    xmp = xmp_packet({"dc:title": plant("xmptitle"), "pdfx:Note": plant("xmpnote")})
    (home / "Downloads").mkdir(parents=True, exist_ok=True)
    (home / "Downloads/brief.pdf").write_bytes(pdf_compressed(info, xmp, plant("pdfbody")))
    broken = pdf_classic(info, None, plant("brokenbody"))
    (home / "Downloads/broken.pdf").write_bytes(broken[: len(broken) // 2])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def world(tmp_path: Path) -> Iterator[dict[str, object]]:
    home = tmp_path / "home" / "alice"
    planted = build_home(home)
    policy = tmp_path / "policy.toml"
    policy.write_text(f'[organisation]\nname = "Canary University"\ndomains = ["{ORG}"]\n')
    config = tmp_path / "agent.toml"
    config.write_text(f'[credentials]\nhomes = ["{home}"]\n')
    data = tmp_path / "collector"
    port = free_port()
    env = {
        **os.environ,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        "OUTPOST_STATE_DIR": str(tmp_path / "agent"),
        "OUTPOST_CONFIG": str(config),
    }
    subprocess.run(
        [str(BIN / "collector"), "admin", "create", "admin", "--password-stdin",
         "--data-dir", str(data)],
        input=PASSWORD, text=True, check=True, capture_output=True, env=env,
    )  # fmt: skip
    server = subprocess.Popen(
        [str(BIN / "collector"), "serve", "--data-dir", str(data), "--port", str(port),
         "--policy", str(policy)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if requests.get(f"{url}/healthz", timeout=1).ok:
                break
        except requests.ConnectionError:
            time.sleep(0.1)
    try:
        yield {"planted": planted, "env": env, "url": url, "data": data, "policy": policy,
               "server": server}  # fmt: skip
    finally:
        server.terminate()
        server.wait(10)


def agent(world: dict[str, object], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "agent"), "-v", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=world["env"],  # type: ignore[arg-type]
        check=False,
    )


def assert_no_canary(where: str, text: str | bytes) -> None:
    blob = text if isinstance(text, bytes) else text.encode()
    assert b"CANARY" not in blob, f"a canary reached {where}: " + repr(
        blob[max(0, blob.find(b"CANARY") - 80) : blob.find(b"CANARY") + 40]
    )


def test_no_canary_anywhere(world: dict[str, object]) -> None:
    planted: list[str] = world["planted"]  # type: ignore[assignment]
    url = str(world["url"])
    policy = str(world["policy"])

    facts = agent(world, "--policy", policy, "facts", "--json")
    assert facts.returncode == 0, facts.stderr
    report = json.loads(facts.stdout)
    findings = report["probes"]["credentials"]["data"]["findings"]
    kinds = {f["kind"] for f in findings}
    # The scan really found the planted credentials (a test of silence must not be silent).
    assert {"saved_login", "ssh_key", "password_in_history", "password_export"} <= kinds, kinds
    found_in = {f["store"] for f in findings}
    assert {"filezilla", "pgpass", "mysql", "subversion", "cloud_sync"} <= found_in, found_in
    places = {(f["kind"], f["location"]) for f in findings}
    assert ("password_in_file", "~/backup/old-laptop/passwords.csv") in places, places
    assert ("token_in_file", "~/projects/data/storage.ini") in places, places
    assert len(findings) >= 6, findings
    classified = report["probes"]["data_labels"]["data"]
    assert {(f["location"], f["label"]) for f in classified["findings"]} >= {
        ("~/Documents/plan.docx", "Confidential"),
        ("~/Documents/plan.docx", "CONFIDENTIAL"),
        ("~/Documents/budget.xlsx", "RESTRICTED"),
        ("~/Downloads/brief.pdf", "Confidential"),
    }, classified
    assert [n["location"] for n in classified["not_inspected"]] == ["~/Downloads/broken.pdf"]
    assert_no_canary("agent facts --json", facts.stdout)
    assert_no_canary("the agent's log (facts)", facts.stderr)

    check = agent(world, "--policy", policy, "--self-check", "--json")
    assert check.returncode in (1, 3), check.stderr
    verdict = json.loads(check.stdout)
    assert next(r for r in verdict["rules"] if r["id"] == "CRED-001")["status"] == "fail"
    assert next(r for r in verdict["rules"] if r["id"] == "DATA-001")["status"] == "fail"
    assert_no_canary("the self-check", check.stdout + check.stderr)
    in_words = agent(world, "--policy", policy, "--self-check")
    listed = "~/Documents/plan.docx: label Confidential in docProps/custom.xml MSIP_Label"
    assert "Files classified above PUBLIC (" in in_words.stdout and listed in in_words.stdout
    assert_no_canary("the self-check in words", in_words.stdout + in_words.stderr)

    token = subprocess.run(
        [str(BIN / "collector"), "device", "register", "canary-laptop", "--owner", "o",
         "--department", "d", "--approved-by", "h", "--justification", "canary test",
         "--expires", "2099-01-01", "--data-dir", str(world["data"])],
        capture_output=True, text=True, check=True, env=world["env"],  # type: ignore[arg-type]
    ).stdout.strip().splitlines()[-1]  # fmt: skip
    enrolled = agent(world, "enroll", "--server", url, "--token", token)
    assert enrolled.returncode == 0, enrolled.stderr
    sent = agent(world, "send")
    assert sent.returncode == 0, sent.stderr
    assert_no_canary("the agent's log (enroll, send)", enrolled.stderr + sent.stdout + sent.stderr)

    for path in Path(str(world["data"])).iterdir():  # the database, its WAL, everything
        if path.is_file():
            assert_no_canary(f"the collector's {path.name}", path.read_bytes())

    browser = requests.Session()
    login_page = browser.get(f"{url}/login", timeout=10).text
    login_token = re.search(r'name="login_token" value="([^"]+)"', login_page)
    assert login_token is not None
    browser.post(
        f"{url}/login",
        data={"username": "admin", "password": PASSWORD, "login_token": login_token[1]},
        timeout=10,
    )
    overview = browser.get(f"{url}/", timeout=10)
    assert "canary-laptop" in overview.text
    device_link = re.search(r'href="(/devices/[0-9a-f-]{36})"', overview.text)
    assert device_link is not None
    page = browser.get(url + device_link[1], timeout=10).text
    assert "ssh_key" in page or "id_uni" in page  # the findings are on the page...
    assert "Files classified above PUBLIC" in page and "budget.xlsx" in page
    for name, html in (("overview", overview.text), ("device page", page)):
        assert_no_canary(f"the dashboard {name}", html)  # ...their secrets are not
    server: subprocess.Popen[bytes] = world["server"]  # type: ignore[assignment]
    server.terminate()
    output = server.communicate(timeout=10)[0]
    assert_no_canary("the collector's log", output)
    assert planted and all(value.startswith("CANARY-") for value in planted)
