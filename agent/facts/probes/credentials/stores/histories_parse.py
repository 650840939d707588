"""Pure parser for shell histories: command lines that pass a password to an organisation host."""

from __future__ import annotations

import re
from dataclasses import dataclass

from agent.facts.probes.credentials.scan import match_realm
from agent.facts.probes.credentials.settings import Organisation

# zsh's extended history (": 1700000000:0;cmd") and fish's ("- cmd: cmd") line prefixes.
_PREFIX = re.compile(r"^(?::\s*\d+:\d+;|-\s+cmd:\s+)")
_WRAPPERS = frozenset({"sudo", "env", "time", "nohup", "command", "exec", "doas", "&"})
_MYSQL = frozenset({"mysql", "mysqldump", "mysqladmin", "mariadb", "mariadb-dump", "mysqlsh"})
_LDAP = frozenset({"ldapsearch", "ldapmodify", "ldapadd", "ldapdelete", "ldapwhoami", "ldappasswd"})
# Per tool family: where its password sits on the command line (the value is group 1).
_TOOL_PATTERNS: dict[str, re.Pattern[str]] = {
    "sshpass": re.compile(r"(?:^|\s)-p\s*(\S+)"),
    "mysql": re.compile(r"(?:^|\s)-p(\S+)"),  # -pSECRET; a bare -p prompts
    "ldap": re.compile(r"(?:^|\s)-w\s+(\S+)"),
    "curl": re.compile(r"(?:^|\s)(?:-u\s*|--user[=\s]+)[^\s:]+:(\S+)"),
    "smbclient": re.compile(r"(?:^|\s)(?:-U\s*|--user[=\s]+)[^\s%]+%(\S+)"),
    # net use [Z:] \\host\share PASSWORD /user:... ("*" asks)
    "net": re.compile(r"(?i)\buse\s+(?:[a-z]:\s+|\*\s+)?\\\\\S+\s+(?!/)(\S+)"),
    "xfreerdp": re.compile(r"(?:^|\s)/p:(\S+)"),
    "cmdkey": re.compile(r"(?i)(?:^|\s)/pass:(\S+)"),  # cmdkey /add:host /user:u /pass:PASSWORD
    "rdesktop": re.compile(r"(?:^|\s)-p\s*(\S+)"),
}
# Any tool: --password=X / --db-passwd X, password=X in -o options or PGPASSWORD=X in the
# environment, and user:password@host in a URL.
_ANY_TOOL = (
    re.compile(r"(?i)(?:^|\s)--[\w-]*?pass(?:word|wd)?(?:=|\s+)(?!-)(\S+)"),
    re.compile(r"(?i)(?:^|[\s,;])\w*pass(?:word|wd)?=(\S+)"),
    re.compile(r"(?i)\b[a-z][a-z0-9+.-]*://[^\s:/@]+:([^\s/@]+)@"),
)
# Values that stand for a password rather than being one: a variable, a prompt, a mask.
_PLACEHOLDER = re.compile(
    r"[$%<{\[]|\*+$|(?:password|passwd|pass|secret|changeme|xxx+|\.\.\.)$", re.IGNORECASE
)
_SPLIT = re.compile(r"[\s=,;'\"()<>|/\\:]+")


@dataclass(frozen=True)
class HistoryHit:
    """A history line with a password on its command line: where, which tool, which host."""

    line: int
    tool: str
    host: str
    org_match: str


def _tool(command: str) -> str:
    """The program a command line runs: 'sudo PGPASSWORD=x psql -h h' -> 'psql'."""
    for word in command.split():
        if ("=" in word and not word.startswith(("-", "/"))) or word in _WRAPPERS:
            continue
        return re.split(r"[/\\]", word)[-1].removesuffix(".exe").lower()
    return ""


def _family(tool: str) -> str:
    if tool in _MYSQL:
        return "mysql"
    if tool in _LDAP:
        return "ldap"
    return tool


def _has_password(command: str, tool: str) -> bool:
    patterns = [*_ANY_TOOL]
    if family := _TOOL_PATTERNS.get(_family(tool)):
        patterns.insert(0, family)
    for pattern in patterns:
        for match in pattern.finditer(command):
            value = match.group(1).strip("\"'")
            if value and not _PLACEHOLDER.match(value):
                return True
    return False


def _org_host(command: str, org: Organisation) -> tuple[str, str] | None:
    for word in _SPLIT.split(command):
        if word.startswith("-") and not word.startswith("--"):
            word = word[2:]  # -hdb.example.ac.uk (mysql), -Hhost
        word = word.rsplit("@", 1)[-1].rsplit("%", 1)[-1].strip(".")
        if "." in word and (matched := match_realm(word, org)):
            return word.lower(), matched
    return None


def history_hits(text: str, org: Organisation) -> list[HistoryHit]:
    """Lines of a shell history (bash, zsh, fish, PowerShell) that give a password on the
    command line to an organisation host; the line itself is never kept.

    Samples: 'sshpass -p CANARY-1 ssh ab1234@login.example.ac.uk' -> sshpass;
    ': 1700000000:0;mysql -h db.example.ac.uk -u ab1234 -pCANARY-2' -> mysql;
    'curl -u ab1234:CANARY-3 https://api.example.ac.uk/v1' -> curl;
    'mysql -h db.example.ac.uk -p' (asks), 'ssh -p 2222 login.example.ac.uk' -> nothing.
    """
    hits: list[HistoryHit] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        command = _PREFIX.sub("", raw.strip())
        if not command or command.startswith("#"):
            continue
        tool = _tool(command)
        if not tool or not _has_password(command, tool):
            continue
        if found := _org_host(command, org):
            hits.append(HistoryHit(number, tool, *found))
    return hits
