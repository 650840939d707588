"""The agent's PDF metadata reader against pypdf on real PDFs: the same Info dictionary and the
same XMP packet, file by file, and the bytes each needed.

pypdf is a bench-only peer here (`.venv/bin/pip install pypdf`); the agent does not ship it.
Point it at any folder of real PDFs (e.g. a clone of github.com/py-pdf/sample-files).

Usage: .venv/bin/python bench/pdf_metadata_compare.py FOLDER_OR_PDF...
"""

from __future__ import annotations

import io
import logging
import sys
import time
from pathlib import Path
from typing import Any

import pypdf

from agent.facts.context import Context, FactUnavailable
from agent.facts.probes.data_labels.pdf_read import read_metadata

LIMIT = 2 * 1024 * 1024


def theirs(data: bytes) -> tuple[Any, bytes | None]:
    """pypdf's Info (values as text, names without their slash) and XMP, or why not."""
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            return "encrypted", None
        info = reader.metadata or {}
        pairs = sorted((str(k), str(v).lstrip("/")) for k, v in info.items())
        metadata = reader.trailer["/Root"].get("/Metadata")
        return pairs, metadata.get_object().get_data() if metadata is not None else None
    except Exception as exc:  # noqa: BLE001  (a peer's failure is a result to count)
        return f"fails ({type(exc).__name__})", None


def main() -> None:
    logging.disable(logging.CRITICAL)  # pypdf's warnings about the broken samples
    paths = [p for arg in sys.argv[1:] for p in sorted(Path(arg).rglob("*.pdf")) or [Path(arg)]]
    same = differ = 0
    mine_time = 0.0
    for path in paths:
        data = path.read_bytes()
        started = time.perf_counter()
        try:
            properties, xmp, read = read_metadata(Context(), str(path), len(data), LIMIT)
            mine: Any = sorted((k, v.lstrip("/")) for k, v in properties)
        except FactUnavailable as exc:
            mine, xmp, read = f"not inspected: {exc}", None, 0
        mine_time += time.perf_counter() - started
        their_info, their_xmp = theirs(data)
        agree = mine == their_info and xmp == their_xmp
        same += agree
        differ += not agree
        verdict = "same" if agree else "DIFFERENT"
        print(f"{verdict:9} {path.name[:60]:60} {len(data):>9} B, agent read {read:>7} B")
        if not agree:
            print(f"          agent: {str(mine)[:160]}\n          pypdf: {str(their_info)[:160]}")
    print(f"{same} same, {differ} different, of {len(paths)}; agent {mine_time:.3f} s in all")


if __name__ == "__main__":
    main()
