"""Pure parsers for SSH: ~/.ssh/config Host blocks, known_hosts lines (hashed ones too)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import shlex
from dataclasses import dataclass, field

from agent.facts.probes.credentials.scan import match_host
from agent.facts.probes.credentials.settings import Organisation
from agent.matching import host_of

# Host names commonly given to SSH-reachable services: tried against hashed known_hosts lines.
COMMON_HOST_PREFIXES = (
    "login", "ssh", "shell", "linux", "unix", "bastion", "jump", "gateway", "gw", "remote",
    "git", "gitlab", "github", "svn", "hpc", "cluster", "compute", "login1", "login2", "sftp",
    "ftp", "files", "fs", "storage", "www", "web", "vpn", "mail", "dev", "lab", "lab1",
    "student", "students", "staff", "users", "cs", "login.cs", "ssh.cs", "linux.cs", "ada",
)  # fmt: skip


@dataclass
class SshHost:
    """One Host block of ~/.ssh/config (first value wins, as in ssh itself)."""

    patterns: tuple[str, ...]
    hostname: str | None = None
    user: str | None = None
    port: str | None = None
    proxy_jump: str | None = None
    identity_files: list[str] = field(default_factory=list)


def parse_ssh_config(text: str) -> list[SshHost]:
    """Host blocks of an OpenSSH client config (options before the first Host: pattern '*').

    Sample:
        Host uni-login
            HostName login.cs.example.ac.uk
            User ab1234
            IdentityFile ~/.ssh/id_ed25519_uni
    Match blocks are kept with no patterns (they never tie a host).
    """
    blocks = [SshHost(patterns=("*",))]
    for raw in text.splitlines():
        line = raw.strip()
        match = re.match(r"^(\w+)(?:\s*=\s*|\s+)(.*)$", line)
        if not line or line.startswith("#") or not match:
            continue
        keyword, rest = match.group(1).lower(), match.group(2).strip()
        try:
            args = shlex.split(rest, comments=True)
        except ValueError:
            args = rest.split()
        if not args:
            continue
        block = blocks[-1]
        if keyword == "host":
            blocks.append(SshHost(patterns=tuple(args)))
        elif keyword == "match":
            blocks.append(SshHost(patterns=()))
        elif keyword == "identityfile":
            block.identity_files.append(args[0])
        elif keyword in ("hostname", "user", "port") and getattr(block, keyword) is None:
            setattr(block, keyword, args[0])
        elif keyword == "proxyjump" and block.proxy_jump is None:
            block.proxy_jump = args[0]
    return blocks


def host_block_match(block: SshHost, org: Organisation) -> tuple[str, str] | None:
    """(host, org value) when a Host block reaches the organisation: its HostName, one of its
    patterns (*.example.ac.uk), or a jump host."""
    jumps = [host_of(j) for j in (block.proxy_jump or "").split(",") if j and j.lower() != "none"]
    for value in (block.hostname, *(p for p in block.patterns if not p.startswith("!")), *jumps):
        matched = match_host(value, org) if value else None
        if value and matched:
            return value, matched
    return None


def parse_known_hosts(text: str) -> tuple[list[str], list[tuple[bytes, bytes]]]:
    """Plain host names and hashed (salt, HMAC-SHA1) entries of a known_hosts file.

    Sample:
        login.example.ac.uk,192.0.2.10 ssh-ed25519 AAAAC3...
        [git.example.ac.uk]:2222 ssh-rsa AAAAB3...
        |1|q4IK9hftUew4tH/f8ZLxN2CuVb8=|PTwBea9kZj5lVvnekvyzHhhCTXE= ssh-ed25519 AAAAC3...
    """
    plain: list[str] = []
    hashed: list[tuple[bytes, bytes]] = []
    for raw in text.splitlines():
        words = raw.split()
        if words and words[0] == "@revoked":
            continue  # a key the user refuses: nothing is trusted or saved
        if words and words[0].startswith("@"):
            words = words[1:]  # @cert-authority: host certificates signed for these hosts
        if not words or words[0].startswith("#"):
            continue
        for entry in words[0].split(","):
            if entry.startswith("|1|"):
                parts = entry.split("|")
                try:
                    salt = base64.b64decode(parts[2], validate=True)
                    digest = base64.b64decode(parts[3], validate=True)
                except (IndexError, binascii.Error):
                    continue
                if salt and len(digest) == hashlib.sha1().digest_size:
                    hashed.append((salt, digest))
            elif entry and not entry.startswith("!"):
                plain.append(re.sub(r"^\[([^\]]+)\]:\d+$", r"\1", entry))
    return plain, hashed


def hashed_host_is(salt: bytes, digest: bytes, host: str) -> bool:
    """Whether a hashed known_hosts entry is `host` (HMAC-SHA1 keyed with its salt)."""
    mac = hmac.new(salt, host.encode(), hashlib.sha1).digest()
    return hmac.compare_digest(mac, digest)


def host_candidates(org: Organisation, known: list[str]) -> list[str]:
    """Names a hashed entry is tested against: the organisation's domains and VPN hosts, common
    service names under its domains, and the organisation hosts named in the user's files."""
    names = [*org.domains, *org.vpn_hosts]
    names += [f"{prefix}.{domain}" for domain in org.domains for prefix in COMMON_HOST_PREFIXES]
    names += [h.lower() for h in known if "*" not in h and "?" not in h and match_host(h, org)]
    return list(dict.fromkeys(names))


def known_org_hosts(text: str, org: Organisation, named: list[str], ports: list[str]) -> list[str]:
    """The organisation hosts a known_hosts file trusts, lower-case, each once: its plain
    entries, and hashed ones tested against host_candidates (also as [host]:port for the
    non-standard ports the user's config names).

    Sample: login.example.ac.uk ssh-ed25519 AAAAC3... and |1|<salt>|<HMAC of
    ssh.example.ac.uk> ssh-ed25519 AAAAC3... -> ['login.example.ac.uk', 'ssh.example.ac.uk'].
    """
    plain, hashed = parse_known_hosts(text)
    hosts = [h for h in plain if match_host(h, org)]
    if hashed:
        candidates = host_candidates(org, [*named, *plain])
        candidates += [f"[{c}]:{port}" for c in candidates for port in ports]
        for salt, digest in hashed:
            hit = next((c for c in candidates if hashed_host_is(salt, digest, c)), None)
            if hit:
                hosts.append(re.sub(r"^\[([^\]]+)\]:\d+$", r"\1", hit))
    return list(dict.fromkeys(h.lower() for h in hosts))
