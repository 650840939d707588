"""PDF object syntax (ISO 32000-1 §7.3): pure parsing of one object from bytes, and stream
decoding (Flate with PNG or TIFF predictors), e.g. b"<< /Title (Plan) /Info 7 0 R >>" ->
{"Title": PdfString(b"Plan"), "Info": Ref(7, 0)}."""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from typing import Any

from agent.facts.context import ParseError

WHITESPACE = b"\x00\t\n\x0c\r "
DELIMITERS = b"()<>[]{}/%"
_NUMBER = re.compile(rb"[+-]?(\d+\.?\d*|\.\d+)")
_REF = re.compile(rb"\s+(\d+)\s+R(?![^\x00\t\n\x0c\r ()<>\[\]{}/%])")
_TOKEN_END = re.compile(rb"[\x00\t\n\x0c\r ()<>\[\]{}/%]")
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}
MAX_DEPTH = 64


class Short(ParseError):
    """The object runs past the bytes read so far: read more and parse again."""


class PdfString(bytes):
    """A string object's bytes (decode with text())."""


class Name(str):
    """A name object, without its slash: /Type -> Name("Type")."""


@dataclass(frozen=True)
class Ref:
    """An indirect reference: 7 0 R."""

    number: int
    generation: int


@dataclass(frozen=True)
class Keyword:
    """A bare keyword: stream, endobj, obj, R..."""

    word: bytes


def skip_space(data: bytes, pos: int) -> int:
    """Past white space and comments (% to the end of the line)."""
    while pos < len(data):
        byte = data[pos : pos + 1]
        if byte in WHITESPACE and byte:
            pos += 1
        elif byte == b"%":
            while pos < len(data) and data[pos : pos + 1] not in (b"\r", b"\n"):
                pos += 1
        else:
            return pos
    return pos


def _literal(data: bytes, pos: int) -> tuple[PdfString, int]:
    """(a \\(nested\\) string) with escapes and octal codes; pos is after the "("."""
    out = bytearray()
    depth = 1
    while pos < len(data):
        byte = data[pos : pos + 1]
        pos += 1
        if byte == b"\\":
            code = data[pos : pos + 1]
            if not code:
                break
            octal = re.match(rb"[0-7]{1,3}", data[pos : pos + 3])
            if octal:
                out.append(int(octal[0], 8) & 0xFF)
                pos += len(octal[0])
                continue
            pos += 1
            if code == b"\r" and data[pos : pos + 1] == b"\n":
                pos += 1
            if code not in (b"\r", b"\n"):
                out += _ESCAPES.get(code, code)
        elif byte == b"(":
            depth += 1
            out += byte
        elif byte == b")":
            depth -= 1
            if depth == 0:
                return PdfString(out), pos
            out += byte
        else:
            out += byte
    raise Short("a string runs past the bytes read")


def _name(data: bytes, pos: int) -> tuple[Name, int]:
    end = _TOKEN_END.search(data, pos)
    if end is None:
        raise Short("a name runs past the bytes read")
    raw = re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m[1], 16)]), data[pos : end.start()])
    return Name(raw.decode("latin-1")), end.start()


def parse_object(data: bytes, pos: int, depth: int = 0) -> tuple[Any, int]:
    """One object starting at or after `pos`, and the position after it."""
    if depth > MAX_DEPTH:
        raise ParseError("objects nested too deep")
    pos = skip_space(data, pos)
    if pos >= len(data):
        raise Short("an object runs past the bytes read")
    head = data[pos : pos + 2]
    if head == b"<<":
        result: dict[str, Any] = {}
        pos += 2
        while True:
            pos = skip_space(data, pos)
            if data[pos : pos + 2] == b">>":
                return result, pos + 2
            if pos >= len(data):
                raise Short("a dictionary runs past the bytes read")
            key, pos = parse_object(data, pos, depth + 1)
            if not isinstance(key, Name):
                raise ParseError("a dictionary key is not a name")
            result[key], pos = parse_object(data, pos, depth + 1)
    if head[:1] == b"<":
        end = data.find(b">", pos)
        if end < 0:
            raise Short("a hex string runs past the bytes read")
        digits = re.sub(rb"[^0-9A-Fa-f]", b"", data[pos + 1 : end])
        return PdfString(bytes.fromhex((digits + b"0" * (len(digits) % 2)).decode())), end + 1
    if head[:1] == b"[":
        items: list[Any] = []
        pos += 1
        while True:
            pos = skip_space(data, pos)
            if data[pos : pos + 1] == b"]":
                return items, pos + 1
            if pos >= len(data):
                raise Short("an array runs past the bytes read")
            item, pos = parse_object(data, pos, depth + 1)
            items.append(item)
    if head[:1] == b"(":
        return _literal(data, pos + 1)
    if head[:1] == b"/":
        return _name(data, pos + 1)
    number = _NUMBER.match(data, pos)
    if number:
        ref = _REF.match(data, number.end()) if b"." not in number[0] else None
        if ref and number[0].isdigit():
            return Ref(int(number[0]), int(ref[1])), ref.end()
        text = number[0]
        return (float(text) if b"." in text else int(text)), number.end()
    token = _TOKEN_END.search(data, pos)
    if token is None or token.start() == pos:
        raise ParseError(f"unexpected syntax at byte {pos}")  # never the file's bytes
    word = data[pos : token.start()]
    return {b"true": True, b"false": False, b"null": None}.get(word, Keyword(word)), token.start()


# PDFDocEncoding (ISO 32000-1 Annex D) where it differs from Latin-1.
_PDFDOC = {
    **dict(zip(range(0x18, 0x20), "\u02d8\u02c7\u02c6\u02d9\u02dd\u02db\u02da\u02dc", strict=True)),
    **dict(zip(range(0x80, 0x9F), "•†‡…—–ƒ⁄‹›−‰„“”‘’‚™ﬁﬂŁŒŠŸŽıłœšž", strict=True)),
    0xA0: "€",
}


def text(value: Any) -> str:
    """A text string as PDF writes it: UTF-16BE or UTF-8 with a BOM, else PDFDocEncoding
    (close to Latin-1); names and numbers as written."""
    if isinstance(value, PdfString):
        if value.startswith(b"\xfe\xff"):
            return value[2:].decode("utf-16-be", errors="replace")
        if value.startswith(b"\xef\xbb\xbf"):
            return value[3:].decode("utf-8", errors="replace")
        return "".join(_PDFDOC.get(byte) or chr(byte) for byte in value)
    return str(value)


def _unpredict(data: bytes, parms: dict[str, Any]) -> bytes:
    """Undo a PNG predictor (10-15: a filter byte per row) as cross-reference streams use."""
    predictor = parms.get("Predictor", 1)
    if predictor == 1:
        return data
    if predictor < 10:
        raise ParseError(f"predictor {predictor} is not supported")
    width = int(parms.get("Columns", 1)) * int(parms.get("Colors", 1))
    width = width * int(parms.get("BitsPerComponent", 8)) // 8
    step = max(1, int(parms.get("Colors", 1)) * int(parms.get("BitsPerComponent", 8)) // 8)
    if not 0 < width <= len(data):
        raise ParseError("a predictor's /Columns does not fit its stream")
    out = bytearray()
    previous = bytearray(width)
    for start in range(0, len(data) - width, width + 1):
        kind, row = data[start], bytearray(data[start + 1 : start + 1 + width])
        for i in range(width):
            left = row[i - step] if i >= step else 0
            up = previous[i]
            corner = previous[i - step] if i >= step else 0
            if kind == 1:
                row[i] = (row[i] + left) & 0xFF
            elif kind == 2:
                row[i] = (row[i] + up) & 0xFF
            elif kind == 3:
                row[i] = (row[i] + (left + up) // 2) & 0xFF
            elif kind == 4:  # Paeth: the neighbour nearest to left + up - corner
                guess = left + up - corner
                far_left, far_up, far_corner = (abs(guess - v) for v in (left, up, corner))
                if far_left <= far_up and far_left <= far_corner:
                    row[i] = (row[i] + left) & 0xFF
                else:
                    row[i] = (row[i] + (up if far_up <= far_corner else corner)) & 0xFF
        out += row
        previous = row
    return bytes(out)


def decode_stream(raw: bytes, info: dict[str, Any], limit: int) -> bytes:
    """A stream's data through its filters (FlateDecode only: what metadata, object streams
    and cross-reference streams use), at most `limit` bytes unpacked."""
    filters = info.get("Filter") or []
    filters = filters if isinstance(filters, list) else [filters]
    parms = info.get("DecodeParms") or {}
    parms = parms[0] if isinstance(parms, list) and parms else parms
    data = raw
    for name in filters:
        if name not in ("FlateDecode", "Fl"):
            raise ParseError("a stream filter other than FlateDecode")
        unpack = zlib.decompressobj()
        try:
            data = unpack.decompress(data, limit + 1)
        except zlib.error as exc:
            raise ParseError("a compressed stream is damaged") from exc
        if len(data) > limit:
            raise ParseError(f"a stream unpacks to more than {limit} bytes")
        data = _unpredict(data, parms if isinstance(parms, dict) else {})
    return data
