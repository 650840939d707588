"""Judging what a file carries against the policy's scheme: labels by name, markings by word."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from agent.facts.probes.data_labels.settings import DataSettings


@dataclass(frozen=True)
class Label:
    """A sensitivity label applied to a file: its id (a GUID), its name when the file says it."""

    id: str
    name: str | None
    where: str


@dataclass(frozen=True, order=True)
class Mark:
    """A label or marking above PUBLIC and where in the file it is (never the text around it)."""

    kind: str  # "label" or "marking"
    label: str
    where: str


def normal_id(guid: str) -> str:
    """A label GUID as the policy's label_ids keys are: "{0AB3...}" -> "0ab3..."."""
    return guid.strip().strip("{}").lower()


def judge_labels(labels: Iterable[Label], settings: DataSettings) -> list[Mark]:
    """Labels whose name is not one of the policy's PUBLIC names; a label the file does not
    name and the policy cannot map is above PUBLIC too (a scheme must name its PUBLIC label)."""
    public = {name.casefold() for name in settings.public_labels}
    marks = []
    for label in labels:
        name = label.name or settings.label_ids.get(normal_id(label.id))
        if name is not None and name.strip().casefold() in public:
            continue
        shown = name.strip() if name else f"label {normal_id(label.id)} (not in [data] label_ids)"
        marks.append(Mark("label", shown, label.where))
    return marks


def _pattern(markings: Iterable[str]) -> re.Pattern[str] | None:
    # Longest first, so that "HIGHLY CONFIDENTIAL" is named rather than its "CONFIDENTIAL".
    words = sorted({m.strip() for m in markings if m.strip()}, key=len, reverse=True)
    if not words:
        return None
    spaced = (r"\s+".join(re.escape(part) for part in word.split()) for word in words)
    return re.compile(r"(?<!\w)(" + "|".join(spaced) + r")(?!\w)", re.IGNORECASE)


class Markings:
    """The policy's visible markings, found as whole words in header, footer or property text."""

    def __init__(self, markings: Iterable[str]) -> None:
        self._canonical = {" ".join(m.split()).casefold(): m.strip() for m in markings}
        self._pattern = _pattern(markings)

    def find(self, text: str, where: str) -> list[Mark]:
        """'Confidential - Finance' -> CONFIDENTIAL; 'unconfidential', 'internally' -> none."""
        if self._pattern is None or not text:
            return []
        found = {" ".join(m.group(1).split()).casefold() for m in self._pattern.finditer(text)}
        return [Mark("marking", self._canonical[word], where) for word in sorted(found)]

    def exact(self, value: str, where: str) -> list[Mark]:
        """A property whose whole value is a marking (a classification tool's "Classification"
        = "Restricted"), not one that mentions it ("Owner" = "Internal Audit")."""
        word = " ".join(value.split()).casefold()
        return [Mark("marking", self._canonical[word], where)] if word in self._canonical else []
