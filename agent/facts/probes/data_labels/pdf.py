"""Labels and markings of one PDF: its Info dictionary and its XMP metadata, never its pages.

pypdf finds the two through the cross-reference table or streams, object streams and
incremental updates, reading the file in ranges (RangedFile), so a large PDF costs its tail."""

from __future__ import annotations

import logging
import zlib

import pypdf
from pypdf import errors as pdf_errors
from pypdf.generic import DictionaryObject, StreamObject

from agent.facts.context import Context, ParseError
from agent.facts.probes.data_labels import ooxml
from agent.facts.probes.data_labels.judge import Mark, Markings, judge_labels
from agent.facts.probes.data_labels.ranged import open_ranged
from agent.facts.probes.data_labels.settings import DataSettings

# pypdf's warnings about a malformed file would reach the agent's log; the scan says itself,
# in not_inspected, which files it could not read.
logging.getLogger("pypdf").propagate = False

_XMP_NAMESPACES = {
    "http://ns.adobe.com/pdfx/1.3/": "pdfx",
    "http://purl.org/dc/elements/1.1/": "dc",
    "http://ns.adobe.com/pdf/1.3/": "pdf",
}
# XMP fields a classification is written into; every pdfx (user-defined) field counts too.
_XMP_FIELDS = {"dc:title", "dc:subject", "dc:description", "pdf:Keywords"}
# Info keys searched for a marking word; any other key (Office exports its custom properties
# there) counts when its whole value is a marking, as in docProps/custom.xml.
_INFO_TEXTS = {"/Title", "/Subject", "/Keywords"}
# What a malformed PDF makes pypdf raise (it is a parser of untrusted input).
_PDF_FAILURES = (
    pdf_errors.PyPdfError,
    ValueError,
    KeyError,
    TypeError,
    IndexError,
    AttributeError,
    RecursionError,
    zlib.error,
    EOFError,
    OSError,
)


def _qualified(name: str) -> str | None:
    """ "{http://ns.adobe.com/pdfx/1.3/}MSIP_Label_x_Name" -> "pdfx:MSIP_Label_x_Name"."""
    if not name.startswith("{"):
        return None
    namespace, local = name[1:].split("}", 1)
    prefix = _XMP_NAMESPACES.get(namespace)
    return f"{prefix}:{local}" if prefix else None


def xmp_properties(data: bytes) -> list[tuple[str, str]]:
    """(qualified name, text) of an XMP packet's pdfx, dc and pdf properties, whether written
    as elements or as attributes of rdf:Description:
    <rdf:Description rdf:about="" xmlns:pdfx="http://ns.adobe.com/pdfx/1.3/"
      pdfx:MSIP_Label_f42aa342-8706-4288-bd11-ebb85995028c_Enabled="true">
    <pdfx:MSIP_Label_f42aa342-8706-4288-bd11-ebb85995028c_Name>Confidential
    </pdfx:MSIP_Label_f42aa342-8706-4288-bd11-ebb85995028c_Name></rdf:Description>."""
    start = data.find(b"<x:xmpmeta")
    end = data.rfind(b"</x:xmpmeta>")
    packet = data[start : end + len(b"</x:xmpmeta>")] if 0 <= start < end else data
    root = ooxml.parse_xml(packet, "XMP")
    found = []
    for description in root.iter("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}Description"):
        for attribute, value in description.attrib.items():
            name = _qualified(attribute)
            if name:
                found.append((name, value))
        for child in description:
            name = _qualified(child.tag)
            if name:
                found.append((name, " ".join("".join(child.itertext()).split())))
    return found


def _text(value: object) -> str:
    return str(value.get_object()) if hasattr(value, "get_object") else str(value)


def _info_marks(info: DictionaryObject, settings: DataSettings, markings: Markings) -> list[Mark]:
    properties = [(str(key), _text(value)) for key, value in info.items()]
    marks = judge_labels(ooxml.msip_labels(properties, "PDF Info /MSIP_Label"), settings)
    for key, value in ooxml.other_properties(properties):
        search = markings.find if key in _INFO_TEXTS else markings.exact
        marks += search(value, f"PDF Info {key}")
    return marks


def _xmp_marks(data: bytes, settings: DataSettings, markings: Markings) -> list[Mark]:
    properties = xmp_properties(data)
    named = [(n.split(":", 1)[1], v) for n, v in properties if n.startswith("pdfx:")]
    marks = judge_labels(ooxml.msip_labels(named, "XMP pdfx:MSIP_Label"), settings)
    for name, value in properties:
        if name in _XMP_FIELDS:
            marks += markings.find(value, f"XMP {name}")
        elif name.startswith("pdfx:") and not name.startswith("pdfx:MSIP_Label_"):
            marks += markings.exact(value, f"XMP {name}")  # the Info dictionary's custom keys
    return marks


def inspect_pdf(
    ctx: Context, path: str, size: int, settings: DataSettings, markings: Markings
) -> tuple[list[Mark], int]:
    """The labels above PUBLIC and the markings of one PDF's metadata, and the bytes read.
    A malformed or encrypted PDF raises ParseError; an unreadable one FactUnavailable."""
    raw, buffered = open_ranged(ctx, path, size, 16 * settings.max_file_bytes)
    try:
        reader = pypdf.PdfReader(buffered, strict=False)
        if reader.is_encrypted:
            raise ParseError("encrypted PDF: its metadata cannot be read without the password")
        marks: list[Mark] = []
        info = reader.trailer.get("/Info")
        if info is not None and isinstance(info.get_object(), DictionaryObject):
            marks += _info_marks(info.get_object(), settings, markings)
        root = reader.trailer["/Root"].get_object()
        metadata = root.get("/Metadata") if isinstance(root, DictionaryObject) else None
        stream = metadata.get_object() if metadata is not None else None
        if isinstance(stream, StreamObject):
            data = stream.get_data()
            if len(data) > settings.max_file_bytes:
                raise ParseError(f"XMP metadata larger than {settings.max_file_bytes} bytes")
            marks += _xmp_marks(data, settings, markings)
    except _PDF_FAILURES as exc:
        # The type only: pypdf's messages may quote bytes of the file.
        raise ParseError(f"not a readable PDF ({type(exc).__name__})") from exc
    return sorted(set(marks)), raw.bytes_read
