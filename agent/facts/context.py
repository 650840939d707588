"""Context: the only door from probes to the machine (files, commands, OS APIs)."""

from __future__ import annotations

import base64
import contextlib
import os
import platform
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import psutil

OsName = Literal["linux", "darwin", "windows"]

# Commands run with a C locale so that their output does not change with the user's language.
C_LOCALE_ENV = {"LC_ALL": "C", "LANG": "C"}

POWERSHELL_PRELUDE = (
    "$ErrorActionPreference='Stop';$ProgressPreference='SilentlyContinue';"
    "[Console]::OutputEncoding=[Text.UTF8Encoding]::new($false);"
)


class FactUnavailable(Exception):
    """A single fact could not be read; the probe records why and carries on."""


class CommandNotFound(FactUnavailable):
    """The program is not installed (or not on PATH)."""


class CommandTimeout(FactUnavailable):
    """The program did not finish within its time limit."""


class AccessDenied(FactUnavailable):
    """The agent lacks the privilege to read this fact."""


class FileMissing(FactUnavailable):
    """The file does not exist."""


class ParseError(FactUnavailable):
    """The output did not have the shape the parser knows."""


class DeadlineExceeded(Exception):
    """The probe as a whole ran out of time."""


class ProbeUnsupported(Exception):
    """The probe has nothing to offer on this OS (or is not built yet)."""


@dataclass(frozen=True)
class CommandResult:
    """What a finished command printed and returned."""

    returncode: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class NetAddress:
    """One address of an interface, as psutil reports it (family by name)."""

    family: Literal["inet", "inet6", "link"]
    address: str
    netmask: str | None


@dataclass(frozen=True)
class NetStats:
    """Link state of an interface."""

    is_up: bool
    mtu: int
    flags: str


@dataclass(frozen=True)
class LoginSession:
    """One logged-in session, as psutil.users() reports it."""

    name: str
    terminal: str | None
    host: str | None
    started: float


@dataclass(frozen=True)
class Mount:
    """One mounted file system."""

    device: str
    mountpoint: str
    fstype: str
    opts: str


@dataclass(frozen=True)
class DirEntry:
    """One entry of a directory listing, without following symbolic links."""

    name: str
    kind: Literal["dir", "file", "link", "other"]
    size: int


@dataclass(frozen=True)
class Connection:
    """How one TCP (and TLS) connection attempt ended; `certificate` is the peer's DER
    certificate when a TLS handshake finished."""

    outcome: Literal["connected", "refused", "unreachable", "timeout", "tls_failed"]
    certificate: bytes | None = None


# getaddrinfo's "no such name" answers (per OS the constant differs; EAI_NODATA is Linux's
# "the name exists without an address"): these mean "does not resolve", anything else "unknown".
_NO_SUCH_NAME = {socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)}


def _named_failure(path: str, exc: OSError) -> FactUnavailable:
    """The FactUnavailable subclass for an OS error on a file or folder, naming the path."""
    if isinstance(exc, FileNotFoundError):
        return FileMissing(f"{path} does not exist")
    if isinstance(exc, PermissionError):
        return AccessDenied(f"{path} is not readable by this user")
    if isinstance(exc, IsADirectoryError):
        return FileMissing(f"{path} is a directory")
    return FactUnavailable(f"{path}: {exc.strerror}")


@contextlib.contextmanager
def _named_failures(path: str) -> Iterator[None]:
    """OS errors on a file or folder become FactUnavailable subclasses that name the path."""
    try:
        yield
    except OSError as exc:
        raise _named_failure(path, exc) from exc


class Context:
    """Real access to this machine; tests replace it with a recorded one."""

    def __init__(self, deadline: float | None = None) -> None:
        self.deadline = deadline

    # -- identity ---------------------------------------------------------------------------
    @property
    def os_name(self) -> OsName:
        if sys.platform.startswith("win"):
            return "windows"
        if sys.platform == "darwin":
            return "darwin"
        return "linux"

    def hostname(self) -> str:
        return socket.gethostname()

    def machine(self) -> str:
        return platform.machine()

    def kernel_release(self) -> str:
        return platform.release()

    def boot_time(self) -> float:
        return float(psutil.boot_time())

    def now(self) -> float:
        return time.time()

    def env(self, name: str) -> str | None:
        return os.environ.get(name)

    def with_deadline(self, deadline: float) -> Context:
        return type(self)(deadline=deadline)

    # -- files ------------------------------------------------------------------------------
    def read_text(self, path: str) -> str:
        """Read a text file; a missing or unreadable file is a FactUnavailable, named.

        Opened with O_NONBLOCK, as read_bytes is: a file in a user's home swapped for a FIFO
        would otherwise hang the probe (the agent runs as root); a FIFO reads as empty.
        """
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
        with (
            _named_failures(path),
            open(os.open(path, flags), encoding="utf-8", errors="replace") as f,
        ):
            return f.read()

    def exists(self, path: str) -> bool:
        try:
            return Path(path).exists()
        except PermissionError as exc:  # e.g. root stat()ing another user's FUSE mount
            raise AccessDenied(f"{path} cannot be examined by this user") from exc

    def listdir(self, path: str) -> list[str]:
        with _named_failures(path):
            return sorted(os.listdir(path))

    def read_bytes(self, path: str, limit: int, offset: int = 0) -> bytes:
        """At most `limit` bytes of a file, from its start or from `offset`.

        os.open/os.read and a plain try, not open() in a context manager: the credential scan
        reads thousands of small files, and those wrappers cost a third of the reads' CPU time.
        O_NONBLOCK: a file swapped for a FIFO after a walk listed it would otherwise block the
        open until a writer came (it reads as empty instead); a regular file ignores the flag.
        """
        parts: list[bytes] = []
        flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
        try:
            handle = os.open(path, flags)
            try:
                if offset:
                    os.lseek(handle, offset, os.SEEK_SET)
                while limit > 0:
                    part = os.read(handle, limit)
                    if not part:
                        break
                    parts.append(part)
                    limit -= len(part)
            finally:
                os.close(handle)
        except OSError as exc:
            raise _named_failure(path, exc) from exc
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def scandir(self, path: str) -> list[DirEntry]:
        """A directory's entries with their kind and size; links are never followed."""
        entries = []
        with _named_failures(path), os.scandir(path) as listing:
            for entry in listing:
                try:
                    if entry.is_symlink():
                        kind: Literal["dir", "file", "link", "other"] = "link"
                    elif entry.is_dir(follow_symlinks=False):
                        kind = "dir"
                    elif entry.is_file(follow_symlinks=False):
                        kind = "file"
                    else:
                        kind = "other"
                    size = entry.stat(follow_symlinks=False).st_size if kind == "file" else 0
                except OSError:
                    kind, size = "other", 0  # vanished or unreadable entry: not scanned
                entries.append(DirEntry(entry.name, kind, size))
        return sorted(entries, key=lambda e: e.name)

    def sqlite_rows(
        self, path: str, sql: str, params: tuple[object, ...] = ()
    ) -> list[tuple[object, ...]]:
        """Rows from a SQLite file opened read-only (a browser may hold it open)."""
        import sqlite3  # only where a browser or store keeps one: 1 MB of every process

        if not Path(path).exists():
            raise FileMissing(f"{path} does not exist")
        uri = f"{Path(path).resolve().as_uri()}?mode=ro&immutable=1"
        try:
            connection = sqlite3.connect(uri, uri=True, timeout=2)
        except sqlite3.Error as exc:
            raise FactUnavailable(f"{path}: cannot open: {exc}") from exc
        try:
            return [tuple(row) for row in connection.execute(sql, params)]
        except sqlite3.DatabaseError as exc:
            raise ParseError(f"{path}: {exc}") from exc
        finally:
            connection.close()

    def mtime(self, path: str) -> float:
        try:
            return Path(path).stat().st_mtime
        except FileNotFoundError as exc:
            raise FileMissing(f"{path} does not exist") from exc

    # -- commands ---------------------------------------------------------------------------
    def which(self, program: str) -> str | None:
        return shutil.which(program)

    def run(
        self, argv: Sequence[str], timeout: float = 10.0, env: Mapping[str, str] | None = None
    ) -> CommandResult:
        """Run a program without a shell, in the C locale, within its and the probe's limits."""
        return self._execute(argv, timeout, env)

    def _execute(
        self, argv: Sequence[str], timeout: float, env: Mapping[str, str] | None
    ) -> CommandResult:
        budget = self._budget(timeout)
        full_env = {**os.environ, **C_LOCALE_ENV, **(env or {})}
        try:
            done = subprocess.run(
                list(argv),
                capture_output=True,
                timeout=budget,
                env=full_env,
                stdin=subprocess.DEVNULL,
                check=False,
            )
        except FileNotFoundError as exc:
            raise CommandNotFound(f"{argv[0]} is not installed") from exc
        except PermissionError as exc:
            raise AccessDenied(f"{argv[0]} may not be run by this user") from exc
        except subprocess.TimeoutExpired as exc:
            if self.deadline is not None and time.monotonic() >= self.deadline:
                raise DeadlineExceeded(
                    f"{argv[0]} was running when the probe ran out of time"
                ) from exc
            raise CommandTimeout(f"{argv[0]} did not finish within {budget:.0f} s") from exc
        return CommandResult(
            returncode=done.returncode,
            stdout=done.stdout.decode("utf-8", "replace"),
            stderr=done.stderr.decode("utf-8", "replace"),
        )

    def powershell(self, name: str, script: str, timeout: float = 30.0) -> CommandResult:
        """Run a PowerShell script (UTF-8 JSON out); `name` identifies it in recordings."""
        system_root = os.environ.get("SYSTEMROOT", r"C:\Windows")
        # 32-bit Python on 64-bit Windows must use Sysnative to reach 64-bit PowerShell.
        folder = "Sysnative" if os.environ.get("PROCESSOR_ARCHITEW6432") else "System32"
        exe = os.path.join(system_root, folder, "WindowsPowerShell", "v1.0", "powershell.exe")
        encoded = base64.b64encode((POWERSHELL_PRELUDE + script).encode("utf-16-le")).decode()
        argv = [exe, "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass"]
        return self._execute([*argv, "-EncodedCommand", encoded], timeout, None)

    def _budget(self, timeout: float) -> float:
        if self.deadline is None:
            return timeout
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise DeadlineExceeded("the probe ran out of time")
        return min(timeout, remaining)

    # -- OS APIs (psutil / netifaces) --------------------------------------------------------
    def net_if_addrs(self) -> dict[str, list[NetAddress]]:
        families = {
            socket.AF_INET: "inet",
            socket.AF_INET6: "inet6",
            psutil.AF_LINK: "link",
        }
        result: dict[str, list[NetAddress]] = {}
        for name, addrs in psutil.net_if_addrs().items():
            result[name] = [
                NetAddress(family=families[a.family], address=a.address, netmask=a.netmask)  # type: ignore[arg-type]
                for a in addrs
                if a.family in families
            ]
        return result

    def net_if_stats(self) -> dict[str, NetStats]:
        return {
            name: NetStats(is_up=s.isup, mtu=s.mtu, flags=getattr(s, "flags", ""))
            for name, s in psutil.net_if_stats().items()
        }

    def gateways(self) -> dict[str, Any]:
        """netifaces.gateways() with integer family keys turned into 'inet'/'inet6'."""
        import netifaces  # imported here: only the network probe needs it

        raw: dict[Any, Any] = netifaces.gateways()
        names = {netifaces.AF_INET: "inet", netifaces.AF_INET6: "inet6"}
        return {
            names[family]: [list(entry) for entry in entries]
            for family, entries in raw.items()
            if family in names
        }

    # -- sockets (the isolation probe: only the targets the policy names) ---------------------
    def resolve(self, name: str) -> list[str]:
        """The addresses the system resolver gives for `name`, in its order, [] when the name
        does not exist; FactUnavailable when the resolver could not answer."""
        try:
            infos = socket.getaddrinfo(name, None, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            if exc.errno in _NO_SUCH_NAME:
                return []
            raise FactUnavailable(
                f"the resolver did not answer for {name}: {exc.strerror}"
            ) from exc
        return list(dict.fromkeys(str(info[4][0]).split("%")[0] for info in infos))

    def route_source(self, address: str) -> str | None:
        """The local address the OS would send to `address` from (a UDP connect sends no
        packet); None when there is no route."""
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            try:
                probe.connect((address, 9))
            except OSError:
                return None
            return str(probe.getsockname()[0]).split("%")[0]

    def connect(self, address: str, port: int, timeout: float, tls_name: str | None) -> Connection:
        """One TCP connection to address:port within `timeout` (and the probe's deadline), then
        a TLS handshake when `tls_name` is given (any certificate: the caller judges its issuer).
        Nothing is sent beyond the handshakes; the connection is closed at once."""
        budget = self._budget(timeout)
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as raw:
            raw.settimeout(budget)
            started = time.monotonic()
            try:
                raw.connect((address, port))
            except ConnectionRefusedError:
                return Connection("refused")
            except TimeoutError:
                return Connection("timeout")
            except OSError:  # no route, host or network unreachable
                return Connection("unreachable")
            if tls_name is None:
                return Connection("connected")
            return _tls_handshake(raw, tls_name, max(0.05, budget - (time.monotonic() - started)))

    def users(self) -> list[LoginSession]:
        return [
            LoginSession(name=u.name, terminal=u.terminal, host=u.host, started=u.started)
            for u in psutil.users()
        ]

    def mounts(self) -> list[Mount]:
        return [
            Mount(device=p.device, mountpoint=p.mountpoint, fstype=p.fstype, opts=p.opts)
            for p in psutil.disk_partitions(all=True)
        ]


def _tls_handshake(raw: socket.socket, server_name: str, timeout: float) -> Connection:
    """A TLS handshake on a connected socket, accepting any certificate: an internal server's
    certificate is signed by the organisation's own CA, which this device must not trust."""
    import ssl  # only when a probe asks for TLS: 4 MB of every process that imports the Context

    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    tls.check_hostname = False
    tls.verify_mode = ssl.CERT_NONE
    raw.settimeout(timeout)
    try:
        with tls.wrap_socket(raw, server_hostname=server_name) as wrapped:
            return Connection("connected", wrapped.getpeercert(binary_form=True))
    except TimeoutError:
        return Connection("timeout")
    except (ssl.SSLError, OSError):
        return Connection("tls_failed")
