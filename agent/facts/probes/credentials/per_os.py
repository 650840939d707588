"""The credential scan's one per-OS choice: per-OS tables picked with for_os, and OS paths."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Generic, TypeVar

from agent.facts.context import Context
from agent.facts.probes.base import for_os

T = TypeVar("T")


@dataclass(frozen=True)
class PerOs(Generic[T]):
    """One value for each OS: a store's finders, the folders or files it reads, its readers.
    `pick` chooses the machine's with for_os; the stores never compare OS names themselves."""

    linux: T
    darwin: T
    windows: T

    def pick(self, ctx: Context) -> T:
        return for_os(ctx, linux=self.linux, darwin=self.darwin, windows=self.windows)


SEPARATORS = PerOs(linux="/", darwin="/", windows="\\")
# From the root; on Windows from a drive (C:\) or a UNC share (\\server).
_ABSOLUTE = PerOs(
    linux=re.compile(r"^/"),
    darwin=re.compile(r"^/"),
    windows=re.compile(r"^[A-Za-z]:\\|^\\\\"),
)


def separator(ctx: Context) -> str:
    """The path separator of the machine `ctx` reads."""
    return SEPARATORS.pick(ctx)


def join(ctx: Context, base: str, *parts: str) -> str:
    """A path below `base` with the machine's separator; parts may be written with '/':
    join(ctx, "C:\\Users\\a", "AppData/Roaming") on Windows gives C:\\Users\\a\\AppData\\Roaming."""
    sep = separator(ctx)
    return sep.join([base.rstrip("/\\"), *(part.replace("/", sep) for part in parts)])


def is_absolute(ctx: Context, path: str) -> bool:
    """Whether `path` (written with the machine's separator) starts at a root, not a folder."""
    return bool(_ABSOLUTE.pick(ctx).match(path))
