"""Office Open XML parts that carry labels and markings, parsed: pure functions over bytes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from xml.etree import ElementTree

from agent.facts.context import ParseError
from agent.facts.probes.data_labels.judge import Label

_MSIP = re.compile(r"^MSIP_Label_([0-9A-Fa-f-]{36})_(\w+)$")
# The fields of docProps/core.xml a classification is written into (not the author or dates).
CORE_FIELDS = ("title", "subject", "keywords", "category", "contentStatus", "description")
_EXCEL_CODES = re.compile(r'&(?:"[^"]*"|K[0-9A-Fa-f]{6}|K\d\d[+-]\d{3}|\d+|[A-Za-z])')
_ESCAPED_CHAR = re.compile(r"_x[0-9A-Fa-f]{4}_")


class _NoDoctype(ElementTree.TreeBuilder):
    """A tree builder that stops the parse at a DOCTYPE, before any entity is declared."""

    def __init__(self, part: str) -> None:
        super().__init__()
        self.part = part

    def doctype(self, name: str, pubid: str | None, system: str | None) -> None:
        raise ParseError(f"{self.part} declares a DOCTYPE")


def parse_xml(data: bytes, part: str) -> ElementTree.Element:
    """A part's XML; a DOCTYPE is refused (Office never writes one: entities could explode).
    Expat reports it wherever it sits and in whatever encoding (a byte search would miss one
    after a long comment or in UTF-16)."""
    parser = ElementTree.XMLParser(target=_NoDoctype(part))
    try:
        parser.feed(data)
        return parser.close()
    except ElementTree.ParseError as exc:
        raise ParseError(f"{part} is not well-formed XML ({exc})") from exc


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def custom_properties(data: bytes) -> list[tuple[str, str]]:
    """(name, value) of docProps/custom.xml, e.g. from
    <property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2"
      name="MSIP_Label_f42aa342-8706-4288-bd11-ebb85995028c_Name"><vt:lpwstr>Confidential
      </vt:lpwstr></property>."""
    root = parse_xml(data, "docProps/custom.xml")
    return [
        (prop.get("name", ""), "".join(prop.itertext()).strip())
        for prop in root
        if _local(prop.tag) == "property"
    ]


def msip_labels(properties: list[tuple[str, str]], where: str) -> list[Label]:
    """Enabled labels from MSIP_Label_<GUID>_<attribute> pairs (custom properties, PDF Info
    keys or XMP pdfx names): _Enabled "true" with _Name "Confidential" -> that label."""
    by_id: dict[str, dict[str, str]] = {}
    for name, value in properties:
        matched = _MSIP.match(name.lstrip("/"))
        if matched:
            by_id.setdefault(matched[1].lower(), {})[matched[2].lower()] = value.strip()
    return [
        Label(id=guid, name=attributes.get("name") or None, where=where)
        for guid, attributes in sorted(by_id.items())
        if attributes.get("enabled", "").lower() == "true"
    ]


def other_properties(properties: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The properties that are not MSIP label pairs (e.g. a "Classification" property)."""
    return [(n, v) for n, v in properties if not _MSIP.match(n.lstrip("/"))]


def label_info(data: bytes) -> list[Label]:
    """Applied labels of docMetadata/LabelInfo.xml, by id:
    <clbl:labelList xmlns:clbl="http://schemas.microsoft.com/office/2020/mipLabelMetadata">
    <clbl:label id="{F42AA342-8706-4288-BD11-EBB85995028C}" enabled="1" method="Privileged"
    siteId="{72F988BF-86F1-41AF-91AB-2D7CD011DB47}" removed="0" /></clbl:labelList>."""
    root = parse_xml(data, "docMetadata/LabelInfo.xml")
    return [
        Label(id=label.get("id", ""), name=None, where="docMetadata/LabelInfo.xml")
        for label in root.iter()
        if _local(label.tag) == "label"
        and label.get("enabled") in ("1", "true")
        and label.get("removed", "0") not in ("1", "true")
    ]


def core_properties(data: bytes) -> list[tuple[str, str]]:
    """(field, text) of docProps/core.xml's classification-bearing fields, e.g.
    <cp:coreProperties ...><dc:title>Q3 plan</dc:title><cp:keywords>CONFIDENTIAL</cp:keywords>."""
    root = parse_xml(data, "docProps/core.xml")
    return [
        (_local(child.tag), "".join(child.itertext()))
        for child in root
        if _local(child.tag) in CORE_FIELDS
    ]


def paragraphs(data: bytes, part: str) -> list[str]:
    """The text of each paragraph of a Word header/footer (w:p, runs joined: Word splits words
    across runs), and its watermark's text: <w:hdr><w:p><w:r><w:t>CONFI</w:t></w:r>
    <w:r><w:t>DENTIAL</w:t></w:r></w:p></w:hdr> -> ["CONFIDENTIAL"]."""
    root = parse_xml(data, part)
    texts = [
        "".join(t.text or "" for t in p.iter() if _local(t.tag) == "t")
        for p in root.iter()
        if _local(p.tag) == "p"
    ]
    # A watermark is a WordArt shape in the header: <v:textpath string="CONFIDENTIAL"/>.
    return texts + [e.get("string", "") for e in root.iter() if _local(e.tag) == "textpath"]


def _marking_shapes(root: ElementTree.Element) -> Iterator[ElementTree.Element]:
    """Shapes that are markings: named MSIPCM... (the labelling client's) or header/footer
    placeholders (<p:ph type="ftr"/>), not the body text of a slide layout."""
    for shape in root.iter():
        if _local(shape.tag) != "sp":
            continue
        names = [e.get("name", "") for e in shape.iter() if _local(e.tag) == "cNvPr"]
        kinds = [e.get("type", "") for e in shape.iter() if _local(e.tag) == "ph"]
        if any(n.startswith("MSIPCM") for n in names) or any(k in ("hdr", "ftr") for k in kinds):
            yield shape


def slide_markings(data: bytes, part: str) -> list[str]:
    """Text of the marking shapes of a slide master or layout, e.g. <p:sp><p:nvSpPr>
    <p:cNvPr id="7" name="MSIPCMContentMarking"/>...<a:t>Confidential</a:t></p:sp>."""
    root = parse_xml(data, part)
    return [
        "".join(t.text or "" for t in p.iter() if _local(t.tag) == "t")
        for shape in _marking_shapes(root)
        for p in shape.iter()
        if _local(p.tag) == "p"
    ]


def excel_header_footer(element: bytes) -> list[str]:
    """The texts of a worksheet's <headerFooter> element, Excel's codes taken out:
    <headerFooter><oddHeader>&amp;C&amp;"Calibri"&amp;10&amp;K000000Confidential&amp;1#_x000D_
    </oddHeader></headerFooter> -> ["Confidential #"]."""
    root = parse_xml(element, "headerFooter")
    texts = []
    for child in root:
        text = (child.text or "").replace("&&", "\x00")
        text = _ESCAPED_CHAR.sub(" ", _EXCEL_CODES.sub(" ", text)).replace("\x00", "&")
        texts.append(" ".join(text.split()))
    return texts
