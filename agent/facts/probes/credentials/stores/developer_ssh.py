"""SSH: config entries, known hosts (hashed too) and private keys tied to organisation hosts."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import shlex
from dataclasses import dataclass, field

from agent.facts.context import Context, DirEntry, FactUnavailable, FileMissing
from agent.facts.probes.credentials.scan import Home, ScanState, match_host
from agent.facts.probes.credentials.settings import Organisation
from agent.facts.probes.credentials.stores.storefiles import join, list_folder, read_store_file, why
from agent.matching import host_of

STORE = "ssh"
KEY_HEADERS = (
    b"PuTTY-User-Key-File-2:",
    b"PuTTY-User-Key-File-3:",
    b"-----BEGIN PRIVATE KEY-----",
    b"-----BEGIN EC PRIVATE KEY-----",
    b"-----BEGIN RSA PRIVATE KEY-----",
    b"-----BEGIN DSA PRIVATE KEY-----",
    b"-----BEGIN OPENSSH PRIVATE KEY-----",
    b"-----BEGIN ENCRYPTED PRIVATE KEY-----",
    b"-----BEGIN SSH2 ENCRYPTED PRIVATE KEY-----",
)
DEFAULT_KEYS = ("id_rsa", "id_ecdsa", "id_ecdsa_sk", "id_ed25519", "id_ed25519_sk", "id_dsa")
_NOT_KEYS = ("config", "known_hosts", "authorized_keys", "environment", "rc")
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


def key_header(ctx: Context, path: str) -> str | None:
    """The private-key header a file starts with, read a header's length at a time so that no
    byte after the header line is ever read; None for anything else."""
    for length in sorted({len(h) for h in KEY_HEADERS}):
        data = ctx.read_bytes(path, length)
        if data in KEY_HEADERS:
            return data.decode()
        if not any(h[:length] == data for h in KEY_HEADERS if len(h) > length):
            return None
    return None


def _expand(os_name: str, home: Home, value: str) -> str:
    """An IdentityFile path with ~ and %d expanded; relative paths are taken from the home."""
    value = re.sub(r"^(~|%d)(?=[/\\]|$)", lambda _: home.path, value)
    if os_name == "windows":
        value = value.replace("/", "\\")
        return value if re.match(r"^[A-Za-z]:\\|^\\\\", value) else join(os_name, home.path, value)
    return value if value.startswith("/") else join(os_name, home.path, value)


def find_ssh_home(ctx: Context, scan: ScanState, home: Home) -> list[str]:
    """Config, known_hosts and keys of one home; returns the organisation hosts it knows."""
    os_name, org = ctx.os_name, scan.org
    folder = join(os_name, home.path, ".ssh")
    entries: dict[str, DirEntry] = {e.name: e for e in list_folder(ctx, scan, STORE, folder) or []}
    if not entries:
        return []
    ties: dict[str, tuple[str, str]] = {}  # key path -> (identity, org value)
    blocks: list[SshHost] = []
    if "config" in entries:
        path = join(os_name, folder, "config")
        blocks = parse_ssh_config(read_store_file(ctx, scan, STORE, path) or "")
        for block in blocks:
            tie = host_block_match(block, org)
            if tie is None:
                continue
            identity = f"{block.user}@{tie[0]}" if block.user else tie[0]
            scan.add("ssh_config", STORE, path, identity, tie[1])
            for name in block.identity_files:
                ties.setdefault(_expand(os_name, home, name), (identity, tie[1]))
    named = [h for b in blocks for h in (b.hostname, *b.patterns) if h]
    ports = sorted({b.port for b in blocks if b.port and b.port != "22"})
    known: list[str] = []
    for name in ("known_hosts", "known_hosts2"):
        if name in entries:
            path = join(os_name, folder, name)
            text = read_store_file(ctx, scan, STORE, path)
            known += report_known_hosts(scan, path, text, named, ports)
    # ssh offers the default keys to every host that does not name its own IdentityFile
    unpinned = [h for b in blocks if not b.identity_files and (h := host_block_match(b, org))]
    reached = [(h, str(match_host(h, org))) for h in known if "*" not in h] + unpinned
    for name, entry in entries.items():
        if entry.kind != "file" or name.startswith(_NOT_KEYS) or name.endswith(".pub"):
            continue
        path = join(os_name, folder, name)
        if f"{name}.pub" in entries:
            pub = read_store_file(ctx, scan, STORE, path + ".pub", 16 * 1024) or ""
            comment = " ".join(pub.split()[2:])
            matched = match_host(comment, org)
            if matched:
                ties.setdefault(path, (comment, matched))
        if name in DEFAULT_KEYS and reached:
            ties.setdefault(path, reached[0])
    for path, (identity, matched) in ties.items():
        try:
            header = key_header(ctx, path)
        except FileMissing:
            continue  # an IdentityFile that is not there
        except FactUnavailable as exc:
            scan.not_read(STORE, path, why(exc))
            continue
        if header:
            scan.add("ssh_key", STORE, path, identity, matched)
    return known


def report_known_hosts(
    scan: ScanState, path: str, text: str | None, named: list[str], ports: list[str]
) -> list[str]:
    """Organisation hosts in a known_hosts file (hashed entries tested against candidates,
    also as [host]:port for the non-standard ports the user's config names)."""
    plain, hashed = parse_known_hosts(text or "")
    hosts = [h for h in plain if match_host(h, scan.org)]
    if hashed:
        candidates = host_candidates(scan.org, [*named, *plain])
        candidates += [f"[{c}]:{port}" for c in candidates for port in ports]
        for salt, digest in hashed:
            hit = next((c for c in candidates if hashed_host_is(salt, digest, c)), None)
            if hit:
                hosts.append(re.sub(r"^\[([^\]]+)\]:\d+$", r"\1", hit))
    hosts = list(dict.fromkeys(h.lower() for h in hosts))
    for host in hosts:
        scan.add("ssh_known_host", STORE, path, host, str(match_host(host, scan.org)))
    return hosts


def find_ssh(ctx: Context, scan: ScanState) -> None:
    """~/.ssh of every home, and the system-wide known hosts file."""
    for home in scan.homes:
        if scan.out_of_time():
            return
        find_ssh_home(ctx, scan, home)
    system = (
        "C:\\ProgramData\\ssh\\ssh_known_hosts"
        if ctx.os_name == "windows"
        else "/etc/ssh/ssh_known_hosts"
    )
    text = read_store_file(ctx, scan, STORE, system)
    if text is not None:
        report_known_hosts(scan, system, text, [], [])
