"""ASGI middleware at every door: security headers, clean paths and queries, bounded bodies."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_to_bytes

import orjson
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server_stub.api.agents import REPORTS_PATH

KIB = 1024
# Bodies other than reports (which keep their own limit and answers) are read whole here, so
# one request can never hold more than its route's limit in memory.
LIMITS = {"/api/v1/enroll": 4 * KIB, "/login": 8 * KIB}
FORM_LIMIT = 64 * KIB  # the register form's justification may be 4000 characters
MAX_DEPTH = 16  # an enrolment body is flat; nothing the collector takes nests deeper
EXCERPT = 60
HSTS = "max-age=31536000; includeSubDomains"


def limit_for(path: str) -> int:
    return LIMITS.get(path, FORM_LIMIT)


def excerpt(text: str, length: int = EXCERPT) -> str:
    """At most a short excerpt of what was sent, printable: answers never echo the input."""
    cut = text[:length].encode("ascii", "backslashreplace").decode("ascii")
    return cut + ("..." if len(text) > length else "")


def url_problem(scope: Scope) -> str | None:
    """Why the path or query cannot be taken: NUL or another control character, or bytes
    that are not UTF-8 (PostgreSQL refuses NUL in text; no name of ours needs them)."""
    raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
    for label, raw in (("path", raw_path), ("query", scope.get("query_string", b""))):
        decoded = unquote_to_bytes(raw.replace(b"+", b" ") if label == "query" else raw)
        try:
            text = decoded.decode("utf-8")
        except UnicodeDecodeError:
            return f"the {label} is not valid UTF-8"
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
            return f"the {label} contains a control character"
    return None


def json_problem(body: bytes) -> str | None:
    """Why a JSON body cannot be taken: not strict JSON (invalid UTF-8, lone surrogates, NaN,
    Infinity), nesting deeper than MAX_DEPTH, or NUL in a string. None when it is fine."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        return f"body is not valid JSON: {excerpt(str(exc))}"
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"body nests deeper than {MAX_DEPTH} levels"
        if isinstance(item, str) and "\x00" in item:
            return "body contains a NUL character"
        if isinstance(item, dict):
            stack.extend((k, depth) for k in item)
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return None


def _answer(status: int, message: str) -> tuple[Message, Message]:
    body = orjson.dumps({"detail": message})
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    start: Message = {"type": "http.response.start", "status": status, "headers": headers}
    return start, {"type": "http.response.body", "body": body}


class DoorGuard:
    """Outermost middleware: refuses what no route should see, adds headers to every answer."""

    def __init__(self, app: ASGIApp, tls: bool) -> None:
        self.app = app
        self.tls = tls

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        static = path.startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                if not static:  # a route that chose its own (the policy's no-cache) keeps it
                    headers.setdefault("Cache-Control", "no-store")
                if self.tls:
                    headers.setdefault("Strict-Transport-Security", HSTS)
            await send(message)

        problem = url_problem(scope)
        if problem is not None:
            await self._refuse(400, problem, send_with_headers)
            return
        if path == REPORTS_PATH or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send_with_headers)
            return
        body = await self._read(scope, receive, limit_for(path))
        if body is None:
            await self._refuse(413, f"body larger than {limit_for(path)} bytes", send_with_headers)
            return
        content_type = dict(scope["headers"]).get(b"content-type", b"")
        if body and content_type.split(b";")[0].strip().lower() == b"application/json":
            problem = json_problem(body)
            if problem is not None:
                await self._refuse(400, problem, send_with_headers)
                return
        await self.app(scope, _replay(body, receive), send_with_headers)

    @staticmethod
    async def _read(scope: Scope, receive: Receive, limit: int) -> bytes | None:
        """The whole body, or None as soon as it passes the limit (declared or streamed)."""
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            return None
        chunks, total, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk: bytes = message.get("body", b"")
            total += len(chunk)
            if total > limit:
                return None
            chunks.append(chunk)
            more = message.get("more_body", False)
        return b"".join(chunks)

    @staticmethod
    async def _refuse(status: int, message: str, send: Send) -> None:
        start, body = _answer(status, message)
        await send(start)
        await send(body)


def _replay(body: bytes, then: Receive) -> Receive:
    """Hands the buffered body once, then the connection's own messages (its disconnect)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await then()

    return receive
