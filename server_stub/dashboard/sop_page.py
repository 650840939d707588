"""The SOP as a printable dashboard page (/sop) and as Markdown (/sop.md): any signed-in user."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from agent.policy import load_catalogue
from server_stub.api.deps import DB, State
from server_stub.dashboard.web import HEADERS, MaybeViewer, render, to_login
from server_stub.sop.document import Section, Sop, Table, build_sop
from server_stub.sop.markdown import render_markdown
from server_stub.sop.register import register_entries
from server_stub.state import CollectorState
from server_stub.storage.clock import utcnow

router = APIRouter(include_in_schema=False)


def _sop(session: DB, state: CollectorState) -> Sop:
    policy = state.served_policy.policy
    destinations = state.settings.destinations()
    register = register_entries(session)
    return build_sop(policy, load_catalogue(), register, destinations, utcnow().date())


def _block(block: str | list[str] | tuple[str, ...] | Table) -> dict[str, Any]:
    """A block as the template shows it: its kind and its content."""
    if isinstance(block, Table):
        return {"kind": "table", "headers": block.headers, "rows": block.rows}
    if isinstance(block, tuple):
        return {"kind": "steps", "entries": block}
    if isinstance(block, list):
        return {"kind": "bullets", "entries": block}
    return {"kind": "text", "text": block}


def _section(section: Section, level: int) -> dict[str, Any]:
    return {
        "title": section.title,
        "level": level,
        "blocks": [_block(b) for b in section.blocks],
        "subsections": [_section(s, level + 1) for s in section.subsections],
    }


@router.get("/sop")
def sop_page(request: Request, session: DB, state: State, who: MaybeViewer) -> Response:
    """The organisation's SOP for TikTok devices, generated now from the served policy."""
    if who is None:
        return to_login(request)
    sop = _sop(session, state)
    sections = [_section(s, 2) for s in sop.sections]
    return render(request, "sop.html", who, sop=sop, sections=sections)


@router.get("/sop.md")
def sop_markdown(request: Request, session: DB, state: State, who: MaybeViewer) -> Response:
    """The same SOP as Markdown, to edit and publish (what `collector sop` writes)."""
    if who is None:
        return to_login(request)
    text = render_markdown(_sop(session, state))
    return Response(
        text,
        media_type="text/markdown; charset=utf-8",
        headers={**HEADERS, "Content-Disposition": 'attachment; filename="sop.md"'},
    )
