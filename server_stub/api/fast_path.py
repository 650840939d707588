"""ASGI middleware that hands POST /api/v1/reports straight to its handler.

Agents call this one route at volume. Going through FastAPI's exception middleware, exit
stack, router and request wrapper costs the collector about a sixth of its CPU per report. The
handler is the same function the FastAPI router registers (which is what the OpenAPI
description shows), and its HTTP errors get FastAPI's own handler, so the answers are the same.
`collector serve --no-report-fast-path` leaves it out.

Measured on 2026-12-04 (docs/benchmarks.md, "Collector ingest"), PostgreSQL, --workers 2, on
a 2-core machine other engineers were using: `.venv/bin/python bench/ingest.py --fast-path-ab
15 --seconds 8 --warmup 2` gave 728 reports/s with it against 634 without, +14.8% (paired
difference +94 reports/s, spread 92; 14 of 15 rounds faster), and 0.94 against 1.13 ms of
collector CPU per report.
"""

from __future__ import annotations

from fastapi import HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from starlette.types import ASGIApp, Receive, Scope, Send

from server_stub.api.agents import REPORTS_PATH, post_report


class ReportsFastPath:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The collector is served at the root (no root_path), so the path is the route's path.
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != REPORTS_PATH:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            response = await post_report(request)
        except HTTPException as exc:
            response = await http_exception_handler(request, exc)
        await response(scope, receive, send)
