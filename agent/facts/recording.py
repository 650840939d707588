"""Recording what a machine answers (`agent facts --record`): real answers, written down in
the format the tests replay (tests/replay.py), so an engineer can turn a machine into a fixture."""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict
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
)


def command_key(argv: Sequence[str]) -> str:
    return " ".join(argv)


def connect_key(address: str, port: int, tls_name: str | None) -> str:
    return f"{address} {port} {tls_name or '-'}"


def failure_entry(exc: FactUnavailable) -> dict[str, str]:
    kinds = {
        FileMissing: "missing",
        AccessDenied: "denied",
        CommandNotFound: "missing",
        CommandTimeout: "timeout",
    }
    return {"fails": kinds.get(type(exc), "error"), "message": str(exc)}


class RecordingContext(Context):
    """A real Context that also writes down every answer, in ReplayContext's format."""

    def __init__(self, deadline: float | None = None) -> None:
        super().__init__(deadline)
        self.recording: dict[str, Any] = {"os": super().os_name}

    def with_deadline(self, deadline: float) -> Context:
        child = RecordingContext(deadline)
        child.recording = self.recording
        return child

    def _put(self, section: str, key: str, value: Any) -> None:
        self.recording.setdefault(section, {})[key] = value

    @contextlib.contextmanager
    def _record_failures(self, section: str, key: str) -> Iterator[None]:
        """Write down a failed read (missing: null; other failures: their kind), re-raised."""
        try:
            yield
        except FileMissing:
            self._put(section, key, None)
            raise
        except FactUnavailable as exc:
            self._put(section, key, failure_entry(exc))
            raise

    def _record_call(self, name: str, value: Any) -> Any:
        self._put("calls", name, value)
        return value

    def hostname(self) -> str:
        return str(self._record_call("hostname", super().hostname()))

    def machine(self) -> str:
        return str(self._record_call("machine", super().machine()))

    def kernel_release(self) -> str:
        return str(self._record_call("kernel_release", super().kernel_release()))

    def boot_time(self) -> float:
        return float(self._record_call("boot_time", super().boot_time()))

    def now(self) -> float:
        return float(self._record_call("now", super().now()))

    def env(self, name: str) -> str | None:
        value = super().env(name)
        self._put("env", name, value)
        return value

    def read_text(self, path: str) -> str:
        with self._record_failures("files", path):
            text = super().read_text(path)
        self._put("files", path, text)
        return text

    def exists(self, path: str) -> bool:
        found = super().exists(path)
        if path not in self.recording.get("files", {}):
            self._put("files", path, "" if found else None)
        return found

    def listdir(self, path: str) -> list[str]:
        with self._record_failures("dirs", path):
            names = super().listdir(path)
        self._put("dirs", path, names)
        return names

    def mtime(self, path: str) -> float:
        with self._record_failures("mtimes", path):
            value = super().mtime(path)
        self._put("mtimes", path, value)
        return value

    def read_bytes(self, path: str, limit: int, offset: int = 0) -> bytes:
        with self._record_failures("files", path):
            data = super().read_bytes(path, limit, offset)
        if offset:  # a range (a document's tail, one object): kept by where it starts
            self._put("binary_ranges", f"{offset}:{path}", base64.b64encode(data).decode())
        else:
            self._put("binary_files", path, base64.b64encode(data).decode())
        return data

    def scandir(self, path: str) -> list[DirEntry]:
        with self._record_failures("scandirs", path):
            entries = super().scandir(path)
        self._put("scandirs", path, [[e.name, e.kind, e.size] for e in entries])
        return entries

    def sqlite_rows(
        self, path: str, sql: str, params: tuple[object, ...] = ()
    ) -> list[tuple[object, ...]]:
        with self._record_failures("sqlite", path):
            rows = super().sqlite_rows(path, sql, params)
        self.recording.setdefault("sqlite", {}).setdefault(path, {})[sql] = [list(r) for r in rows]
        return rows

    def which(self, program: str) -> str | None:
        found = super().which(program)
        self._put("which", program, found)
        return found

    def run(
        self, argv: Sequence[str], timeout: float = 10.0, env: Mapping[str, str] | None = None
    ) -> CommandResult:
        try:
            result = super().run(argv, timeout, env)
        except FactUnavailable as exc:
            self._put("commands", command_key(argv), failure_entry(exc))
            raise
        entry = {"rc": result.returncode, "stdout": result.stdout, "stderr": result.stderr}
        self._put("commands", command_key(argv), entry)
        return result

    def powershell(self, name: str, script: str, timeout: float = 30.0) -> CommandResult:
        key = command_key(["powershell", name])
        try:
            result = super().powershell(name, script, timeout)
        except FactUnavailable as exc:
            self._put("commands", key, failure_entry(exc))
            raise
        self._put(
            "commands",
            key,
            {"rc": result.returncode, "stdout": result.stdout, "stderr": result.stderr},
        )
        return result

    def net_if_addrs(self) -> dict[str, list[NetAddress]]:
        value = super().net_if_addrs()
        self._record_call("net_if_addrs", {k: [asdict(a) for a in v] for k, v in value.items()})
        return value

    def net_if_stats(self) -> dict[str, NetStats]:
        value = super().net_if_stats()
        self._record_call("net_if_stats", {k: asdict(v) for k, v in value.items()})
        return value

    def gateways(self) -> dict[str, Any]:
        return dict(self._record_call("gateways", super().gateways()))

    def users(self) -> list[LoginSession]:
        value = super().users()
        self._record_call("users", [asdict(u) for u in value])
        return value

    def mounts(self) -> list[Mount]:
        value = super().mounts()
        self._record_call("mounts", [asdict(m) for m in value])
        return value

    def resolve(self, name: str) -> list[str]:
        with self._record_failures("resolve", name):
            addresses = super().resolve(name)
        self._put("resolve", name, addresses)
        return addresses

    def route_source(self, address: str) -> str | None:
        source = super().route_source(address)
        self._put("routes", address, source)
        return source

    def connect(self, address: str, port: int, timeout: float, tls_name: str | None) -> Connection:
        done = super().connect(address, port, timeout, tls_name)
        certificate = None if done.certificate is None else base64.b64encode(done.certificate)
        entry = {"outcome": done.outcome, "certificate": certificate and certificate.decode()}
        self._put("connects", connect_key(address, port, tls_name), entry)
        return done
