"""SSH: config entries, known hosts (hashed too) and private keys tied to organisation hosts."""

from __future__ import annotations

import re

from agent.facts.context import Context, DirEntry, FactUnavailable, FileMissing
from agent.facts.probes.credentials.per_os import PerOs, is_absolute, join, separator
from agent.facts.probes.credentials.scan import Home, ScanState, match_host
from agent.facts.probes.credentials.stores.developer_ssh_parse import (
    SshHost,
    host_block_match,
    known_org_hosts,
    parse_ssh_config,
)
from agent.facts.probes.credentials.stores.storefiles import list_folder, read_store_file, why

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
# The machine-wide known hosts file (Win32-OpenSSH keeps it under ProgramData).
SYSTEM_KNOWN_HOSTS = PerOs(
    linux="/etc/ssh/ssh_known_hosts",
    darwin="/etc/ssh/ssh_known_hosts",
    windows="C:\\ProgramData\\ssh\\ssh_known_hosts",
)


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


def _expand(ctx: Context, home: Home, value: str) -> str:
    """An IdentityFile path with ~ and %d expanded; relative paths are taken from the home."""
    value = re.sub(r"^(~|%d)(?=[/\\]|$)", lambda _: home.path, value)
    value = value.replace("/", separator(ctx))  # ssh on Windows takes '/' too
    return value if is_absolute(ctx, value) else join(ctx, home.path, value)


def find_ssh_home(ctx: Context, scan: ScanState, home: Home) -> list[str]:
    """Config, known_hosts and keys of one home; returns the organisation hosts it knows."""
    org = scan.org
    folder = join(ctx, home.path, ".ssh")
    entries: dict[str, DirEntry] = {e.name: e for e in list_folder(ctx, scan, STORE, folder) or []}
    if not entries:
        return []
    ties: dict[str, tuple[str, str]] = {}  # key path -> (identity, org value)
    blocks: list[SshHost] = []
    if "config" in entries:
        path = join(ctx, folder, "config")
        blocks = parse_ssh_config(read_store_file(ctx, scan, STORE, path) or "")
        for block in blocks:
            tie = host_block_match(block, org)
            if tie is None:
                continue
            identity = f"{block.user}@{tie[0]}" if block.user else tie[0]
            scan.add("ssh_config", STORE, path, identity, tie[1])
            for name in block.identity_files:
                ties.setdefault(_expand(ctx, home, name), (identity, tie[1]))
    named = [h for b in blocks for h in (b.hostname, *b.patterns) if h]
    ports = sorted({b.port for b in blocks if b.port and b.port != "22"})
    known: list[str] = []
    for name in ("known_hosts", "known_hosts2"):
        if name in entries:
            path = join(ctx, folder, name)
            text = read_store_file(ctx, scan, STORE, path)
            known += report_known_hosts(scan, path, text, named, ports)
    # ssh offers the default keys to every host that does not name its own IdentityFile
    unpinned = [h for b in blocks if not b.identity_files and (h := host_block_match(b, org))]
    reached = [(h, str(match_host(h, org))) for h in known if "*" not in h] + unpinned
    for name, entry in entries.items():
        if entry.kind != "file" or name.startswith(_NOT_KEYS) or name.endswith(".pub"):
            continue
        path = join(ctx, folder, name)
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
    """A finding for each organisation host a known_hosts file trusts; returns those hosts."""
    hosts = known_org_hosts(text or "", scan.org, named, ports)
    for host in hosts:
        scan.add("ssh_known_host", STORE, path, host, str(match_host(host, scan.org)))
    return hosts


def find_ssh(ctx: Context, scan: ScanState) -> None:
    """~/.ssh of every home, and the system-wide known hosts file."""
    for home in scan.homes:
        if scan.out_of_time():
            return
        find_ssh_home(ctx, scan, home)
    system = SYSTEM_KNOWN_HOSTS.pick(ctx)
    text = read_store_file(ctx, scan, STORE, system)
    if text is not None:
        report_known_hosts(scan, system, text, [], [])
