"""Reads request bodies within a size limit, gzip included (a gzip bomb stops at the limit)."""

from __future__ import annotations

import zlib
from typing import Any

import orjson
from fastapi import HTTPException, Request


async def read_limited(request: Request, limit: int) -> bytes:
    """The raw body, refused with 413 as soon as it passes the limit."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"body larger than {limit} bytes")
    chunks, total = [], 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise HTTPException(413, f"body larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def decompress(body: bytes, encoding: str | None, limit: int) -> bytes:
    """Undo Content-Encoding: gzip without ever holding more than limit + 1 bytes."""
    if encoding in (None, "", "identity"):
        return body
    if encoding.lower() != "gzip":
        raise HTTPException(415, f"Content-Encoding {encoding!r} is not supported (use gzip)")
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise HTTPException(400, f"body is not valid gzip: {exc}") from exc
    if len(out) > limit or inflater.unconsumed_tail:
        raise HTTPException(413, f"body larger than {limit} bytes once decompressed")
    if not inflater.eof:
        raise HTTPException(400, "gzip body is truncated")
    return out


def parse_json_object(body: bytes) -> dict[str, Any]:
    """orjson: strict UTF-8 and RFC 8259 (no NaN); nesting deeper than 1024 is an error."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        if str(exc).startswith("depth limit exceeded"):  # a few KB of [[[[...
            raise HTTPException(400, "body nests too deeply to be a report") from exc
        raise HTTPException(400, f"body is not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise HTTPException(422, "the report must be a JSON object")
    return value
