"""Developer credential stores: git, netrc, cloud CLIs, Docker, SSH, Kerberos (never a secret)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.facts.context import ParseError
from agent.facts.probes.credentials.stores import developer
from agent.facts.probes.credentials.stores.developer_cli_parse import (
    domains_in,
    parse_aws_config,
    parse_azure_profile,
    parse_docker_config,
    parse_git_credentials,
    parse_netrc,
)
from agent.facts.probes.credentials.stores.developer_kerberos_parse import (
    TicketCache,
    parse_keytab_principals,
    parse_klist,
    ticket_findings,
)
from agent.facts.probes.credentials.stores.developer_ssh import key_header
from agent.facts.probes.credentials.stores.developer_ssh_parse import (
    hashed_host_is,
    host_block_match,
    host_candidates,
    parse_known_hosts,
    parse_ssh_config,
)
from tests.replay import ReplayContext
from tests.unit.test_probe_fixtures import TEST_ORGANISATION, check_recorded_module_case

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "credentials"
MODULES: dict[str, ModuleType] = {"developer": developer}
CASES = sorted(p for p in FIXTURES.glob("*/*.json") if p.name.split("_", 1)[0] in MODULES)
ORG = TEST_ORGANISATION
NO_SECRET_FIELDS: set[str] = set()


# ------------------------------------------------------------------------------ recorded cases
def _case_id(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def test_there_are_match_and_nomatch_cases_per_os() -> None:
    names = {_case_id(p) for p in CASES}
    for os_name in ("linux", "darwin", "windows"):
        assert f"{os_name}/developer_match.json" in names
        assert f"{os_name}/developer_nomatch.json" in names


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_recorded_case(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each case runs through the real probe and runner with only its module's finders."""
    module = MODULES[case.name.split("_", 1)[0]]
    plants = _case_id(case) not in NO_SECRET_FIELDS
    check_recorded_module_case(case, module, monkeypatch, plants_canaries=plants)


# ------------------------------------------------------------------------------ git, netrc, CLIs
def test_git_credentials_never_keep_the_password() -> None:
    text = (
        "https://ab1234:SECRET12@git.example.ac.uk\nhttps://a%40example.ac.uk:SECRET13@github.com/x\n"
        "https://tok-SECRET14@gitlab.com\nnot a url\n"
    )
    logins = parse_git_credentials(text)
    assert [(x.user, x.host) for x in logins] == [
        ("ab1234", "git.example.ac.uk"),
        ("a@example.ac.uk", "github.com"),
        ("tok-SECRET14", "gitlab.com"),  # a user name, as git stores it (no ':')
    ]
    assert "SECRET12" not in repr(logins) and "SECRET13" not in repr(logins)


def test_netrc() -> None:
    text = (
        "machine a.example.ac.uk login u1 password SECRET15\nmacdef init\ncd SECRET16\n\n"
        'machine "b.test" account acct\npassword SECRET17 login u2\ndefault login anon password x\n'
    )
    logins = parse_netrc(text)
    assert [(x.host, x.user) for x in logins] == [("a.example.ac.uk", "u1"), ("b.test", "acct")]
    assert "SECRET" not in repr(logins)


def test_aws_azure_docker() -> None:
    aws = "[profile a]\nsso_start_url = https://x.awsapps.com/start\naws_secret_access_key = S18\n"
    assert parse_aws_config(aws) == [("profile a", "sso_start_url", "https://x.awsapps.com/start")]
    assert domains_in("arn:aws:iam::1:role/ops.example.ac.uk-admin") == ["ops.example.ac.uk"]
    azure = '\ufeff{"subscriptions": [{"user": {"name": "a@example.ac.uk"}, "tenantId": "t"}, 3]}'
    assert [(a.user, a.tenants) for a in parse_azure_profile(azure)] == [
        ("a@example.ac.uk", ("t",))
    ]
    with pytest.raises(ParseError):
        parse_azure_profile('{"installationId": "x"}')
    docker = '{"auths": {"r.example.ac.uk": {"auth": "SECRET19"}}, "credHelpers": {"gcr.io": "g"}}'
    assert parse_docker_config(docker) == ["r.example.ac.uk", "gcr.io"]
    with pytest.raises(ParseError):
        parse_docker_config("[]")


# ------------------------------------------------------------------------------ SSH
def test_ssh_config_blocks() -> None:
    text = (
        "User global\nHost a *.example.ac.uk !b\n  HostName %h.example.ac.uk\n  HostName ignored\n"
        '  IdentityFile "~/.ssh/my key"\nMatch host x\n  IdentityFile ~/.ssh/m\n'
        "Host j\n  ProxyJump u@bastion.example.ac.uk:2200,none\n"
    )
    blocks = parse_ssh_config(text)
    assert [b.patterns for b in blocks] == [("*",), ("a", "*.example.ac.uk", "!b"), (), ("j",)]
    assert blocks[1].hostname == "%h.example.ac.uk" and blocks[1].identity_files == [
        "~/.ssh/my key"
    ]
    assert host_block_match(blocks[1], ORG) == ("%h.example.ac.uk", "example.ac.uk")
    assert host_block_match(blocks[3], ORG) == ("bastion.example.ac.uk", "example.ac.uk")
    assert host_block_match(blocks[0], ORG) is None


def test_hashed_known_hosts_reference_sample() -> None:
    """The reference's real `ssh-keygen -H` line is login.cs.example-uni.ac.uk."""
    line = "|1|q4IK9hftUew4tH/f8ZLxN2CuVb8=|PTwBea9kZj5lVvnekvyzHhhCTXE= ssh-ed25519 AAAAC3Nz"
    plain, hashed = parse_known_hosts(line + "\n@revoked r.example.ac.uk ssh-rsa X\n[h]:2222 k X\n")
    assert plain == ["h"] and len(hashed) == 1
    salt, digest = hashed[0]
    assert hashed_host_is(salt, digest, "login.cs.example-uni.ac.uk")
    assert not hashed_host_is(salt, digest, "github.com")


def test_host_candidates_cover_common_names_and_named_hosts() -> None:
    candidates = host_candidates(ORG, ["cluster.cs.example.ac.uk", "*.example.ac.uk", "x.test"])
    assert {"example.ac.uk", "vpn.example.ac.uk", "login.example.ac.uk"} <= set(candidates)
    assert "cluster.cs.example.ac.uk" in candidates
    assert "*.example.ac.uk" not in candidates and "x.test" not in candidates
    salt = b"0123456789abcdefghij"
    digest = hmac.new(salt, b"gitlab.example.ac.uk", hashlib.sha1).digest()
    assert any(hashed_host_is(salt, digest, c) for c in candidates)


class _ReadLog(ReplayContext):
    """A recorded context that remembers how many bytes each read asked for."""

    def __init__(self, files: dict[str, str]) -> None:
        super().__init__({"os": "linux", "files": files})
        self.limits: list[int] = []

    def read_bytes(self, path: str, limit: int) -> bytes:
        self.limits.append(limit)
        return super().read_bytes(path, limit)


@pytest.mark.parametrize(
    ("content", "header", "max_read"),
    [
        ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n", "OPENSSH", 35),
        ("-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIFAKE\n", "EC", 30),
        ("PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\n", "PuTTY", 22),
        ("Host uni\n  HostName login.example.ac.uk\n", None, 22),
        ("-----BEGIN CERTIFICATE-----\nMIIB\n", None, 22),
    ],
)
def test_key_header_reads_no_byte_past_the_header(
    content: str, header: str | None, max_read: int
) -> None:
    ctx = _ReadLog({"/k": content})
    found = key_header(ctx, "/k")
    assert (found is None) if header is None else (header in str(found))
    assert max(ctx.limits) == max_read
    assert found is None or len(found) == max(ctx.limits)


# ------------------------------------------------------------------------------ Kerberos
def test_klist_formats() -> None:
    mit = (
        "Ticket cache: FILE:/tmp/krb5cc_1000\nDefault principal: a@AD.EXAMPLE.AC.UK\n\n"
        "Valid starting     Expires            Service principal\n"
        "11/21/26 20:59:13  11/22/26 20:59:13  krbtgt/AD.EXAMPLE.AC.UK@AD.EXAMPLE.AC.UK\n"
        "\trenew until 11/28/26 20:59:13\n\nTicket cache: KCM:1000:2\n"
        "Default principal: b@OTHER.TEST\n\n"
        "11/21/26 20:59:13  11/22/26 20:59:13  krbtgt/AD.EXAMPLE.AC.UK@OTHER.TEST\n"
    )
    caches = parse_klist(mit)
    assert [(c.name, c.principal, c.services) for c in caches] == [
        (
            "FILE:/tmp/krb5cc_1000",
            "a@AD.EXAMPLE.AC.UK",
            ["krbtgt/AD.EXAMPLE.AC.UK@AD.EXAMPLE.AC.UK"],
        ),
        ("KCM:1000:2", "b@OTHER.TEST", ["krbtgt/AD.EXAMPLE.AC.UK@OTHER.TEST"]),
    ]
    assert ticket_findings(caches[0], ORG) == [("a@AD.EXAMPLE.AC.UK", "AD.EXAMPLE.AC.UK")]
    # another realm's cross-realm TGT into the organisation's realm is the organisation's
    assert ticket_findings(caches[1], ORG) == [
        ("krbtgt/AD.EXAMPLE.AC.UK@OTHER.TEST", "AD.EXAMPLE.AC.UK")
    ]
    windows = (
        "Cached Tickets: (1)\r\n\r\n#0>\tClient: u @ AD.EXAMPLE.AC.UK\r\n"
        "\tServer: cifs/f.example.ac.uk @ AD.EXAMPLE.AC.UK\r\n"
    )
    (cache,) = parse_klist(windows)
    assert cache.principal == "u@AD.EXAMPLE.AC.UK"
    assert cache.services == ["cifs/f.example.ac.uk@AD.EXAMPLE.AC.UK"]
    assert parse_klist("Cached Tickets: (0)\r\n") == []
    other = TicketCache("c", "x@OTHER.TEST", ["HTTP/web.example.ac.uk@OTHER.TEST"])
    assert ticket_findings(other, ORG) == [("HTTP/web.example.ac.uk@OTHER.TEST", "example.ac.uk")]


def test_keytab_principals() -> None:
    text = "Keytab name: FILE:/k\nKVNO Principal\n---- ----\n   2 a@R\n   2 a@R\n   3 host/h@R\n"
    assert parse_keytab_principals(text) == ["a@R", "host/h@R"]


# ------------------------------------------------------------------------------ robustness
TEXT_PARSERS = [
    parse_git_credentials,
    parse_netrc,
    parse_aws_config,
    parse_azure_profile,
    parse_docker_config,
    parse_ssh_config,
    parse_known_hosts,
    parse_klist,
    parse_keytab_principals,
]


@settings(max_examples=150, deadline=None)
@given(st.text(), st.integers(min_value=0, max_value=len(TEXT_PARSERS) - 1))
def test_parsers_return_or_raise_parse_error(text: str, index: int) -> None:
    with contextlib.suppress(ParseError):
        TEXT_PARSERS[index](text)


def test_known_hosts_bad_base64_is_skipped() -> None:
    bad = "|1|!!!|" + base64.b64encode(b"x").decode() + " ssh-rsa X\n"
    assert parse_known_hosts(bad) == ([], [])
