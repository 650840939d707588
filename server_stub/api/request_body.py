"""Reads a request's body within a size limit, refusing it as soon as it passes the limit."""

from __future__ import annotations

from starlette.requests import Request

from server_stub.ingest.bodies import too_large


async def read_limited(request: Request, limit: int) -> bytes:
    """The raw body; BodyError (BODY_TOO_LARGE) before reading when Content-Length says so."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    chunks, total = [], 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)
