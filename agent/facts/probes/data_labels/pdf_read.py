"""Reading a PDF's Info dictionary and XMP packet, in ranges through the Context: the tail
(startxref), the cross-reference tables or streams (following /Prev through incremental
updates), then only the objects named: Info, the catalog, its Metadata stream, and the object
streams that hold any of them. Never the pages."""

from __future__ import annotations

import re
from typing import Any

from agent.facts.context import Context, ParseError
from agent.facts.probes.data_labels.pdf_syntax import (
    Keyword,
    Ref,
    Short,
    decode_stream,
    parse_object,
    skip_space,
    text,
)

TAIL = 4096  # startxref and %%EOF are at the end, perhaps with some junk after them
WINDOW = 16 * 1024  # first read at an object or a cross-reference section; doubled when short
_STARTXREF = re.compile(rb"startxref\s+(\d+)")
_OBJ = re.compile(rb"\s*(\d+)\s+(\d+)\s+obj\b")
_XREF_ROW = re.compile(rb"\s*(\d{1,10})\s+(\d{1,5})\s+([nf])")
_SUBSECTION = re.compile(rb"\s*(\d+)\s+(\d+)")
NEAR = 1024  # how far from a wrong offset the object or section it meant is looked for
MAX_SECTIONS = 64  # incremental updates followed; a loop or a flood is a broken file
# Bytes unpacked from one file's streams, in part limits: a real file's metadata, objects and
# cross-references unpack to far less; a chain of bombs each under the per-stream limit would
# otherwise cost 64 limits of inflating and predictor rows walked in Python.
UNPACK_PARTS = 4

Entry = tuple[int, int, int]  # (1, offset, 0) in the file, or (2, object stream, index)


class PdfFile:
    """One PDF read through the Context, at most `budget` bytes in all."""

    def __init__(self, ctx: Context, path: str, size: int, part_limit: int) -> None:
        self.ctx, self.path, self.size, self.part_limit = ctx, path, size, part_limit
        self.budget = 16 * part_limit
        self.bytes_read = 0
        self.unpacked = 0
        self.entries: dict[int, Entry] = {}
        self.trailer: dict[str, Any] = {}
        self._streams: dict[int, tuple[bytes, list[int], int]] = {}

    def read(self, offset: int, length: int) -> bytes:
        length = max(0, min(length, self.size - offset))
        if self.bytes_read + length > self.budget:
            raise ParseError(f"reading the metadata would pass {self.budget} bytes")
        data = self.ctx.read_bytes(self.path, length, offset)
        self.bytes_read += len(data)
        return data

    def decode(self, raw: bytes, info: dict[str, Any]) -> bytes:
        """A stream's data (decode_stream) within what is left of the file's unpack budget."""
        left = UNPACK_PARTS * self.part_limit - self.unpacked
        if left <= 0:
            raise ParseError(f"its streams unpack to more than {UNPACK_PARTS * self.part_limit}")
        data = decode_stream(raw, info, min(self.part_limit, left))
        self.unpacked += len(data)
        return data

    def _parse_at(self, offset: int, parse: Any) -> Any:
        """Parse from `offset`, reading a bigger window while the bytes run short."""
        window = WINDOW
        while True:
            data = self.read(offset, window)
            try:
                return parse(data)
            except Short:
                if offset + window >= self.size or window >= self.part_limit:
                    raise ParseError("an object runs past the end of the file") from None
                window *= 2

    # -- cross-references ------------------------------------------------------------------
    def load_xref(self) -> None:
        tail = self.read(max(0, self.size - TAIL), TAIL)
        found = list(_STARTXREF.finditer(tail))
        if not found:
            raise ParseError("no startxref at the end: not a PDF, or cut short")
        offset: int | None = int(found[-1][1])
        seen: set[int] = set()
        while offset is not None and offset not in seen and len(seen) < MAX_SECTIONS:
            seen.add(offset)
            try:
                trailer = self._parse_at(offset, self._section)
            except ParseError:
                # Some writers' offsets are off by a few bytes: look for the section nearby.
                trailer = self._parse_at(
                    self._near(offset, rb"xref|\d+\s+\d+\s+obj"), self._section
                )
            for key, value in trailer.items():
                self.trailer.setdefault(key, value)  # the newest section's trailer wins
            hybrid = trailer.get("XRefStm")
            if isinstance(hybrid, int) and hybrid not in seen:
                seen.add(hybrid)
                self._parse_at(hybrid, self._section)
            prev = trailer.get("Prev")
            offset = prev if isinstance(prev, int) else None

    def _near(self, offset: int, pattern: bytes) -> int:
        """Where `pattern` starts nearest to `offset`, within NEAR bytes either side."""
        start = max(0, offset - NEAR)
        window = self.read(start, 2 * NEAR)
        found = [m.start() + start for m in re.finditer(pattern, window)]
        if not found:
            raise ParseError("a cross-reference offset points at nothing known")
        return min(found, key=lambda at: abs(at - offset))

    def _section(self, data: bytes) -> dict[str, Any]:
        """One cross-reference section, its entries kept and its trailer returned: a table,
        b"xref\\n0 2\\n0000000000 65535 f \\n0000000015 00000 n \\ntrailer\\n<< /Size 2
        /Root 1 0 R >>",
        or a stream object, b"9 0 obj << /Type /XRef /W [1 4 2] /Size 10 /Filter /FlateDecode
        /DecodeParms << /Columns 7 /Predictor 12 >> /Length 53 >> stream ..." (Acrobat, pdfTeX)."""
        pos = skip_space(data, 0)
        if data.startswith(b"xref", pos):
            return self._table(data, pos + 4)
        info, raw = self._indirect(data, 0)
        if not isinstance(info, dict) or info.get("Type") != "XRef":
            raise ParseError("startxref does not point at cross-references")
        rows = self.decode(raw, info)
        widths = [int(w) for w in info.get("W", [])]
        index = info.get("Index") or [0, int(info.get("Size", 0))]
        row_size = sum(widths)
        if len(widths) != 3 or row_size == 0:
            raise ParseError("a cross-reference stream without /W [a b c]")
        pos = 0
        for first, count in zip(index[::2], index[1::2], strict=False):
            for number in range(int(first), int(first) + int(count)):
                row = rows[pos : pos + row_size]
                pos += row_size
                if len(row) < row_size:
                    raise ParseError("a cross-reference stream is cut short")
                fields = []
                at = 0
                for width in widths:
                    fields.append(int.from_bytes(row[at : at + width], "big"))
                    at += width
                kind = fields[0] if widths[0] else 1
                if kind in (1, 2):
                    self.entries.setdefault(number, (kind, fields[1], fields[2]))
        return info

    def _table(self, data: bytes, pos: int) -> dict[str, Any]:
        while True:
            pos = skip_space(data, pos)
            if data.startswith(b"trailer", pos):
                trailer, _ = parse_object(data, pos + 7)
                if not isinstance(trailer, dict):
                    raise ParseError("the trailer is not a dictionary")
                return trailer
            header = _SUBSECTION.match(data, pos)
            if header is None:
                raise Short("a cross-reference table runs past the bytes read")
            pos = header.end()
            for number in range(int(header[1]), int(header[1]) + int(header[2])):
                row = _XREF_ROW.match(data, pos)
                if row is None:
                    raise Short("a cross-reference table runs past the bytes read")
                pos = row.end()
                if row[3] == b"n":
                    self.entries.setdefault(number, (1, int(row[1]), int(row[2])))

    # -- objects ---------------------------------------------------------------------------
    def _indirect(self, data: bytes, pos: int) -> tuple[Any, bytes]:
        """`N G obj <object> [stream ... endstream]` at pos: the object and its raw stream."""
        header = _OBJ.match(data, pos)
        if header is None:
            raise ParseError("a cross-reference entry does not point at an object")
        value, pos = parse_object(data, header.end())
        pos = skip_space(data, pos)
        if not data.startswith(b"stream", pos):
            return value, b""
        if not isinstance(value, dict):
            raise ParseError("a stream without a dictionary")
        pos += 6
        pos += 2 if data.startswith(b"\r\n", pos) else 1
        length = self.resolve(value.get("Length"))
        if not isinstance(length, int) or length < 0 or length > self.part_limit:
            raise ParseError("a stream's /Length is missing or too large")
        if pos + length > len(data):
            raise Short("a stream runs past the bytes read")
        return value, data[pos : pos + length]

    def _object_stream(self, number: int) -> tuple[bytes, list[int], int]:
        if number not in self._streams:
            info, raw = self.indirect(number)
            if not isinstance(info, dict) or info.get("Type") != "ObjStm":
                raise ParseError("an object stream entry does not point at one")
            data = self.decode(raw, info)
            count, first = int(info.get("N", 0)), int(info.get("First", 0))
            numbers = [int(n) for n in re.findall(rb"\d+", data[:first])]
            self._streams[number] = (data, numbers[1 : 2 * count : 2], first)
        return self._streams[number]

    def indirect(self, number: int) -> tuple[Any, bytes]:
        """Object `number` (and its raw stream data), wherever the cross-references put it."""
        entry = self.entries.get(number)
        if entry is None:
            return None, b""  # a reference to a missing object is null (§7.3.10)
        kind, where, index = entry
        if kind == 1:
            header = rb"(?<!\d)%d\s+%d\s+obj\b" % (number, index)
            if not re.match(rb"\s*" + header, self.read(where, 32)):
                where = self._near(where, header)  # an offset a few bytes off, as above
            return self._parse_at(where, lambda data: self._indirect(data, 0))  # type: ignore[no-any-return]
        data, offsets, first = self._object_stream(where)
        if index >= len(offsets):
            raise ParseError("an object stream holds fewer objects than listed")
        value, _ = parse_object(data, first + offsets[index])
        return value, b""

    def resolve(self, value: Any, depth: int = 0) -> Any:
        while isinstance(value, Ref) and depth < 32:
            value, _ = self.indirect(value.number)
            depth += 1
        return None if isinstance(value, Ref | Keyword) else value


def read_metadata(
    ctx: Context, path: str, size: int, part_limit: int
) -> tuple[list[tuple[str, str]], bytes | None, int]:
    """The Info dictionary's (key, text) pairs, the XMP packet if any, and the bytes read.
    A malformed or encrypted PDF raises ParseError; an unreadable one FactUnavailable."""
    pdf = PdfFile(ctx, path, size, part_limit)
    pdf.load_xref()
    if pdf.trailer.get("Encrypt") is not None:
        raise ParseError("encrypted PDF: its metadata cannot be read without the password")
    info = pdf.resolve(pdf.trailer.get("Info"))
    properties = []
    if isinstance(info, dict):
        properties = [(f"/{key}", text(pdf.resolve(value))) for key, value in info.items()]
    root = pdf.resolve(pdf.trailer.get("Root"))
    xmp = None
    metadata = root.get("Metadata") if isinstance(root, dict) else None
    if isinstance(metadata, Ref):
        stream, raw = pdf.indirect(metadata.number)
        if isinstance(stream, dict):
            xmp = pdf.decode(raw, stream)
    return properties, xmp, pdf.bytes_read
