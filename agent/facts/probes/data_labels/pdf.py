"""Labels and markings of one PDF: its Info dictionary and its XMP metadata, never its pages."""

from __future__ import annotations

from agent.facts.context import Context, ParseError
from agent.facts.probes.data_labels import ooxml
from agent.facts.probes.data_labels.judge import Mark, Markings, judge_labels
from agent.facts.probes.data_labels.pdf_read import read_metadata
from agent.facts.probes.data_labels.ranged import MALFORMED
from agent.facts.probes.data_labels.settings import DataSettings

_XMP_NAMESPACES = {
    "http://ns.adobe.com/pdfx/1.3/": "pdfx",
    "http://purl.org/dc/elements/1.1/": "dc",
    "http://ns.adobe.com/pdf/1.3/": "pdf",
}
# XMP fields searched for a marking word; a pdfx (user-defined) field counts when its whole
# value is a marking.
_XMP_FIELDS = {"dc:title", "dc:subject", "dc:description", "pdf:Keywords"}
# Info keys searched for a marking word; any other key (Office exports its custom properties
# there) counts when its whole value is a marking, as in docProps/custom.xml.
_INFO_TEXTS = {"/Title", "/Subject", "/Keywords"}


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


def info_marks(
    properties: list[tuple[str, str]], settings: DataSettings, markings: Markings
) -> list[Mark]:
    """Labels and markings of the Info dictionary's (key, text) pairs."""
    marks = judge_labels(ooxml.msip_labels(properties, "PDF Info /MSIP_Label"), settings)
    for key, value in ooxml.other_properties(properties):
        search = markings.find if key in _INFO_TEXTS else markings.exact
        marks += search(value, f"PDF Info {key}")
    return marks


def xmp_marks(data: bytes, settings: DataSettings, markings: Markings) -> list[Mark]:
    """Labels and markings of an XMP packet."""
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
    try:
        properties, xmp, read = read_metadata(ctx, path, size, settings.max_file_bytes)
        marks = info_marks(properties, settings, markings)
        if xmp is not None:
            marks += xmp_marks(xmp, settings, markings)
    except ParseError as exc:  # the messages name the structure, never the file's bytes
        raise ParseError(f"not a readable PDF: {exc}") from exc
    except MALFORMED as exc:
        raise ParseError(f"not a readable PDF ({type(exc).__name__})") from exc
    return sorted(set(marks)), read
