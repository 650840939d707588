"""What the data-classification scan judges by and how far it may go (the probe's argument)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class DataSettings:
    """The policy's classification scheme and the credential scan's homes and budgets."""

    markings: tuple[str, ...]  # visible markings above PUBLIC, e.g. "CONFIDENTIAL"
    public_labels: tuple[str, ...]  # label names that are PUBLIC; any other label is above it
    label_ids: Mapping[str, str] = field(default_factory=dict)  # lower-case GUID -> label name
    homes: tuple[str, ...] = ()  # empty: every user home the OS lists
    max_file_bytes: int = 2 * 1024 * 1024  # per part of a file (XML part, PDF object) read
    max_files: int = 50_000
    time_budget_s: float = 60.0
