"""Report bodies: size-limited reading (api.request_body), gzip with a bomb guard and JSON
objects only (ingest.bodies); each fault a BodyError whose kind the API answers with its status."""

from __future__ import annotations

import asyncio
import gzip
import json
import zlib
from collections.abc import Iterable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.requests import Request

from server_stub.api.outcomes import status_of
from server_stub.api.request_body import read_limited
from server_stub.ingest.bodies import decompress, parse_json_object
from server_stub.ingest.outcomes import BodyError

LIMIT = 1024


def request_with(chunks: Iterable[bytes], headers: dict[str, str] | None = None) -> Request:
    """A Starlette request whose body arrives in the given chunks."""
    pending = list(chunks)
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": c, "more_body": i < len(pending) - 1}
        for i, c in enumerate(pending)
    ] or [{"type": "http.request", "body": b"", "more_body": False}]
    received: list[int] = []

    async def receive() -> dict[str, Any]:
        received.append(1)
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/v1/reports",
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
    }
    request = Request(scope, receive)
    request.state.receives = received
    return request


def read(request: Request, limit: int = LIMIT) -> bytes:
    return asyncio.run(read_limited(request, limit))


def status(exc: pytest.ExceptionInfo[BodyError]) -> int:
    return status_of(exc.value.kind)


# read_limited ------------------------------------------------------------------------------


def test_reads_a_body_in_chunks() -> None:
    assert read(request_with([b"ab", b"cd", b"ef"])) == b"abcdef"


def test_an_empty_body_is_empty() -> None:
    assert read(request_with([])) == b""


def test_a_body_of_exactly_the_limit_is_read() -> None:
    assert read(request_with([b"x" * (LIMIT // 2), b"x" * (LIMIT // 2)])) == b"x" * LIMIT


def test_a_declared_length_over_the_limit_is_refused_before_reading() -> None:
    request = request_with([b"x"], {"Content-Length": str(LIMIT + 1)})
    with pytest.raises(BodyError) as exc:
        read(request)
    assert status(exc) == 413
    assert request.state.receives == []  # not one byte read


def test_a_streamed_body_stops_at_the_limit() -> None:
    """No Content-Length (chunked): refused as soon as the count passes the limit."""
    chunks = [b"x" * 600] * 100
    request = request_with(chunks)
    with pytest.raises(BodyError) as exc:
        read(request)
    assert status(exc) == 413
    assert len(request.state.receives) == 2  # stopped after 1200 bytes, not 60000


def test_a_lying_content_length_does_not_lift_the_limit() -> None:
    request = request_with([b"x" * 800, b"x" * 800], {"Content-Length": "10"})
    with pytest.raises(BodyError) as exc:
        read(request)
    assert status(exc) == 413


@pytest.mark.parametrize("declared", ["abc", "-5", "", "1e9"])
def test_a_content_length_that_is_no_number_is_ignored(declared: str) -> None:
    assert read(request_with([b"abc"], {"Content-Length": declared})) == b"abc"


# decompress --------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", [None, "", "identity"])
def test_no_encoding_passes_the_body_through(encoding: str | None) -> None:
    assert decompress(b"plain", encoding, LIMIT) == b"plain"


@pytest.mark.parametrize("encoding", ["gzip", "GZIP", "Gzip"])
def test_gzip_is_undone(encoding: str) -> None:
    assert decompress(gzip.compress(b'{"a": 1}'), encoding, LIMIT) == b'{"a": 1}'


def test_gzip_of_exactly_the_limit_is_accepted() -> None:
    body = b"y" * LIMIT
    assert decompress(gzip.compress(body), "gzip", LIMIT) == body


def test_gzip_one_byte_over_the_limit_is_413() -> None:
    with pytest.raises(BodyError) as exc:
        decompress(gzip.compress(b"y" * (LIMIT + 1)), "gzip", LIMIT)
    assert status(exc) == 413


def test_a_gzip_bomb_is_stopped_without_inflating_it() -> None:
    bomb = gzip.compress(b"\0" * (64 * 1024 * 1024), 9)  # 64 MiB in about 64 KB
    assert len(bomb) < 100_000
    with pytest.raises(BodyError) as exc:
        decompress(bomb, "gzip", 1024 * 1024)
    assert status(exc) == 413
    assert "once decompressed" in exc.value.message


@pytest.mark.parametrize(
    "body",
    [b"not gzip at all", b"\x1f\x8b\x08\x00garbage", zlib.compress(b"{}")],
    ids=["text", "bad-header", "zlib-not-gzip"],
)
def test_invalid_gzip_is_400(body: bytes) -> None:
    with pytest.raises(BodyError) as exc:
        decompress(body, "gzip", LIMIT)
    assert status(exc) == 400
    assert "gzip" in exc.value.message


@pytest.mark.parametrize("cut", [0, 5, 12, -4, -1])
def test_truncated_gzip_is_400(cut: int) -> None:
    whole = gzip.compress(json.dumps({"a": "b" * 100}).encode())
    with pytest.raises(BodyError) as exc:
        decompress(whole[:cut], "gzip", LIMIT)
    assert status(exc) == 400


@pytest.mark.parametrize("encoding", ["br", "deflate", "x-gzip", "gzip, gzip", "zstd"])
def test_other_encodings_are_415(encoding: str) -> None:
    with pytest.raises(BodyError) as exc:
        decompress(gzip.compress(b"{}"), encoding, LIMIT)
    assert status(exc) == 415
    assert "gzip" in exc.value.message


@given(st.binary(max_size=3 * LIMIT))
def test_decompress_either_returns_the_original_or_refuses(data: bytes) -> None:
    try:
        out = decompress(gzip.compress(data), "gzip", LIMIT)
    except BodyError as exc:
        assert status_of(exc.kind) == 413
        assert len(data) > LIMIT
    else:
        assert out == data
        assert len(data) <= LIMIT


@given(st.binary(max_size=200))
def test_random_bytes_as_gzip_are_a_4xx_never_a_crash(data: bytes) -> None:
    try:
        decompress(data, "gzip", LIMIT)
    except BodyError as exc:
        assert status_of(exc.kind) in (400, 413)


# parse_json_object -------------------------------------------------------------------------


def test_a_json_object_is_parsed() -> None:
    assert parse_json_object(b'{"schema_version": 1}') == {"schema_version": 1}


@pytest.mark.parametrize(
    "body", [b"", b"{", b"schema=1", b'{"a": "\xff"}', b"\xef\xbb\xbf\xff"], ids=repr
)
def test_not_json_is_400(body: bytes) -> None:
    with pytest.raises(BodyError) as exc:
        parse_json_object(body)
    assert status(exc) == 400
    assert "not JSON" in exc.value.message


@pytest.mark.parametrize("body", [b"[]", b"[{}]", b"1", b'"text"', b"null", b"true"])
def test_json_that_is_no_object_is_422(body: bytes) -> None:
    with pytest.raises(BodyError) as exc:
        parse_json_object(body)
    assert status(exc) == 422


@pytest.mark.parametrize("opening", [b"[", b'{"a":'])
def test_deeply_nested_json_is_400_not_a_crash(opening: bytes) -> None:
    """A few KB nest deeper than json's recursion limit: RecursionError must not escape."""
    closing = b"]" if opening == b"[" else b"}"
    body = opening * 5000 + b"1" + closing * 5000
    with pytest.raises(BodyError) as exc:
        parse_json_object(body)
    assert status(exc) == 400
    assert "nests too deeply" in exc.value.message
