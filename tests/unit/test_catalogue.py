"""`agent facts --markdown` documents every probe field, and the README shows the same table."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from agent.facts.probe_docs import render_markdown
from agent.facts.probes import PROBES

README = Path(__file__).resolve().parents[2] / "README.md"
START, END = "<!-- probe-catalogue:start -->", "<!-- probe-catalogue:end -->"


def test_readme_probe_table_equals_the_catalogue() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split(START, 1)[1].split(END, 1)[0]
    assert section.strip() == render_markdown(PROBES).strip(), (
        "README probe table is stale: paste the output of `agent facts --markdown` between "
        "the probe-catalogue markers"
    )


def test_every_field_is_documented() -> None:
    def walk(cls: type) -> None:
        for f in dataclasses.fields(cls):
            assert f.metadata.get("doc"), f"{cls.__name__}.{f.name} has no description"

    for probe in PROBES:
        walk(probe.data_type)
    markdown = render_markdown(PROBES)
    for probe in PROBES:
        assert f"### `{probe.name}`" in markdown
    assert "`interfaces[].addresses[].address`" in markdown
