"""Builders of real Office files and PDFs for the data_labels tests: OOXML parts written into a
zip as Office lays them out, PDFs written byte by byte with a correct cross-reference table
(or a compressed cross-reference stream and object stream, as PDF 1.5 writers do)."""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path
from xml.sax.saxutils import escape

CONFIDENTIAL_ID = "f42aa342-8706-4288-bd11-ebb85995028c"
PUBLIC_ID = "87867195-f2b8-4ac2-b0b6-6bb73cb33afc"
TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
_MAIN = {
    "docx": (
        "word/document.xml",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    ),
    "xlsx": (
        "xl/workbook.xml",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    ),
    "pptx": (
        "ppt/presentation.xml",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
    ),
}
W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
P = (
    'xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main" '
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"'
)


def write_ooxml(path: Path, kind: str, parts: dict[str, str | bytes]) -> Path:
    """A zip with [Content_Types].xml, the package relationships and `parts`."""
    main, content_type = _MAIN[kind]
    overrides = "".join(
        f'<Override PartName="/{name}" ContentType="{content_type}"/>'
        for name in parts
        if name == main
    )
    package = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns='
            '"http://schemas.openxmlformats.org/package/2006/content-types"><Default '
            'Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships'
            '+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            f"{overrides}</Types>"
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns='
            '"http://schemas.openxmlformats.org/package/2006/relationships"><Relationship '
            'Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            f'relationships/officeDocument" Target="{main}"/></Relationships>'
        ),
        **parts,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in package.items():
            archive.writestr(name, data)
    return path


def msip_custom(label_id: str, name: str, enabled: bool = True, **others: str) -> str:
    """docProps/custom.xml as the labelling client writes it (and other custom properties)."""
    values = {
        f"MSIP_Label_{label_id}_Enabled": "true" if enabled else "false",
        f"MSIP_Label_{label_id}_SetDate": "2026-10-02T09:14:51Z",
        f"MSIP_Label_{label_id}_Method": "Standard",
        f"MSIP_Label_{label_id}_Name": name,
        f"MSIP_Label_{label_id}_SiteId": TENANT_ID,
        f"MSIP_Label_{label_id}_ActionId": "6b2c6a7e-2f0c-4c4f-9a53-2b7c1d0e9f10",
        f"MSIP_Label_{label_id}_ContentBits": "3",
        **others,
    }
    return custom_properties(values)


def custom_properties(values: dict[str, str]) -> str:
    props = "".join(
        f'<property fmtid="{{D5CDD505-2E9C-101B-9397-08002B2CF9AE}}" pid="{pid}" '
        f'name="{escape(name)}"><vt:lpwstr>{escape(value)}</vt:lpwstr></property>'
        for pid, (name, value) in enumerate(values.items(), start=2)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Properties xmlns='
        '"http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
        'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
        f"{props}</Properties>"
    )


def label_info(label_id: str, enabled: str = "1", removed: str = "0") -> str:
    """docMetadata/LabelInfo.xml (MS-OFFCRYPTO 2.6 shape): the label by id only."""
    return (
        '<?xml version="1.0" encoding="utf-8" standalone="yes"?>'
        '<clbl:labelList xmlns:clbl="http://schemas.microsoft.com/office/2020/mipLabelMetadata">'
        f'<clbl:label id="{{{label_id.upper()}}}" enabled="{enabled}" method="Privileged" '
        f'siteId="{{{TENANT_ID.upper()}}}" contentBits="0" removed="{removed}" />'
        "</clbl:labelList>"
    )


def core_properties(**fields: str) -> str:
    prefixes = {"title": "dc", "subject": "dc", "description": "dc", "creator": "dc"}
    body = "".join(
        f"<{prefixes.get(k, 'cp')}:{k}>{escape(v)}</{prefixes.get(k, 'cp')}:{k}>"
        for k, v in fields.items()
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<cp:coreProperties xmlns:cp='
        '"http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:dcterms="http://purl.org/dc/terms/" '
        f'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">{body}</cp:coreProperties>'
    )


def word_part(tag: str, *runs: str) -> str:
    """A Word document body (tag "document"), header ("hdr") or footer ("ftr"), one paragraph
    whose text is split over `runs` as Word splits it."""
    paragraph = "<w:p>" + "".join(f"<w:r><w:t>{escape(r)}</w:t></w:r>" for r in runs) + "</w:p>"
    body = f"<w:body>{paragraph}</w:body>" if tag == "document" else paragraph
    return f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:{tag} {W}>{body}</w:{tag}>'


def sheet(cells: list[str], header: str | None = None) -> str:
    """A worksheet with inline-string cells and, if given, an odd-page header (Excel codes)."""
    rows = "".join(
        f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>{escape(text)}</t></is></c></row>'
        for n, text in enumerate(cells, start=1)
    )
    footer = (
        f"<headerFooter><oddHeader>{escape(header)}</oddHeader>"
        "<oddFooter>&amp;L&amp;P of &amp;N</oddFooter></headerFooter>"
        if header is not None
        else ""
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns='
        '"http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<sheetData>{rows}</sheetData><pageMargins left="0.7" right="0.7" top="0.75" '
        f'bottom="0.75" header="0.3" footer="0.3"/>{footer}</worksheet>'
    )


def slide_part(tag: str, shapes: list[tuple[str, str | None, str]]) -> str:
    """A slide master ("sldMaster"), layout ("sldLayout") or slide ("sld"): shapes given as
    (name, placeholder type or None, text)."""
    body = ""
    for number, (name, placeholder, text) in enumerate(shapes, start=2):
        ph = f'<p:ph type="{placeholder}" idx="{number}"/>' if placeholder else ""
        body += (
            f'<p:sp><p:nvSpPr><p:cNvPr id="{number}" name="{escape(name)}"/><p:cNvSpPr/>'
            f"<p:nvPr>{ph}</p:nvPr></p:nvSpPr><p:spPr/><p:txBody><a:bodyPr/>"
            f"<a:p><a:r><a:t>{escape(text)}</a:t></a:r></a:p></p:txBody></p:sp>"
        )
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<p:{tag} {P}><p:cSld>'
        f"<p:spTree>{body}</p:spTree></p:cSld></p:{tag}>"
    )


# -- PDF ----------------------------------------------------------------------------------------


def pdf_string(text: str) -> bytes:
    """A PDF text string: literal when ASCII, else UTF-16BE with its BOM in hex."""
    if text.isascii():
        escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        return b"(" + escaped.encode() + b")"
    return b"<FEFF" + text.encode("utf-16-be").hex().upper().encode() + b">"


def info_dict(entries: dict[str, str]) -> bytes:
    return (
        b"<< "
        + b" ".join(b"/" + k.encode() + b" " + pdf_string(v) for k, v in entries.items())
        + b" >>"
    )


def xmp_packet(elements: dict[str, str], attributes: dict[str, str] | None = None) -> bytes:
    """An XMP packet as Acrobat and Office write it: pdfx (user-defined) properties as elements
    or attributes of rdf:Description, dc:title as an rdf:Alt."""
    attrs = "".join(f' {k}="{escape(v)}"' for k, v in (attributes or {}).items())
    body = ""
    for name, value in elements.items():
        if name == "dc:title":
            body += (
                f'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{escape(value)}</rdf:li>'
                "</rdf:Alt></dc:title>"
            )
        else:
            body += f"<{name}>{escape(value)}</{name}>"
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="Adobe XMP Core 5.6-c015">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:pdfx="http://ns.adobe.com/pdfx/1.3/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:pdf="http://ns.adobe.com/pdf/1.3/"'
        f"{attrs}>{body}</rdf:Description></rdf:RDF></x:xmpmeta>\n"
        '<?xpacket end="w"?>'
    ).encode()


def _stream(dictionary: bytes, data: bytes) -> bytes:
    return dictionary[:-2] + b"/Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


def _page_objects(page_text: str) -> list[bytes]:
    content = b"BT /F1 12 Tf 72 720 Td " + pdf_string(page_text) + b" Tj ET"
    return [
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 6 0 R >> >> >>",
        _stream(b"<< >>", content),  # uncompressed: the body's words are in the file's bytes
    ]


def pdf_classic(info: dict[str, str] | None, xmp: bytes | None, page_text: str) -> bytes:
    """A PDF 1.4 file: uncompressed objects, an xref table, Info in the trailer."""
    catalog = b"<< /Type /Catalog /Pages 2 0 R" + (b" /Metadata 5 0 R" if xmp else b"") + b" >>"
    objects = [catalog, *_page_objects(page_text)]
    objects.append(_stream(b"<< /Type /Metadata /Subtype /XML >>", xmp) if xmp else b"null")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    objects.append(info_dict(info) if info else b"null")
    out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    trailer = b"/Size %d /Root 1 0 R" % (len(objects) + 1) + (b" /Info 7 0 R" if info else b"")
    return out + b"trailer\n<< " + trailer + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref


def png_up(rows: list[bytes]) -> bytes:
    """Rows under the PNG "Up" predictor (/Predictor 12), as Acrobat and pdfTeX write them."""
    out, previous = b"", bytes(len(rows[0]))
    for row in rows:
        out += b"\x02" + bytes((a - b) & 0xFF for a, b in zip(row, previous, strict=True))
        previous = row
    return out


def pdf_update(original: bytes, info: dict[str, str]) -> bytes:
    """An incremental update (as "Save" in Acrobat appends): a new Info object 8 and an xref
    section whose trailer points back (/Prev) at the original's."""
    prev = int(original.rsplit(b"startxref", 1)[1].split()[0])
    at = len(original)
    out = original + b"8 0 obj\n" + info_dict(info) + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 1\n0000000000 65535 f \n8 1\n%010d 00000 n \n" % at
    trailer = b"/Size 9 /Root 1 0 R /Info 8 0 R /Prev %d" % prev
    return out + b"trailer\n<< " + trailer + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref


def pdf_compressed(
    info: dict[str, str], xmp: bytes, page_text: str, predictor: bool = False
) -> bytes:
    """A PDF 1.5 file as modern writers make it: the Info dictionary (object 7) inside a
    Flate-compressed object stream (8), the XMP stream compressed, a compressed xref stream
    (with the PNG Up predictor if asked)."""
    catalog = b"<< /Type /Catalog /Pages 2 0 R /Metadata 5 0 R >>"
    objects = [catalog, *_page_objects(page_text)]
    objects.append(
        _stream(b"<< /Type /Metadata /Subtype /XML /Filter /FlateDecode >>", zlib.compress(xmp))
    )
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    header = b"7 0 "
    packed = header + info_dict(info)
    objstm = _stream(
        b"<< /Type /ObjStm /N 1 /First %d /Filter /FlateDecode >>" % len(header),
        zlib.compress(packed),
    )
    out = b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n"
    offsets: dict[int, int] = {}
    numbered = {**dict(enumerate(objects, start=1)), 8: objstm}
    for number, body in numbered.items():
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_at = len(out)
    rows = [b"\x00" + (0).to_bytes(4, "big") + (65535).to_bytes(2, "big")]
    for number in range(1, 10):
        if number == 7:
            rows.append(b"\x02" + (8).to_bytes(4, "big") + (0).to_bytes(2, "big"))
        elif number == 9:
            rows.append(b"\x01" + xref_at.to_bytes(4, "big") + (0).to_bytes(2, "big"))
        else:
            rows.append(b"\x01" + offsets[number].to_bytes(4, "big") + (0).to_bytes(2, "big"))
    parms = b" /DecodeParms << /Columns 7 /Predictor 12 >>" if predictor else b""
    xref = _stream(
        b"<< /Type /XRef /Size 10 /W [1 4 2] /Root 1 0 R /Info 7 0 R /Filter /FlateDecode"
        + parms
        + b" >>",
        zlib.compress(png_up(rows) if predictor else b"".join(rows)),
    )
    out += b"9 0 obj\n" + xref + b"\nendobj\n"
    return out + b"startxref\n%d\n%%%%EOF\n" % xref_at
