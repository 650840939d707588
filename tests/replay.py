"""Replaying a recorded machine in tests: answers only from the recording, strictly."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import Any

from agent.facts.context import (
    AccessDenied,
    CommandNotFound,
    CommandResult,
    CommandTimeout,
    Connection,
    Context,
    DirEntry,
    FactUnavailable,
    FileMissing,
    LoginSession,
    Mount,
    NetAddress,
    NetStats,
    OsName,
)
from agent.facts.recording import command_key, connect_key


class UnexpectedAccess(AssertionError):
    """A probe touched a file, command or API that the recording does not list."""


def _raise_failure(entry: Mapping[str, Any], what: str) -> None:
    kind = entry.get("fails")
    message = entry.get("message", what)
    if kind == "missing":
        raise FileMissing(message) if what.startswith("/") else CommandNotFound(message)
    if kind == "denied":
        raise AccessDenied(message)
    if kind == "timeout":
        raise CommandTimeout(message)
    if kind is not None:
        raise FactUnavailable(message)


class ReplayContext(Context):
    """Answers only from a recording; anything unlisted fails the test loudly."""

    def __init__(
        self,
        recording: Mapping[str, Any],
        deadline: float | None = None,
    ) -> None:
        super().__init__(deadline)
        self.recording = recording

    @classmethod
    def from_file(cls, path: str) -> ReplayContext:
        with open(path, encoding="utf-8") as handle:
            return cls(json.load(handle))

    def with_deadline(self, deadline: float) -> Context:
        return ReplayContext(self.recording, deadline)

    def _section(self, name: str) -> Mapping[str, Any]:
        section: Mapping[str, Any] = self.recording.get(name, {})
        return section

    def _lookup(self, section: str, key: str) -> Any:
        entries = self._section(section)
        if key not in entries:
            raise UnexpectedAccess(f"recording has no {section} entry for {key!r}")
        return entries[key]

    @property
    def os_name(self) -> OsName:
        os_name: OsName = self.recording["os"]
        return os_name

    def _call(self, name: str) -> Any:
        return self._lookup("calls", name)

    def hostname(self) -> str:
        return str(self._call("hostname"))

    def machine(self) -> str:
        return str(self._call("machine"))

    def kernel_release(self) -> str:
        return str(self._call("kernel_release"))

    def boot_time(self) -> float:
        return float(self._call("boot_time"))

    def now(self) -> float:
        return float(self._call("now"))

    def env(self, name: str) -> str | None:
        value = self._lookup("env", name)
        return None if value is None else str(value)

    def read_text(self, path: str) -> str:
        entry = self._lookup("files", path)
        if entry is None:
            raise FileMissing(f"{path} does not exist")
        if isinstance(entry, dict):
            _raise_failure(entry, path)
        return str(entry)

    def exists(self, path: str) -> bool:
        for section in ("files", "dirs"):
            if path in self._section(section):
                return self._section(section)[path] is not None
        raise UnexpectedAccess(f"recording does not say whether {path!r} exists")

    def listdir(self, path: str) -> list[str]:
        entry = self._lookup("dirs", path)
        if entry is None:
            raise FileMissing(f"{path} does not exist")
        if isinstance(entry, dict):
            _raise_failure(entry, path)
        return sorted(str(name) for name in entry)

    def mtime(self, path: str) -> float:
        entry = self._lookup("mtimes", path)
        if entry is None:
            raise FileMissing(f"{path} does not exist")
        return float(entry)

    def read_bytes(self, path: str, limit: int, offset: int = 0) -> bytes:
        ranges = self._section("binary_ranges")
        if offset and f"{offset}:{path}" in ranges:
            return base64.b64decode(ranges[f"{offset}:{path}"])[:limit]
        if path in self._section("binary_files"):
            return base64.b64decode(self._section("binary_files")[path])[offset : offset + limit]
        return self.read_text(path).encode("utf-8")[offset : offset + limit]

    def scandir(self, path: str) -> list[DirEntry]:
        entry = self._lookup("scandirs", path)
        if entry is None:
            raise FileMissing(f"{path} does not exist")
        if isinstance(entry, dict):
            _raise_failure(entry, path)
        return [DirEntry(name=n, kind=k, size=int(size)) for n, k, size in entry]

    def sqlite_rows(
        self, path: str, sql: str, params: tuple[object, ...] = ()
    ) -> list[tuple[object, ...]]:
        tables = self._lookup("sqlite", path)
        if tables is None:
            raise FileMissing(f"{path} does not exist")
        if isinstance(tables, dict) and "fails" in tables:
            _raise_failure(tables, path)
        if sql not in tables:
            raise UnexpectedAccess(f"recording has no rows for {sql!r} on {path}")
        return [tuple(row) for row in tables[sql]]

    def which(self, program: str) -> str | None:
        value = self._lookup("which", program)
        return None if value is None else str(value)

    def run(
        self, argv: Sequence[str], timeout: float = 10.0, env: Mapping[str, str] | None = None
    ) -> CommandResult:
        self._budget(timeout)
        entry = self._lookup("commands", command_key(argv))
        _raise_failure(entry, argv[0])
        return CommandResult(
            returncode=int(entry.get("rc", 0)),
            stdout=str(entry.get("stdout", "")),
            stderr=str(entry.get("stderr", "")),
        )

    def powershell(self, name: str, script: str, timeout: float = 30.0) -> CommandResult:
        return self.run(["powershell", name], timeout=timeout)

    def net_if_addrs(self) -> dict[str, list[NetAddress]]:
        raw = self._call("net_if_addrs")
        return {name: [NetAddress(**a) for a in addrs] for name, addrs in raw.items()}

    def net_if_stats(self) -> dict[str, NetStats]:
        return {name: NetStats(**s) for name, s in self._call("net_if_stats").items()}

    def gateways(self) -> dict[str, Any]:
        gateways: dict[str, Any] = self._call("gateways")
        return gateways

    def users(self) -> list[LoginSession]:
        return [LoginSession(**u) for u in self._call("users")]

    def mounts(self) -> list[Mount]:
        return [Mount(**m) for m in self._call("mounts")]

    def resolve(self, name: str) -> list[str]:
        entry = self._lookup("resolve", name)
        if isinstance(entry, dict):
            _raise_failure(entry, name)
        return [str(address) for address in entry]

    def route_source(self, address: str) -> str | None:
        source = self._lookup("routes", address)
        return None if source is None else str(source)

    def connect(self, address: str, port: int, timeout: float, tls_name: str | None) -> Connection:
        self._budget(timeout)
        entry = self._lookup("connects", connect_key(address, port, tls_name))
        certificate = entry.get("certificate")
        return Connection(
            outcome=entry["outcome"],
            certificate=None if certificate is None else base64.b64decode(certificate),
        )
