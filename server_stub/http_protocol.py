"""uvicorn's HTTP protocol with TCP_NODELAY on every connection.

With --workers, uvicorn binds its socket itself and asyncio then never sets TCP_NODELAY
(uvicorn issue #3149): every keep-alive answer waits ~40 ms for Nagle and delayed ACKs.
"""

from __future__ import annotations

import asyncio
import socket

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class NoDelayHttpToolsProtocol(HttpToolsProtocol):
    """httptools (C, llhttp) parses requests several times faster than the pure-Python h11."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)  # type: ignore[arg-type]
