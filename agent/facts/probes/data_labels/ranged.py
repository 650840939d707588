"""A file read through the Context in ranges, for readers that seek (zip, PDF): only the parts
they ask for are read, so a 200 MB presentation costs its directory and a few small parts."""

from __future__ import annotations

import io
import zipfile
import zlib
from typing import Any

from agent.facts.context import Context, FactUnavailable

# What the parsers of a document (zipfile, ElementTree, zlib, ours) raise on a malformed one:
# documents are untrusted input, and one bad file must cost only its own inspection.
MALFORMED = (
    ValueError,  # UnicodeDecodeError too
    TypeError,
    LookupError,  # IndexError, KeyError, an unknown XML encoding
    OverflowError,
    RecursionError,
    EOFError,
    RuntimeError,  # zipfile: an encrypted member
    NotImplementedError,  # zipfile: an unknown compression method
    zipfile.BadZipFile,
    zlib.error,
)
BUFFER = 8 * 1024  # readers seek often: a bigger buffer reads more that is never used


class OverBudget(FactUnavailable):
    """A reader asked for more of one file than the scan allows."""


class RangedFile(io.RawIOBase):
    """Seekable, read-only view of `path` (of `size` bytes) that reads with ctx.read_bytes and
    counts what it read; past `limit` bytes it raises OverBudget (a reader gone astray)."""

    def __init__(self, ctx: Context, path: str, size: int, limit: int) -> None:
        super().__init__()
        self.ctx, self.path, self.size, self.limit = ctx, path, size, limit
        self.position = 0
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = max(0, base + offset)
        return self.position

    def readinto(self, buffer: Any) -> int:
        wanted = min(len(buffer), max(0, self.size - self.position))
        if wanted == 0:
            return 0
        if self.bytes_read + wanted > self.limit:
            raise OverBudget(f"{self.path}: reading it would pass {self.limit} bytes")
        data = self.ctx.read_bytes(self.path, wanted, self.position)
        buffer[: len(data)] = data
        self.position += len(data)
        self.bytes_read += len(data)
        return len(data)


def open_ranged(
    ctx: Context, path: str, size: int, limit: int
) -> tuple[RangedFile, io.BufferedReader]:
    """The raw view (for its byte count) and a buffered reader over it (for the parser)."""
    raw = RangedFile(ctx, path, size, limit)
    return raw, io.BufferedReader(raw, BUFFER)
