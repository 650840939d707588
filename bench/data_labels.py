"""The data-classification scan beside the credential file scan, on one synthetic home.

Builds a home in a temp dir: text files (configs, logs) for the credential scan, and Office
files and PDFs for the data scan, a tenth of them labelled or marked above PUBLIC, some with
large media (a presentation with a video, PDFs with big page content) and decoys with the
marking words in their bodies. Each scan runs in a fresh child process that reports its wall
time, what it read and its peak RSS (VmHWM, Linux); a child that only imports both scanners is
the floor.

Usage: .venv/bin/python bench/data_labels.py [--documents 1200] [--repeat 3]
       .venv/bin/python bench/data_labels.py --home /root   (both scans on a real home)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.unit.classified_files import (  # noqa: E402  (the repo on the path first)
    CONFIDENTIAL_ID,
    PUBLIC_ID,
    msip_custom,
    pdf_classic,
    pdf_compressed,
    sheet,
    slide_part,
    word_part,
    write_ooxml,
    xmp_packet,
)

CHILD = """
import json, sys, time
from agent.facts.context import Context
from agent.facts.probes import credentials, data_labels
from agent.facts.probes.credentials import files, stores
from agent.facts.probes.credentials.settings import Organisation, ScanSettings
from agent.facts.probes.data_labels.settings import DataSettings
from agent.facts.runner import run_probe
def peak_mb():
    # VmHWM, not ru_maxrss: on Linux a child's ru_maxrss starts at its parent's peak.
    line = next(l for l in open("/proc/self/status") if l.startswith("VmHWM"))
    return int(line.split()[1]) / 1024
which, home = sys.argv[1], sys.argv[2]
floor = peak_mb()
started = time.perf_counter()
if which == "credentials":
    stores.finders_for = lambda ctx: files.FINDERS.pick(ctx)  # the file scan alone
    org = Organisation(domains=("example.ac.uk",))
    settings = ScanSettings(organisation=org, fingerprint_key=b"k" * 32, homes=(home,),
                            max_files=1_000_000, time_budget_s=600)
    result = run_probe(Context(), credentials.probe(settings))
    data = result.data or {}
    read = {"files": data.get("files_scanned"), "bytes": data.get("bytes_scanned")}
elif which == "data_labels":
    settings = DataSettings(markings=("CONFIDENTIAL", "HIGHLY CONFIDENTIAL", "RESTRICTED",
                            "INTERNAL"), public_labels=("Public",), homes=(home,),
                            max_files=1_000_000, time_budget_s=600)
    result = run_probe(Context(), data_labels.probe(settings))
    data = result.data or {}
    read = {"files": data.get("files_inspected"), "bytes": data.get("bytes_read"),
            "files_with_findings": len({f["location"] for f in data.get("findings", [])}),
            "not_inspected": len(data.get("not_inspected", []))}
else:
    read = {}
wall = time.perf_counter() - started
rss = peak_mb()
print(json.dumps({"wall": wall, "rss": rss, "import_rss": floor, **read}))
"""


def build_home(home: Path, documents: int, rng: random.Random) -> dict[str, int]:
    """Text files and documents; returns how many documents should be found."""
    lines = [f"2026-12-05T01:{n % 60:02d}:00Z INFO worker-{n} handled request" for n in range(400)]
    for n in range(documents * 2):
        path = home / f"projects/p{n % 40}/logs/app{n}.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines[: rng.randint(20, 400)]) + "\n")
    expected = 0
    big_media = os.urandom(4 * 1024 * 1024)
    for n in range(documents):
        folder = home / ("Documents" if n % 2 else "Downloads") / f"f{n % 25}"
        labelled = n % 10 == 0
        expected += labelled
        body = word_part("document", "our videos are not confidential " * rng.randint(1, 2000))
        kind = n % 4
        if kind == 0:
            parts: dict[str, str | bytes] = {"word/document.xml": body}
            if labelled:
                parts["docProps/custom.xml"] = msip_custom(CONFIDENTIAL_ID, "Confidential")
            else:
                parts["docProps/custom.xml"] = msip_custom(PUBLIC_ID, "Public")
            write_ooxml(folder / f"report{n}.docx", "docx", parts)
        elif kind == 1:
            rows = [f"row {r} internal" for r in range(rng.randint(10, 3000))]
            header = "&CRestricted" if labelled else "&L&D"
            write_ooxml(
                folder / f"budget{n}.xlsx",
                "xlsx",
                {"xl/worksheets/sheet1.xml": sheet(rows, header)},
            )
        elif kind == 2:
            marking = [("MSIPCMContentMarking", None, "Internal")] if labelled else []
            parts = {
                "ppt/slideMasters/slideMaster1.xml": slide_part("sldMaster", marking),
                "ppt/slides/slide1.xml": slide_part("sld", [("Title", "title", "Confidential")]),
            }
            if n % 40 == 2:
                parts["ppt/media/media1.mp4"] = big_media
            write_ooxml(folder / f"deck{n}.pptx", "pptx", parts)
        else:
            info = {"Title": f"Paper {n}"}
            if labelled:
                info |= {
                    f"MSIP_Label_{CONFIDENTIAL_ID}_Enabled": "true",
                    f"MSIP_Label_{CONFIDENTIAL_ID}_Name": "Confidential",
                }
            text = "CONFIDENTIAL body text " * rng.randint(10, 40000)
            folder.mkdir(parents=True, exist_ok=True)
            if n % 8 == 3:
                data = pdf_compressed(info, xmp_packet({"dc:title": f"Paper {n}"}), text)
            else:
                data = pdf_classic(info, None, text)
            (folder / f"paper{n}.pdf").write_bytes(data)
    return {"expected": expected}


def run(which: str, home: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, which, str(home)],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def tree_size(home: Path) -> tuple[int, int]:
    sizes = [p.stat().st_size for p in home.rglob("*") if p.is_file()]
    return len(sizes), sum(sizes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=1200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--home", help="scan this real home instead of a synthetic one")
    args = parser.parse_args()
    temp = None
    if args.home:
        home, expected = Path(args.home), None
    else:
        temp = Path(tempfile.mkdtemp(prefix="data-labels-bench-"))
        home = temp / "alice"
        expected = build_home(home, args.documents, random.Random(12))["expected"]
    try:
        files, size = tree_size(home)
        print(f"home: {files} files, {size / 1e6:.1f} MB; expected labelled files: {expected}")
        rows: dict[str, list[dict[str, Any]]] = {"floor": [], "credentials": [], "data_labels": []}
        for _ in range(args.repeat):
            for which in rows:  # interleaved, so that outside load hits all three alike
                rows[which].append(run(which, home))
        for which, runs in rows.items():
            walls = [r["wall"] for r in runs]
            last = runs[-1]
            print(
                f"{which:12} wall median {statistics.median(walls):.3f} s "
                f"(range {min(walls):.3f}-{max(walls):.3f}); peak RSS {last['rss']:.1f} MB "
                f"(after import {last['import_rss']:.1f}); "
                + ", ".join(f"{k} {v}" for k, v in last.items() if k not in ("wall", "rss"))
            )
        ratio = statistics.median(r["wall"] for r in rows["data_labels"]) / statistics.median(
            r["wall"] for r in rows["credentials"]
        )
        print(f"data_labels / credential file scan wall: {ratio:.2f}")
    finally:
        if temp is not None:
            shutil.rmtree(temp)


if __name__ == "__main__":
    main()
