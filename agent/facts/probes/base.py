"""What every probe shares: its description, the per-OS choice, one reading, checked commands."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from agent.facts.context import Context, FactUnavailable
from agent.report import Gaps

T = TypeVar("T")


@dataclass(frozen=True)
class Probe:
    """One fact family: its name (report key), what it tells, its data type and time budget."""

    name: str
    summary: str
    data_type: type[Any]
    collect: Callable[[Context], Any]
    timeout_s: float
    # Added after schema v1 was first shipped: reports of older agents lack it, so the schema
    # lets it be absent (its rule then says unknown).
    optional: bool = False


def for_os(ctx: Context, *, linux: T, darwin: T, windows: T) -> T:
    """The one of three per-OS choices that fits the machine `ctx` reads: the only place where
    the probes and the host section turn the OS name into code."""
    choices = {"linux": linux, "darwin": darwin, "windows": windows}
    return choices[ctx.os_name]


def reason(exc: FactUnavailable) -> str:
    """Why a fact is unknown, as a gap says it: the message, else the kind of failure."""
    return str(exc) or type(exc).__name__


def attempt(gaps: Gaps, field_name: str, read: Callable[[], T]) -> T | None:
    """Read one fact; when it cannot be read, record the reason under its field and give None."""
    try:
        return read()
    except FactUnavailable as exc:
        gaps[field_name] = reason(exc)
        return None


class Reading:
    """One probe's reading of this machine: the Context, the gaps so far, and the reads that
    several facts share (made once, their value or failure kept for the others)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.gaps: Gaps = {}
        self._shared: dict[str, object] = {}
        self._failure: FactUnavailable | None = None

    def shared(self, key: str, read: Callable[[], T]) -> T:
        """The result of `read`, read the first time `key` is asked for; a failure is kept and
        raised again to every later asker, so that each fact that needed it says the same."""
        if key not in self._shared:
            try:
                self._shared[key] = read()
            except FactUnavailable as exc:
                self._shared[key] = exc
        value = self._shared[key]
        if isinstance(value, FactUnavailable):
            raise value
        return cast(T, value)

    def essential(self, key: str, read: Callable[[], T]) -> T:
        """A shared read the whole probe stands on (e.g. the one PowerShell script that answers
        every fact): when it fails, the probe fails with that error instead of reporting gaps."""
        try:
            return self.shared(key, read)
        except FactUnavailable as exc:
            self._failure = exc
            raise

    def attempt(self, field_name: str, read: Callable[[], T]) -> T | None:
        """Read one field of the probe's data; a failure becomes its gap, unless an essential
        read failed: then the probe fails with that failure."""
        try:
            return read()
        except FactUnavailable as exc:
            if self._failure is not None:
                raise self._failure from None
            self.gaps[field_name] = reason(exc)
            return None


def first_line(text: str, limit: int = 160) -> str:
    """The first non-empty line of a message, shortened: enough for a gap, never a dump."""
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:limit]
    return ""


class CommandFailed(FactUnavailable):
    """A program ran but exited non-zero, so what it was to print cannot be read."""

    def __init__(self, program: str, returncode: int, stdout: str, stderr: str) -> None:
        detail = first_line(stderr, 200) or first_line(stdout, 200) or "no output"
        super().__init__(f"{program} exited with {returncode}: {detail}")
        self.program = program
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr


def run_checked(
    ctx: Context,
    argv: Sequence[str],
    timeout: float = 10.0,
    env: Mapping[str, str] | None = None,
) -> str:
    """Run a program through the Context and give its stdout; a non-zero exit is a
    CommandFailed naming the program, its exit code and the first line it printed to stderr."""
    result = ctx.run(argv, timeout=timeout, env=env)
    if result.returncode != 0:
        raise CommandFailed(argv[0], result.returncode, result.stdout, result.stderr)
    return result.stdout
