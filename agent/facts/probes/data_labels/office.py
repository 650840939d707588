"""Labels and markings of one Office file (docx, xlsx, pptx and their macro/template kinds)."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable

from agent.facts.context import Context, ParseError
from agent.facts.probes.data_labels import ooxml
from agent.facts.probes.data_labels.judge import Label, Mark, Markings, judge_labels, normal_id
from agent.facts.probes.data_labels.ranged import MALFORMED, open_ranged
from agent.facts.probes.data_labels.settings import DataSettings

# Parts read whole and what they may hold; every other part (the body, media) is never opened.
_WORD_MARKINGS = re.compile(r"^word/(header|footer)\d*\.xml$")
_SLIDE_MARKINGS = re.compile(r"^ppt/(slideMasters/slideMaster|slideLayouts/slideLayout)\d+\.xml$")
_SHEETS = re.compile(r"^xl/worksheets/sheet\d+\.xml$")
_HEADER_FOOTER = re.compile(rb"<(?:\w+:)?headerFooter\b.*?(?:/>|</(?:\w+:)?headerFooter>)", re.S)
_PREFIX = re.compile(rb"<(/?)\w+:")
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the compound file signature (MS-CFB 2.2)
CHUNK = 256 * 1024
CARRY = 64 * 1024  # a <headerFooter> element is at most a few kB (255 characters per text)
# What one file's parts may unpack to in all, in part limits: a sheet's cell data is streamed
# past to its <headerFooter>, and a workbook of many bombed sheets must not multiply that.
UNPACK_PARTS = 64


class Reading:
    """One Office file open as a zip: its parts read within the byte limit per part."""

    def __init__(self, archive: zipfile.ZipFile, part_limit: int) -> None:
        self.archive, self.part_limit = archive, part_limit
        self.names = set(archive.namelist())
        self.unpacked = 0

    def _count(self, size: int) -> None:
        self.unpacked += size
        if self.unpacked > UNPACK_PARTS * self.part_limit:
            raise ParseError(f"its parts unpack to more than {UNPACK_PARTS * self.part_limit}")

    def part(self, name: str) -> bytes:
        info = self.archive.getinfo(name)
        if info.file_size > self.part_limit:
            raise ParseError(f"{name} is larger than {self.part_limit} bytes")
        try:
            data = self.archive.read(info)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise ParseError(f"{name} cannot be unpacked ({exc})") from exc
        except NotImplementedError as exc:  # an unsupported compression method
            raise ParseError(f"{name}: {exc}") from exc
        self._count(len(data))
        return data

    def header_footer(self, name: str) -> bytes | None:
        """A worksheet's <headerFooter> element, found by streaming the sheet (it follows the
        cell data, which can be many megabytes and is never kept)."""
        carry = b""
        try:
            with self.archive.open(name) as stream:
                while chunk := stream.read(CHUNK):
                    self._count(len(chunk))
                    window = carry + chunk
                    # bytes.find first: the regex alone tries every "<" of the cell data.
                    at = window.find(b"headerFooter")
                    found = _HEADER_FOOTER.search(window, max(0, at - 64)) if at >= 0 else None
                    if found:
                        return _PREFIX.sub(rb"<\1", found[0])
                    carry = window[-CARRY:]
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise ParseError(f"{name} cannot be unpacked ({exc})") from exc
        return None


def _labels(reading: Reading) -> list[Label]:
    labels: list[Label] = []
    if "docMetadata/LabelInfo.xml" in reading.names:
        labels += ooxml.label_info(reading.part("docMetadata/LabelInfo.xml"))
    if "docProps/custom.xml" in reading.names:
        properties = ooxml.custom_properties(reading.part("docProps/custom.xml"))
        named = ooxml.msip_labels(properties, "docProps/custom.xml MSIP_Label")
        # LabelInfo is read first by Office; custom properties name the labels it lacks.
        have = {normal_id(label.id) for label in labels}
        labels = [Label(label.id, _name_for(label, named), label.where) for label in labels] + [
            label for label in named if normal_id(label.id) not in have
        ]
    return labels


def _name_for(label: Label, named: list[Label]) -> str | None:
    """A LabelInfo label's name from the custom property of the same id, if there is one."""
    return next((n.name for n in named if normal_id(n.id) == normal_id(label.id)), None)


def _property_marks(reading: Reading, markings: Markings) -> list[Mark]:
    marks: list[Mark] = []
    if "docProps/core.xml" in reading.names:
        for field, text in ooxml.core_properties(reading.part("docProps/core.xml")):
            marks += markings.find(text, f"docProps/core.xml {field}")
    if "docProps/custom.xml" in reading.names:
        properties = ooxml.custom_properties(reading.part("docProps/custom.xml"))
        for name, value in ooxml.other_properties(properties):
            marks += markings.exact(value, f"docProps/custom.xml {name}")
    return marks


def _part_marks(reading: Reading, markings: Markings) -> list[Mark]:
    marks: list[Mark] = []
    texts: Callable[[bytes, str], list[str]]
    for name in sorted(reading.names):
        if _WORD_MARKINGS.match(name):
            texts = ooxml.paragraphs
        elif _SLIDE_MARKINGS.match(name):
            texts = ooxml.slide_markings
        elif _SHEETS.match(name):
            element = reading.header_footer(name)
            for text in ooxml.excel_header_footer(element) if element else []:
                marks += markings.find(text, f"{name} headerFooter")
            continue
        else:
            continue
        for text in texts(reading.part(name), name):
            marks += markings.find(text, name)
    return marks


def inspect_office(
    ctx: Context, path: str, size: int, settings: DataSettings, markings: Markings
) -> tuple[list[Mark], int]:
    """The labels above PUBLIC and the markings of one Office file, and the bytes read.
    A file that is not a readable zip raises ParseError; an unreadable one FactUnavailable."""
    raw, buffered = open_ranged(ctx, path, size, 16 * settings.max_file_bytes)
    try:
        archive = zipfile.ZipFile(buffered)
    except (*MALFORMED, OSError) as exc:
        if ctx.read_bytes(path, len(_OLE), 0) == _OLE:
            # Office keeps a password- or IRM-protected document in an OLE container whose
            # label sits in its DataSpaces streams, which this scan does not read yet.
            raise ParseError("an encrypted (password or IRM) Office file") from exc
        raise ParseError(f"not a valid Office file ({type(exc).__name__})") from exc
    try:
        with archive:
            reading = Reading(archive, settings.max_file_bytes)
            marks = judge_labels(_labels(reading), settings)
            marks += _property_marks(reading, markings) + _part_marks(reading, markings)
    except (*MALFORMED, OSError) as exc:  # the type only: a message may quote the file
        raise ParseError(f"not a valid Office file ({type(exc).__name__})") from exc
    return sorted(set(marks)), raw.bytes_read
