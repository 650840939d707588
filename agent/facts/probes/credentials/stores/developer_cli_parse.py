"""Pure parsers for git, .netrc and cloud CLI credential files: hosts and names, never secrets."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from agent.facts.context import ParseError

# scheme://[user[:password]@]host[:port][/path]; the password is matched, never captured.
_CREDENTIAL_URL = re.compile(
    r"^\s*(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://"
    r"(?:(?P<user>[^:@/\s]*)(?::[^@/\s]*)?@)?"
    r"(?P<host>\[[^\]/\s]+\]|[^:/?#@\s]+)"
)


@dataclass(frozen=True)
class Login:
    """A host and the account saved for it (the password is never kept)."""

    host: str
    user: str | None


def parse_git_credentials(text: str) -> list[Login]:
    """Hosts and user names of git's credential store (~/.git-credentials).

    Sample (one URL a line; the password part is never captured):
        https://ab1234:<token>@git.example.ac.uk
        https://alice%40example.ac.uk:<token>@github.com
    """
    logins: list[Login] = []
    for line in text.splitlines():
        match = _CREDENTIAL_URL.match(line)
        if match:
            user = unquote(match.group("user")) if match.group("user") else None
            logins.append(Login(host=match.group("host").lower(), user=user))
    return logins


def _netrc_tokens(text: str) -> list[str]:
    """Tokens of a .netrc, without macro bodies (macdef runs to the next blank line)."""
    tokens: list[str] = []
    in_macro = False
    for line in text.splitlines():
        if in_macro:
            in_macro = bool(line.strip())
            continue
        words = re.findall(r'"(?:[^"\\]|\\.)*"|\S+', line)
        if words and words[0].startswith("#"):
            continue
        tokens += [w[1:-1] if w.startswith('"') and w.endswith('"') else w for w in words]
        if "macdef" in words:
            in_macro = True
    return tokens


def parse_netrc(text: str) -> list[Login]:
    """`machine` and `login` pairs of a .netrc / _netrc (the password token is skipped).

    Sample:
        machine ftp.example.ac.uk login ab1234 password <secret>
        default login anonymous password guest@
    """
    logins: list[Login] = []
    host: str | None = None
    user: str | None = None
    tokens = iter(_netrc_tokens(text))
    for token in tokens:
        if token in ("machine", "default"):
            if host is not None:
                logins.append(Login(host, user))
            host, user = (next(tokens, "").lower() if token == "machine" else None), None
        elif token in ("login", "account") and host is not None:
            value = next(tokens, "")
            user = user or value
        elif token in ("password", "macdef"):
            next(tokens, None)  # the secret (or the macro's name) is skipped, never stored
    if host is not None:
        logins.append(Login(host, user))
    return [login for login in logins if login.host]


_AWS_KEEP = {"sso_start_url", "role_arn"}


def parse_aws_config(text: str) -> list[tuple[str, str, str]]:
    """(section, key, value) for sso_start_url and role_arn in ~/.aws/config or credentials.

    Sample:
        [profile uni-sso]
        sso_session = example
        [sso-session example]
        sso_start_url = https://sso.example.ac.uk/start
        [default]
        aws_secret_access_key = <secret>      <- never kept
    """
    found: list[tuple[str, str, str]] = []
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
            continue
        key, sep, value = line.partition("=")
        if sep and key.strip().lower() in _AWS_KEEP and value.strip():
            found.append((section, key.strip().lower(), value.strip()))
    return found


def domains_in(value: str) -> list[str]:
    """Domain-like words inside a value, e.g. an ARN: arn:aws:iam::1:role/ops.example.ac.uk."""
    return re.findall(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9-]+)*\.[a-z]{2,}", value.lower())


def _load_json(text: str, what: str) -> Any:
    try:
        return json.loads(text.lstrip("\ufeff"))
    except json.JSONDecodeError as exc:
        raise ParseError(f"{what} is not JSON: {exc.msg} at line {exc.lineno}") from exc


@dataclass(frozen=True)
class AzureAccount:
    """One subscription of ~/.azure/azureProfile.json: who signed in, in which tenants."""

    user: str | None
    tenants: tuple[str, ...]


def parse_azure_profile(text: str) -> list[AzureAccount]:
    """Signed-in user and tenants of the Azure CLI's azureProfile.json (no tokens in it).

    Sample: {"subscriptions": [{"user": {"name": "alice@example.ac.uk", "type": "user"},
    "tenantId": "11111111-2222-4333-8444-555555555555", "homeTenantId": "..."}]}
    """
    doc = _load_json(text, "azureProfile.json")
    subscriptions = doc.get("subscriptions") if isinstance(doc, dict) else None
    if not isinstance(subscriptions, list):
        raise ParseError("azureProfile.json has no subscriptions list")
    accounts: list[AzureAccount] = []
    for sub in subscriptions:
        if not isinstance(sub, dict):
            continue
        user = sub.get("user")
        name = user.get("name") if isinstance(user, dict) else None
        tenants = tuple(
            str(sub[k]) for k in ("tenantId", "homeTenantId") if isinstance(sub.get(k), str)
        )
        accounts.append(AzureAccount(name if isinstance(name, str) else None, tenants))
    return accounts


def parse_docker_config(text: str) -> list[str]:
    """Registries with saved logins in ~/.docker/config.json (auths and credHelpers keys).

    Sample: {"auths": {"registry.example.ac.uk": {"auth": "<base64 user:password>"}},
    "credHelpers": {"gcr.io": "gcloud"}}  - the auth values are never kept.
    """
    doc = _load_json(text, "docker config.json")
    if not isinstance(doc, dict):
        raise ParseError("docker config.json is not an object")
    registries: list[str] = []
    for section in ("auths", "credHelpers"):
        entries = doc.get(section)
        if isinstance(entries, dict):
            registries += [str(k) for k in entries if str(k) not in registries]
    return registries
