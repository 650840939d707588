"""Dashboard routes: server-rendered pages at /, assets at /static (mounted by create_app)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

from server_stub.dashboard import (
    alerts,
    evidence,
    exceptions,
    manage,
    pages,
    session,
    sop_page,
    tokens,
    users,
)

STATIC_DIR = Path(__file__).resolve().parent / "static"
router = APIRouter(include_in_schema=False)
# manage first: GET /devices/new must match before GET /devices/{device_id}.
router.include_router(session.router)
router.include_router(manage.router)
router.include_router(tokens.router)
router.include_router(alerts.router)
router.include_router(evidence.router)
router.include_router(sop_page.router)
router.include_router(exceptions.router)
router.include_router(users.router)
router.include_router(pages.router)
