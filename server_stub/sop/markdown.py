"""The SOP as Markdown (what `collector sop` writes)."""

from __future__ import annotations

from server_stub.sop.document import Section, Sop, Table


def _cell(text: str) -> str:
    """A table cell: one line, its pipes escaped (a policy value must not split the row)."""
    return " ".join(text.split()).replace("|", "\\|")


def _block(block: str | list[str] | tuple[str, ...] | Table) -> str:
    if isinstance(block, Table):
        lines = ["| " + " | ".join(block.headers) + " |", "|" + " --- |" * len(block.headers)]
        lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in block.rows]
        return "\n".join(lines)
    if isinstance(block, tuple):
        return "\n".join(f"{n}. {item}" for n, item in enumerate(block, 1))
    if isinstance(block, list):
        return "\n".join(f"- {item}" for item in block)
    return block


def _section(section: Section, level: int) -> list[str]:
    parts = [f"{'#' * level} {section.title}", *(_block(b) for b in section.blocks)]
    for sub in section.subsections:
        parts += _section(sub, level + 1)
    return parts


def render_markdown(sop: Sop) -> str:
    head = [
        f"# {sop.title}",
        f"{sop.organisation}. Issued {sop.issued.isoformat()} from the policy "
        f'"{sop.source}" by `collector sop`.',
    ]
    body = [part for section in sop.sections for part in _section(section, 2)]
    return "\n\n".join(head + body) + "\n"
