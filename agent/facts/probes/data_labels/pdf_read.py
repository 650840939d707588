"""Reading a PDF's Info dictionary and XMP packet with pypdf, in ranges through the Context.

pypdf finds both through the cross-reference table or streams, object streams and incremental
updates; only the tail, the cross-references and those objects are read, never the pages.
Imported by pdf.py when the scan meets its first PDF (pypdf costs about 7 MB resident)."""

from __future__ import annotations

import logging
import zlib

import pypdf
from pypdf import errors as pdf_errors
from pypdf.generic import DictionaryObject, StreamObject

from agent.facts.context import Context, ParseError
from agent.facts.probes.data_labels.ranged import open_ranged

# pypdf's warnings about a malformed file would reach the agent's log; the scan says itself,
# in not_inspected, which files it could not read.
logging.getLogger("pypdf").propagate = False

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


def _text(value: object) -> str:
    return str(value.get_object()) if hasattr(value, "get_object") else str(value)


def read_metadata(
    ctx: Context, path: str, size: int, part_limit: int
) -> tuple[list[tuple[str, str]], bytes | None, int]:
    """The Info dictionary's (key, text) pairs, the XMP packet if any, and the bytes read.
    A malformed or encrypted PDF raises ParseError; an unreadable one FactUnavailable."""
    raw, buffered = open_ranged(ctx, path, size, 16 * part_limit)
    try:
        reader = pypdf.PdfReader(buffered, strict=False)
        if reader.is_encrypted:
            raise ParseError("encrypted PDF: its metadata cannot be read without the password")
        info = reader.trailer.get("/Info")
        info = info.get_object() if info is not None else None
        properties = []
        if isinstance(info, DictionaryObject):
            properties = [(str(key), _text(value)) for key, value in info.items()]
        root = reader.trailer["/Root"].get_object()
        metadata = root.get("/Metadata") if isinstance(root, DictionaryObject) else None
        stream = metadata.get_object() if metadata is not None else None
        xmp = stream.get_data() if isinstance(stream, StreamObject) else None
    except _PDF_FAILURES as exc:
        # The type only: pypdf's messages may quote bytes of the file.
        raise ParseError(f"not a readable PDF ({type(exc).__name__})") from exc
    if xmp is not None and len(xmp) > part_limit:
        raise ParseError(f"XMP metadata larger than {part_limit} bytes")
    return properties, xmp, raw.bytes_read
