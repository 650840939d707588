"""The data_labels probe's data: files classified above PUBLIC and where the label sits."""

from __future__ import annotations

from dataclasses import dataclass

from agent.report import fact


@dataclass(frozen=True, kw_only=True)
class DataFinding:
    """One file carrying a classification above PUBLIC: which, and where in the file."""

    location: str = fact("Path of the file (home as ~ or ~user).")
    kind: str = fact("label (a sensitivity label) or marking (a visible marking).")
    label: str = fact("The label's name (or its id when the policy cannot name it) or marking.")
    where: str = fact("Where in the file: a part or property, e.g. word/header1.xml, XMP.")


@dataclass(frozen=True, kw_only=True)
class FileNotInspected:
    """A file or folder the scan could not look inside."""

    location: str = fact("Path (home as ~ or ~user).")
    reason: str = fact("Why: unreadable, not a valid Office or PDF file, budget spent...")


@dataclass(frozen=True, kw_only=True)
class DataLabelsData:
    """Office files and PDFs under the user homes classified above PUBLIC."""

    findings: list[DataFinding] = fact("Labels and markings above PUBLIC, per file.")
    not_inspected: list[FileNotInspected] = fact("Files and folders that could not be read.")
    homes: list[str] = fact("User homes scanned.")
    files_inspected: int = fact("Office files and PDFs looked into.")
    bytes_read: int = fact("Bytes read from them (only the parts that can carry a label).")
    skipped: dict[str, int] = fact("Folders and files left out, by reason.")
    complete: bool = fact("Every Office file and PDF was inspected within the budgets.")
