"""Credential file scan: content and skip rules, recorded homes, a real home tree, budgets."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import pytest

from agent.facts.context import Context
from agent.facts.probes import credentials
from agent.facts.probes.credentials import stores
from agent.facts.probes.credentials.files import FINDERS, find_files, scan_homes
from agent.facts.probes.credentials.files_rules import (
    OrgIndex,
    as_text,
    find_in_text,
    is_binary,
    is_placeholder,
)
from agent.facts.probes.credentials.files_walk import RULES
from agent.facts.probes.credentials.homes import list_homes
from agent.facts.probes.credentials.scan import Home, ScanState
from agent.facts.probes.credentials.settings import ScanSettings
from agent.facts.runner import run_probe
from tests.replay import ReplayContext
from tests.unit.test_probe_fixtures import (
    FIXTURES,
    TEST_ORGANISATION,
    assert_matches,
    scan_settings,
)

REPO = Path(__file__).resolve().parent.parent.parent
CASES = sorted((FIXTURES / "credentials" / "linux").glob("files_*.json"))
INDEX = OrgIndex(TEST_ORGANISATION)
TENANT = "11111111-2222-4333-8444-555555555555"


def canary() -> str:
    return f"CANARY-files-{secrets.token_hex(8)}"


@pytest.fixture
def only_file_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    """The credentials probe with the file scan as its only finder."""
    monkeypatch.setattr(stores, "finders_for", lambda ctx: FINDERS.pick(ctx))


def probe_result(ctx: Context, settings: ScanSettings) -> dict[str, Any]:
    result = run_probe(ctx, credentials.probe(settings))
    got: dict[str, Any] = {"status": result.status, "data": result.data, "error": None}
    if result.error is not None:
        got["error"] = asdict(result.error)
    return got


# -- content rules -------------------------------------------------------------------------

MATCHES = [
    ("[db]\nhost = db.example.ac.uk\npassword = {c}\n", "password_in_file", "db.example.ac.uk"),
    ("DB_HOST=PG.Example.AC.UK\nDB_PASSWORD={c}", "password_in_file", "pg.example.ac.uk"),
    (
        "url = https://alice:{c}@git.example.ac.uk/r.git",
        "url_credentials_in_file",
        "git.example.ac.uk",
    ),
    (
        "DSN=postgresql://app:{c}@db.example.ac.uk:5432/x",
        "url_credentials_in_file",
        "db.example.ac.uk",
    ),
    (
        "mongodb+srv://u:{c}@cluster.example.ac.uk/db",
        "url_credentials_in_file",
        "cluster.example.ac.uk",
    ),
    (
        "# git.example.ac.uk\n-----BEGIN RSA PRIVATE KEY-----\n{c}\n",
        "private_key_in_file",
        "git.example.ac.uk",
    ),
    (
        "-----BEGIN PGP PRIVATE KEY BLOCK-----\n{c}\n# for mail.example.ac.uk",
        "private_key_in_file",
        "mail.example.ac.uk",
    ),
    (
        "PuTTY-User-Key-File-3: ssh-ed25519\nComment: {c}@login.example.ac.uk",
        "private_key_in_file",
        "login.example.ac.uk",
    ),
    (
        "curl -H 'Authorization: Bearer {c}' https://api.example.ac.uk/",
        "token_in_file",
        "api.example.ac.uk",
    ),
    ('{{"tenant": "' + TENANT + '", "client_secret": "{c}"}}', "token_in_file", TENANT),
    ("AD.EXAMPLE.AC.UK\naws_secret_access_key = {c}", "token_in_file", "ad.example.ac.uk"),
    ("Server=sql.example.ac.uk;User Id=sa;Password={c};", "password_in_file", "sql.example.ac.uk"),
    (
        "machine mail.example.ac.uk login alice password {c}",
        "password_in_file",
        "mail.example.ac.uk",
    ),
    ("sshpass -p {c} ssh alice@hpc.example.ac.uk", "password_in_file", "hpc.example.ac.uk"),
    (
        "<host>smtp.example.ac.uk</host><password>{c}</password>",
        "password_in_file",
        "smtp.example.ac.uk",
    ),
    ("tool --token={c} --server vpn.example.ac.uk", "token_in_file", "vpn.example.ac.uk"),
    ("export GITHUB_TOKEN={c}  # github.example.ac.uk", "token_in_file", "github.example.ac.uk"),
    ("smtp.example.ac.uk\nuser: alice\npassword: '{c}'", "password_in_file", "smtp.example.ac.uk"),
    ('{{"host": "db.example.ac.uk", "dbPassword": "{c}"}}', "password_in_file", "db.example.ac.uk"),
    (
        '{{"auths": {{"registry.example.ac.uk": {{"auth": "{c}"}}}}}}',
        "token_in_file",
        "registry.example.ac.uk",
    ),
    (
        '{{"authority": "https://login.example.ac.uk", "refreshToken": "{c}"}}',
        "token_in_file",
        "login.example.ac.uk",
    ),
]
NO_MATCHES = [
    "[db]\nhost = db.other-university.edu\npassword = {c}",  # another organisation
    "url = https://alice:{c}@git.example.ac.uk.evil.com/r.git",  # look-alike suffix
    "host: badexample.ac.uk\npassword: {c}",  # look-alike prefix
    "login: example.ac.uk-login.net\ntoken = {c}",  # look-alike with a hyphen
    "DSN = postgresql://bob:{c}@db.example-ac-uk.com/x",
    "remote = https://bob:{c}@github.com/x.git  # mirrors example.ac.uk",  # URL host decides
    "https://alice%40example.ac.uk:{c}@github.com/notes.git",  # org e-mail as a GitHub login
    "host=db.example.ac.uk\npassword=${{DB_PASSWORD}}\ntoken: <your token>\npassword: ********",
    "host=db.example.ac.uk\nsecret = os.environ.get('X')\napi_key = settings.API_KEY",
    "see example.ac.uk\n" + "filler line without anything in it\n" * 80 + "api_key = {c}",
    "password_reset_url = https://password.example.ac.uk/\ntoken_endpoint: https://login.example.ac.uk/t",
    "the password reset page at https://login.example.ac.uk/ works",
    "password = {c}\nno organisation anywhere in this file",
    "bypass: enabled-for-all\ncompass = northwest\nhost = db.example.ac.uk",
    "author: Alice Smith\noauth: enabled\nauth: basic\nhost = db.example.ac.uk",
]


@pytest.mark.parametrize(("text", "kind", "identity"), MATCHES)
def test_organisation_credentials_are_found(text: str, kind: str, identity: str) -> None:
    secret = canary()
    found = find_in_text(text.format(c=secret).encode(), INDEX)
    assert [(f.kind, f.identity) for f in found] == [(kind, identity)]
    assert secret not in repr(found)


@pytest.mark.parametrize("text", NO_MATCHES)
def test_decoys_are_not_found(text: str) -> None:
    assert find_in_text(text.format(c=canary()).encode(), INDEX) == []


@pytest.mark.parametrize(
    ("text", "mentioned"),
    [
        (b"https://git.example.ac.uk/x", [12]),
        (b"alice@example.ac.uk.", [6]),
        (b"a" + TENANT.encode(), []),
        (TENANT.encode() + b" ", [0]),
        (b"example.ac.uk.evil.com badexample.ac.uk example.ac.uk-x.com my_example.ac.uk", []),
    ],
)
def test_mentions_reject_look_alikes(text: bytes, mentioned: list[int]) -> None:
    assert INDEX.mentions(text.lower()) == mentioned


@pytest.mark.parametrize(
    ("value", "quoted", "placeholder"),
    [
        (b"${DB_PASSWORD}", False, True),
        (b"$DB_PASSWORD", False, True),
        (b"%APPDATA%", False, True),
        (b"<password>", True, True),
        (b"********", True, True),
        (b"changeme", True, True),
        (b"null", False, True),
        (b"os.environ.get(", False, True),
        (b"self.token", False, True),
        (b"self.token", True, False),
        (b"abc", True, True),
        (b"ose_...", False, True),
        (b"Tr0ub4dor&3", False, False),
    ],
)
def test_placeholders(value: bytes, quoted: bool, placeholder: bool) -> None:
    assert is_placeholder(value, quoted) is placeholder


def test_binary_and_utf16() -> None:
    assert is_binary(b"\x7fELF\x02\x01\x01\x00")
    assert not is_binary(b"host=db.example.ac.uk\n")
    utf16 = "\ufeffpassword = x\r\n".encode("utf-16-le")
    assert not is_binary(utf16)
    assert as_text(utf16) == b"password = x\r\n"


@pytest.mark.parametrize(
    ("os_name", "folder", "reason"),
    [
        ("linux", "node_modules", "system_folder"),
        ("linux", "code/app/.git/objects", "system_folder"),
        ("linux", "code/app/.git", None),
        ("linux", "code/.venv/lib/python3.11/site-packages", "system_folder"),
        ("linux", ".cache", "system_folder"),
        ("linux", ".local/share/Trash", "system_folder"),
        ("linux", ".mozilla", "store_folder"),
        ("linux", ".config/google-chrome", "store_folder"),
        ("linux", ".config/Code/User", None),
        ("darwin", "Library/Caches", "system_folder"),
        ("darwin", "Library/Application Support/Google/Chrome", "store_folder"),
        ("darwin", ".Trash", "system_folder"),
        ("darwin", "Library/Application Support/Code", None),
        ("windows", "AppData/Local/Temp", "system_folder"),
        ("windows", "AppData/Local/Google/Chrome/User Data", "store_folder"),
        ("windows", "AppData/Roaming/Mozilla", "store_folder"),
        ("windows", "Application Data", "symlink"),
        ("windows", "Documents", None),
        ("windows", "OneDrive - Example University", "cloud_folder"),
        ("windows", "Documents/OneDrive", None),
        ("darwin", "Library/CloudStorage", "cloud_folder"),
    ],
)
def test_skip_rules(os_name: str, folder: str, reason: str | None) -> None:
    assert getattr(RULES, os_name).folder(tuple(folder.lower().split("/"))) == reason


def test_file_type_rules() -> None:
    assert RULES.linux.file("photo.JPG") == "binary"
    assert RULES.linux.file("notes.txt") is None
    assert RULES.windows.file("NTUSER.DAT.LOG1") == "system_file"
    assert RULES.linux.file("ntuser.dat.log1") is None
    assert FINDERS.linux == FINDERS.darwin == FINDERS.windows == (find_files,)


# -- recorded homes --------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_recorded_case(case: Path, only_file_scan: None) -> None:
    spec = json.loads(case.read_text(encoding="utf-8"))
    assert "CANARY-files-" in json.dumps(spec["context"]), "every case plants canaries"
    ctx = ReplayContext(spec["context"])
    got = probe_result(ctx, scan_settings(spec.get("scan", {})))
    assert_matches(got, spec["expect"])
    assert "CANARY" not in json.dumps(got)


def test_direct_call_on_a_recorded_home() -> None:
    spec = json.loads((FIXTURES / "credentials/linux/files_match.json").read_text())
    ctx = ReplayContext(spec["context"])
    settings = scan_settings(spec["scan"])
    state = ScanState(settings=settings, homes=list_homes(ctx, settings.homes))
    find_files(ctx, state)
    assert state.files_scanned == 9 and not state.budget_exhausted and not state.not_inspected
    assert {f.location for f in state.findings} >= {"~/.env", "~/projects/app/.git/config"}
    assert all(f.fingerprint and f.store == "file" for f in state.findings)


def _listing(*entries: tuple[str, str, int]) -> list[list[object]]:
    return [list(e) for e in entries]


def test_windows_home_skip_rules(only_file_scan: None) -> None:
    home = "C:\\Users\\alice"
    secret = canary()
    vpn = f"vpn.example.ac.uk\npassword: {secret}\n"
    recording = {
        "os": "windows",
        "scandirs": {
            home: _listing(
                ("AppData", "dir", 0),
                ("Application Data", "dir", 0),  # a junction: denies listing
                ("Documents", "dir", 0),
                ("NTUSER.DAT", "file", 786432),
                ("ntuser.dat.LOG1", "file", 65536),
            ),
            home + "\\AppData": _listing(("Local", "dir", 0), ("Roaming", "dir", 0)),
            home + "\\AppData\\Local": _listing(("Google", "dir", 0), ("Temp", "dir", 0)),
            home + "\\AppData\\Local\\Google": _listing(("Chrome", "dir", 0)),
            home + "\\AppData\\Local\\Google\\Chrome": _listing(("User Data", "dir", 0)),
            home + "\\AppData\\Roaming": _listing(("Mozilla", "dir", 0)),
            home + "\\Documents": _listing(("vpn.txt", "file", len(vpn))),
        },
        "files": {home + "\\Documents\\vpn.txt": vpn},
    }
    got = probe_result(ReplayContext(recording), scan_settings({"homes": [home]}))
    assert_matches(
        got,
        {
            "status": "ok",
            "data": {
                "findings": [
                    {"kind": "password_in_file", "location": "~\\Documents\\vpn.txt"},
                ],
                "complete": True,
            },
        },
    )
    skipped = {"system_folder": 1, "store_folder": 2, "symlink": 1, "system_file": 2}
    assert got["data"]["skipped"] == skipped
    assert secret not in json.dumps(got)


def test_darwin_home_skip_rules(only_file_scan: None) -> None:
    home = "/Users/alice"
    secret = canary()
    support = home + "/Library/Application Support"
    notes = f"ssh alice@hpc.example.ac.uk\npassword = {secret}\n"
    recording = {
        "os": "darwin",
        "scandirs": {
            home: _listing((".Trash", "dir", 0), ("Desktop", "dir", 0), ("Library", "dir", 0)),
            home + "/Library": _listing(
                ("Application Support", "dir", 0),
                ("Caches", "dir", 0),
                ("Keychains", "dir", 0),
            ),
            support: _listing(("Firefox", "dir", 0), ("Google", "dir", 0)),
            support + "/Google": _listing(("Chrome", "dir", 0)),
            home + "/Desktop": _listing(("notes.md", "file", len(notes))),
        },
        "files": {home + "/Desktop/notes.md": notes},
    }
    got = probe_result(ReplayContext(recording), scan_settings({"homes": [home]}))
    assert_matches(
        got,
        {
            "status": "ok",
            "data": {
                "findings": [{"location": "~/Desktop/notes.md", "identity": "hpc.example.ac.uk"}],
                "complete": True,
            },
        },
    )
    assert got["data"]["skipped"] == {"system_folder": 2, "store_folder": 3}
    assert secret not in json.dumps(got)


# -- a real home tree ------------------------------------------------------------------------

SMALL_LIMIT = 256 * 1024  # max_file_bytes for the real-tree tests


def settings_for(*homes: Path, **budgets: Any) -> ScanSettings:
    base = scan_settings({"homes": [str(h) for h in homes], "max_file_bytes": SMALL_LIMIT})
    return replace(base, **budgets)


def write(path: Path, text: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")


def build_home(home: Path) -> dict[str, tuple[str, str]]:
    """A home with planted organisation credentials; returns location -> (kind, identity)."""
    filler = "".join(f"option_{i} = value {i}\n" for i in range(4000))  # about 90 KB
    planted = {
        ".env": (
            "DB_HOST=db.example.ac.uk\nDB_PASSWORD={c}\n",
            "password_in_file",
            "db.example.ac.uk",
        ),
        "code/app/.git/config": (
            '[remote "o"]\n\turl = https://a:{c}@git.example.ac.uk/r\n',
            "url_credentials_in_file",
            "git.example.ac.uk",
        ),
        "Documents/key.txt": (
            "hpc.example.ac.uk\n-----BEGIN OPENSSH PRIVATE KEY-----\n{c}\n",
            "private_key_in_file",
            "hpc.example.ac.uk",
        ),
        "Documents/big.log": (
            filler + "GET https://api.example.ac.uk/ Authorization: Bearer {c}\n",
            "token_in_file",
            "api.example.ac.uk",
        ),
        "notes/azure.json": (
            '{{"tenant": "' + TENANT + '", "client_secret": "{c}"}}',
            "token_in_file",
            TENANT,
        ),
    }
    decoys = {
        "other.ini": "host = db.other-university.edu\npassword = {c}\n",
        "lookalike.txt": "https://alice:{c}@git.example.ac.uk.evil.com/r.git\n",
        "bad.yml": "server: mail.badexample.ac.uk\npassword: {c}\n",
        "far.conf": "example.ac.uk\n" + filler[:3000] + "api_key = {c}\n",
        # organisation credentials where the scan must not look
        "code/app/node_modules/pkg/config.js": "host='db.example.ac.uk'; password='{c}'\n",
        "code/app/.git/objects/ab/cdef": "password = {c} db.example.ac.uk\n",
        ".cache/app/session": "token = {c} api.example.ac.uk\n",
        ".mozilla/firefox/x.default/prefs.js": "password = {c} example.ac.uk\n",
        "huge.txt": filler * 3 + "db.example.ac.uk password = {c}\n",  # > SMALL_LIMIT
    }
    for name, (template, _kind, _identity) in planted.items():
        write(home / name, template.format(c=canary()))
    for name, template in decoys.items():
        write(home / name, template.format(c=canary()))
    write(home / "blob.bin", b"\x00\x01" + f"db.example.ac.uk password = {canary()}".encode())
    write(home / "empty.txt", "")
    outside = home.parent / "outside"
    write(outside / "creds.txt", f"db.example.ac.uk\npassword = {canary()}\n")
    os.symlink(home, home / "code" / "loop")  # a loop: never followed
    os.symlink(outside / "creds.txt", home / "linked-creds.txt")  # never read through
    os.mkfifo(home / "pipe")  # reading it would block
    return {f"~/{name}": (kind, identity) for name, (_t, kind, identity) in planted.items()}


def test_real_home_tree(tmp_path: Path, only_file_scan: None) -> None:
    home = tmp_path / "alice"
    planted = build_home(home)
    got = probe_result(Context(), settings_for(home))
    assert got["status"] == "ok", got
    data = got["data"]
    found = {f["location"]: (f["kind"], f["identity"]) for f in data["findings"]}
    assert found == planted  # every planted credential, and nothing else
    assert data["skipped"] == {
        "binary": 1,  # blob.bin
        "too_large": 1,  # huge.txt
        "symlink": 2,  # the loop and the link to a file outside
        "special": 1,  # the FIFO
        "system_folder": 3,  # node_modules, .git/objects, .cache
        "store_folder": 1,  # .mozilla
    }
    assert data["complete"] is True and data["not_inspected"] == []
    assert data["files_scanned"] == 10  # 5 planted, 4 decoys read, the empty file
    assert data["bytes_scanned"] > 90_000
    assert "CANARY" not in json.dumps(got)


CHILD = """
import json, sys
from agent.facts.context import Context
from agent.facts.probes import credentials
from agent.facts.probes.credentials import files, stores
from agent.facts.runner import run_probe
from tests.unit.test_probe_fixtures import scan_settings
stores.finders_for = lambda ctx: files.FINDERS.pick(ctx)
result = run_probe(Context(), credentials.probe(scan_settings({"homes": [sys.argv[1]]})))
print(json.dumps({"status": result.status, "data": result.data}))
"""


def scan_without_root_reads(home: Path) -> dict[str, Any]:
    """Scan as a process that file permissions apply to: root reads chmod 000 files, so as
    root the scan runs in a child without CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH (setpriv)."""
    argv = [sys.executable, "-c", CHILD, str(home)]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root, where chmod 000 does not stop reads, without setpriv")
        argv = [setpriv, "--bounding-set=-dac_override,-dac_read_search", *argv]
    done = subprocess.run(argv, capture_output=True, text=True, cwd=REPO, check=True, timeout=60)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_unreadable_file_and_folder_are_reported(tmp_path: Path) -> None:
    home = tmp_path / "alice"
    write(home / "readable.env", f"DB_HOST=db.example.ac.uk\nDB_PASSWORD={canary()}\n")
    write(home / "locked.env", f"DB_HOST=db.example.ac.uk\nDB_PASSWORD={canary()}\n")
    write(home / "private" / "x.env", f"DB_HOST=db.example.ac.uk\nDB_PASSWORD={canary()}\n")
    (home / "locked.env").chmod(0)
    (home / "private").chmod(0)
    try:
        got = scan_without_root_reads(home)
    finally:
        (home / "private").chmod(0o700)
    data = got["data"]
    assert [f["location"] for f in data["findings"]] == ["~/readable.env"]
    assert data["skipped"] == {"unreadable": 2}
    assert data["not_inspected"] == [
        {
            "store": "file",
            "location": "~",
            "reason": "2 files or folders could not be read: ~/locked.env, ~/private",
        }
    ]
    assert data["complete"] is False
    assert "CANARY" not in json.dumps(got)


def test_file_budget_stops_the_scan(tmp_path: Path, only_file_scan: None) -> None:
    home = tmp_path / "alice"
    for number in range(6):
        write(home / f"f{number}.env", f"DB_HOST=db.example.ac.uk\nDB_PASSWORD={canary()}\n")
    write(home / "sub" / "g.env", "nothing\n")
    got = probe_result(Context(), settings_for(home, max_files=3))
    data = got["data"]
    assert data["files_scanned"] == 3 and data["complete"] is False
    assert len(data["findings"]) == 3
    assert data["skipped"] == {"budget": 3}
    assert data["not_inspected"] == [
        {
            "store": "file",
            "location": "~",
            "reason": "stopped by the file budget (3 files): 3 files and 1 folder not scanned",
        }
    ]
    assert "CANARY" not in json.dumps(got)


class ExpiringScan(ScanState):
    """A scan whose time budget runs out after a number of checks."""

    checks_left = 4

    def out_of_time(self) -> bool:
        self.checks_left -= 1
        if self.checks_left < 0:
            self.budget_exhausted = True
        return self.budget_exhausted


def test_time_budget_stops_the_scan_and_names_what_is_left(tmp_path: Path) -> None:
    first, second = tmp_path / "alice", tmp_path / "bob"
    for number in range(8):
        write(first / f"f{number}.txt", "nothing here\n")
    write(second / "x.env", f"DB_HOST=db.example.ac.uk\nDB_PASSWORD={canary()}\n")
    settings = settings_for(first, second)
    state = ExpiringScan(
        settings=settings, homes=[Home("alice", str(first)), Home("bob", str(second))]
    )
    scan_homes(Context(), state, RULES.linux)
    assert state.budget_exhausted and state.findings == []
    assert state.files_scanned == 3
    assert [(n.location, n.reason) for n in state.not_inspected] == [
        ("~alice", "stopped by the time budget (60 s): 5 files and 0 folders not scanned"),
        ("~bob", "not scanned: the time budget (60 s) was spent"),
    ]
    assert state.skipped["budget"] == 5
