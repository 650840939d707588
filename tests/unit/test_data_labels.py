"""The data_labels probe on real Office files and PDFs in a real home: labels and markings above
PUBLIC are found with where they sit; decoys (a marking word in the body, a PUBLIC label) are
not; broken and unreadable files are said, not dropped; the content never leaves."""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.facts.context import Context, FactUnavailable
from agent.facts.probes import data_labels
from agent.facts.probes.data_labels.judge import Markings
from agent.facts.probes.data_labels.office import inspect_office
from agent.facts.probes.data_labels.ooxml import excel_header_footer
from agent.facts.probes.data_labels.pdf import inspect_pdf, xmp_properties
from agent.facts.probes.data_labels.pdf_syntax import PdfString, Ref, parse_object, text
from agent.facts.probes.data_labels.settings import DataSettings
from agent.facts.recording import RecordingContext
from agent.facts.runner import run_probe
from agent.policy.loader import DEFAULT_MARKINGS
from tests.replay import ReplayContext
from tests.unit.classified_files import (
    CONFIDENTIAL_ID,
    PUBLIC_ID,
    core_properties,
    custom_properties,
    label_info,
    msip_custom,
    pdf_classic,
    pdf_compressed,
    pdf_update,
    sheet,
    slide_part,
    word_part,
    write_ooxml,
    xmp_packet,
)

REPO = Path(__file__).resolve().parents[2]
HIGHLY_ID = "3a5c1f0e-97d4-4d6b-8a57-0c6f5e1d2b44"


def settings_for(home: Path, **changes: Any) -> DataSettings:
    values: dict[str, Any] = {
        "markings": tuple(DEFAULT_MARKINGS),
        "public_labels": ("Public",),
        "label_ids": {HIGHLY_ID: "Highly Confidential", PUBLIC_ID: "Public"},
        "homes": (str(home),),
        **changes,
    }
    return DataSettings(**values)


def scan(home: Path, **changes: Any) -> dict[str, Any]:
    result = run_probe(Context(), data_labels.probe(settings_for(home, **changes)))
    assert result.status == "ok", result.error
    assert result.data is not None
    return result.data


def found(data: dict[str, Any]) -> set[tuple[str, str, str, str]]:
    return {(f["location"], f["kind"], f["label"], f["where"]) for f in data["findings"]}


def canary() -> str:
    return f"CANARY-{secrets.token_hex(6)}"


def docx(path: Path, body: str, **parts: str) -> Path:
    return write_ooxml(path, "docx", {"word/document.xml": word_part("document", body), **parts})


def test_labels_in_custom_properties_and_label_info(tmp_path: Path) -> None:
    home = tmp_path / "alice"
    docx(
        home / "plan.docx",
        canary(),
        **{"docProps/custom.xml": msip_custom(CONFIDENTIAL_ID, "Confidential")},
    )
    docx(
        home / "public.docx", canary(), **{"docProps/custom.xml": msip_custom(PUBLIC_ID, "Public")}
    )
    docx(
        home / "off.docx",
        canary(),
        **{"docProps/custom.xml": msip_custom(CONFIDENTIAL_ID, "Confidential", enabled=False)},
    )
    docx(home / "new.docx", canary(), **{"docMetadata/LabelInfo.xml": label_info(HIGHLY_ID)})
    docx(home / "newpublic.docx", canary(), **{"docMetadata/LabelInfo.xml": label_info(PUBLIC_ID)})
    docx(
        home / "removed.docx",
        canary(),
        **{"docMetadata/LabelInfo.xml": label_info(HIGHLY_ID, removed="1")},
    )
    docx(
        home / "unmapped.docx",
        canary(),
        **{"docMetadata/LabelInfo.xml": label_info(CONFIDENTIAL_ID)},
    )
    both = {
        "docMetadata/LabelInfo.xml": label_info(CONFIDENTIAL_ID),
        "docProps/custom.xml": msip_custom(CONFIDENTIAL_ID, "Confidential"),
    }
    docx(home / "both.docx", canary(), **both)
    data = scan(home)
    assert found(data) == {
        ("~/plan.docx", "label", "Confidential", "docProps/custom.xml MSIP_Label"),
        ("~/new.docx", "label", "Highly Confidential", "docMetadata/LabelInfo.xml"),
        (
            "~/unmapped.docx",
            "label",
            f"label {CONFIDENTIAL_ID} (not in [data] label_ids)",
            "docMetadata/LabelInfo.xml",
        ),
        # LabelInfo first, named by the custom property of the same id: one finding.
        ("~/both.docx", "label", "Confidential", "docMetadata/LabelInfo.xml"),
    }
    assert data["files_inspected"] == 8 and data["complete"] is True
    assert "CANARY" not in json.dumps(data)


def test_markings_in_headers_footers_and_properties_not_the_body(tmp_path: Path) -> None:
    home = tmp_path / "alice"
    secret = canary()
    docx(
        home / "Documents" / "brief.docx",
        f"our videos are not confidential {secret}",
        **{
            "word/header1.xml": word_part("hdr", "CONFI", "DENTIAL"),  # one word over two runs
            "word/footer2.xml": word_part("ftr", f"Page 1 {secret}"),
        },
    )
    docx(home / "Documents" / "body-only.docx", "CONFIDENTIAL: HIGHLY CONFIDENTIAL, RESTRICTED")
    docx(
        home / "props.docx",
        "x",
        **{
            "docProps/core.xml": core_properties(
                keywords="Highly Confidential; finance", creator="Internal Audit"
            )
        },
    )
    docx(
        home / "classification.docx",
        "x",
        **{
            "docProps/custom.xml": custom_properties(
                {"Classification": "Restricted", "Owner": "internal audit team"}
            )
        },
    )
    docx(
        home / "unconfidential.docx",
        "x",
        **{"word/header1.xml": word_part("hdr", "Unconfidential, internally shared")},
    )
    watermark = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:hdr '
        'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
        'xmlns:v="urn:schemas-microsoft-com:vml"><w:p><w:r><w:pict><v:shape '
        'id="PowerPlusWaterMarkObject1" type="#_x0000_t136"><v:textpath '
        'style="font-family:&quot;Calibri&quot;" string="RESTRICTED"/></v:shape></w:pict>'
        "</w:r></w:p></w:hdr>"
    )
    docx(home / "watermarked.docx", "x", **{"word/header3.xml": watermark})
    data = scan(home)
    assert found(data) == {
        ("~/watermarked.docx", "marking", "RESTRICTED", "word/header3.xml"),
        ("~/Documents/brief.docx", "marking", "CONFIDENTIAL", "word/header1.xml"),
        ("~/props.docx", "marking", "HIGHLY CONFIDENTIAL", "docProps/core.xml keywords"),
        ("~/classification.docx", "marking", "RESTRICTED", "docProps/custom.xml Classification"),
    }
    assert secret not in json.dumps(data)


def test_excel_header_footer_and_powerpoint_marking_shapes(tmp_path: Path) -> None:
    home = tmp_path / "alice"
    header = '&C&"Calibri"&10&K000000Confidential&1#_x000D_'
    write_ooxml(
        home / "budget.xlsx",
        "xlsx",
        {
            "xl/workbook.xml": "<workbook/>",
            "xl/worksheets/sheet1.xml": sheet(["1", "2"]),
            "xl/worksheets/sheet2.xml": sheet([f"row {n}" for n in range(3000)], header),
        },
    )
    write_ooxml(
        home / "cells.xlsx",
        "xlsx",
        {"xl/worksheets/sheet1.xml": sheet(["INTERNAL", "RESTRICTED"], "&L&D &T")},
    )
    write_ooxml(
        home / "deck.pptx",
        "pptx",
        {
            "ppt/slideMasters/slideMaster1.xml": slide_part(
                "sldMaster",
                [
                    ("Title 1", "title", "Restricted agenda"),
                    ("MSIPCMContentMarking", None, "Internal"),
                ],
            ),
            "ppt/slideLayouts/slideLayout2.xml": slide_part(
                "sldLayout", [("Footer Placeholder 4", "ftr", "HIGHLY CONFIDENTIAL")]
            ),
            "ppt/slides/slide1.xml": slide_part(
                "sld", [("MSIPCMContentMarking", None, "Restricted")]
            ),
        },
    )
    data = scan(home)
    assert found(data) == {
        ("~/budget.xlsx", "marking", "CONFIDENTIAL", "xl/worksheets/sheet2.xml headerFooter"),
        ("~/deck.pptx", "marking", "INTERNAL", "ppt/slideMasters/slideMaster1.xml"),
        ("~/deck.pptx", "marking", "HIGHLY CONFIDENTIAL", "ppt/slideLayouts/slideLayout2.xml"),
    }


PDF_INFO = {
    f"MSIP_Label_{CONFIDENTIAL_ID}_Enabled": "true",
    f"MSIP_Label_{CONFIDENTIAL_ID}_SiteId": "72f988bf-86f1-41af-91ab-2d7cd011db47",
    f"MSIP_Label_{CONFIDENTIAL_ID}_Name": "Confidential",
    "Title": "Quarterly plan",
    "Producer": "Microsoft® Word for Microsoft 365",
}


def test_pdf_info_dictionary_and_xmp(tmp_path: Path) -> None:
    home = tmp_path / "alice"
    secret = canary()
    xmp = xmp_packet(
        {
            f"pdfx:MSIP_Label_{HIGHLY_ID}_Name": "Highly Confidential",
            "dc:title": "Restricted: plan",
        },
        {f"pdfx:MSIP_Label_{HIGHLY_ID}_Enabled": "true"},
    )
    (home / "Downloads").mkdir(parents=True)
    (home / "Downloads" / "plan.pdf").write_bytes(pdf_classic(PDF_INFO, None, secret))
    (home / "xmp.pdf").write_bytes(pdf_classic({"Title": "Plan"}, xmp, secret))
    (home / "modern.pdf").write_bytes(
        pdf_compressed({**PDF_INFO, "Keywords": "Internal"}, xmp, secret)
    )
    public = {f"MSIP_Label_{PUBLIC_ID}_Enabled": "true", f"MSIP_Label_{PUBLIC_ID}_Name": "Public"}
    (home / "decoy.pdf").write_bytes(pdf_classic(public, None, "CONFIDENTIAL RESTRICTED INTERNAL"))
    subject = {"Subject": "Vertraulich – CONFIDENTIAL", "Department": "Internal Audit"}
    (home / "accents.pdf").write_bytes(pdf_classic(subject, None, secret))
    exported = {"Title": "Plan", "Classification": "Restricted"}  # Office's custom properties
    (home / "exported.pdf").write_bytes(pdf_classic(exported, None, secret))
    data = scan(home)
    assert found(data) == {
        ("~/Downloads/plan.pdf", "label", "Confidential", "PDF Info /MSIP_Label"),
        ("~/xmp.pdf", "label", "Highly Confidential", "XMP pdfx:MSIP_Label"),
        ("~/xmp.pdf", "marking", "RESTRICTED", "XMP dc:title"),
        ("~/modern.pdf", "label", "Confidential", "PDF Info /MSIP_Label"),
        ("~/modern.pdf", "marking", "INTERNAL", "PDF Info /Keywords"),
        ("~/modern.pdf", "label", "Highly Confidential", "XMP pdfx:MSIP_Label"),
        ("~/modern.pdf", "marking", "RESTRICTED", "XMP dc:title"),
        ("~/accents.pdf", "marking", "CONFIDENTIAL", "PDF Info /Subject"),
        ("~/exported.pdf", "marking", "RESTRICTED", "PDF Info /Classification"),
    }
    assert data["complete"] is True and data["files_inspected"] == 6
    assert secret not in json.dumps(data)


def test_pdf_updates_predictors_and_encryption(tmp_path: Path) -> None:
    home = tmp_path / "alice"
    home.mkdir()
    original = pdf_classic(PDF_INFO, None, "x")
    relabelled = {
        f"MSIP_Label_{PUBLIC_ID}_Enabled": "true",
        f"MSIP_Label_{PUBLIC_ID}_Name": "Public",
    }
    (home / "relabelled.pdf").write_bytes(pdf_update(original, relabelled))  # now PUBLIC
    (home / "labelled-later.pdf").write_bytes(pdf_update(pdf_classic(None, None, "x"), PDF_INFO))
    xmp = xmp_packet({"dc:title": "Plan"})
    (home / "predictor.pdf").write_bytes(pdf_compressed(PDF_INFO, xmp, "x", predictor=True))
    encrypted = original.replace(b"/Root 1 0 R", b"/Root 1 0 R /Encrypt 6 0 R")
    (home / "encrypted.pdf").write_bytes(encrypted)
    data = scan(home)
    assert found(data) == {
        ("~/labelled-later.pdf", "label", "Confidential", "PDF Info /MSIP_Label"),
        ("~/predictor.pdf", "label", "Confidential", "PDF Info /MSIP_Label"),
    }
    assert data["not_inspected"] == [
        {
            "location": "~/encrypted.pdf",
            "reason": "not a readable PDF: encrypted PDF: its metadata cannot be read without"
            " the password",
        }
    ]


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (
            b"<< /Title (a \\(nested\\) \\101\\n) /N 7 0 R >>",
            {"Title": b"a (nested) A\n", "N": Ref(7, 0)},
        ),
        (
            b"<</K<FEFF0043 006F>/A[1 2.5 -3 /N#20ame true null]>>",
            {"K": b"\xfe\xff\x00C\x00o", "A": [1, 2.5, -3, "N ame", True, None]},
        ),
        (b"% comment\n(nested (parens) kept)", b"nested (parens) kept"),
    ],
)
def test_pdf_object_syntax(raw: bytes, value: Any) -> None:
    assert parse_object(raw, 0)[0] == value


def test_pdf_text_strings() -> None:
    assert text(PdfString(b"\xfe\xff\x00C\x00\xe9")) == "Cé"
    assert text(PdfString(b"\xef\xbb\xbfCaf\xc3\xa9")) == "Café"
    assert text(PdfString(b"Caf\xe9 3-Heights\x92 \x93le")) == "Café 3-Heights™ ﬁle"


def test_broken_files_are_not_inspected_with_a_reason(tmp_path: Path) -> None:
    home = tmp_path / "alice"
    home.mkdir()
    (home / "notes.docx").write_text("not a zip at all\n")
    good = pdf_classic(PDF_INFO, None, "x")
    (home / "cut.pdf").write_bytes(good[: len(good) // 3])
    (home / "empty.pdf").write_bytes(b"")
    write_ooxml(home / "bad.docx", "docx", {"docProps/custom.xml": "<Properties><property"})
    bomb = "<!DOCTYPE x [<!ENTITY a 'aaaa'>]><Properties>&a;</Properties>"
    write_ooxml(home / "entity.docx", "docx", {"docProps/custom.xml": bomb})
    (home / "~$plan.docx").write_bytes(b"\x05alice")  # Office's lock file: not a document
    (home / "plan.pdf").write_bytes(good)
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)  # an encrypted docx's container
    (home / "protected.docx").write_bytes(ole + b"\x06DataSpaces".ljust(512, b"\x00"))
    data = scan(home)
    assert found(data) == {("~/plan.pdf", "label", "Confidential", "PDF Info /MSIP_Label")}
    reasons = {n["location"]: n["reason"] for n in data["not_inspected"]}
    assert set(reasons) == {
        "~/notes.docx",
        "~/cut.pdf",
        "~/empty.pdf",
        "~/bad.docx",
        "~/entity.docx",
        "~/protected.docx",
    }
    assert reasons["~/notes.docx"].startswith("not a valid Office file")
    assert reasons["~/cut.pdf"].startswith("not a readable PDF")
    assert "not well-formed" in reasons["~/bad.docx"]
    assert "DOCTYPE" in reasons["~/entity.docx"]
    assert reasons["~/protected.docx"] == "an encrypted (password or IRM) Office file"
    assert data["complete"] is False and data["skipped"]["unreadable"] == 6


def test_a_large_presentation_costs_its_directory_not_its_size(tmp_path: Path) -> None:
    home = tmp_path / "alice"
    video = os.urandom(8 * 1024 * 1024)
    path = write_ooxml(
        home / "big.pptx",
        "pptx",
        {
            "docProps/custom.xml": msip_custom(CONFIDENTIAL_ID, "Confidential"),
            "ppt/media/media1.mp4": video,
        },
    )
    data = scan(home)
    assert found(data) == {
        ("~/big.pptx", "label", "Confidential", "docProps/custom.xml MSIP_Label")
    }
    assert path.stat().st_size > 8_000_000
    assert data["bytes_read"] < 200_000  # the zip directory and the small parts, in ranges


def test_skip_rules_links_and_budgets_are_the_credential_scans(tmp_path: Path) -> None:
    home = tmp_path / "alice"
    labelled = {"docProps/custom.xml": msip_custom(CONFIDENTIAL_ID, "Confidential")}
    docx(home / "node_modules" / "pkg" / "a.docx", "x", **labelled)
    docx(home / ".cache" / "b.docx", "x", **labelled)
    docx(home / "Documents" / "c.docx", "x", **labelled)
    os.symlink(home / "Documents", home / "linked")
    os.symlink(home / "Documents" / "c.docx", home / "d.docx")
    data = scan(home)
    assert found(data) == {
        ("~/Documents/c.docx", "label", "Confidential", "docProps/custom.xml MSIP_Label")
    }
    assert data["skipped"] == {"system_folder": 2, "symlink": 2}
    for n in range(3):
        docx(home / f"e{n}.docx", "x", **labelled)
    data = scan(home, max_files=2)
    assert len(data["findings"]) == 2 and data["complete"] is False
    assert data["not_inspected"][-1]["reason"].startswith("stopped by the file budget (2 files)")


def test_the_time_budget_stops_the_scan_and_says_so(tmp_path: Path) -> None:
    labelled = {"docProps/custom.xml": msip_custom(CONFIDENTIAL_ID, "Confidential")}
    docx(tmp_path / "alice" / "a.docx", "x", **labelled)
    docx(tmp_path / "bob" / "b.docx", "x", **labelled)
    homes = (str(tmp_path / "alice"), str(tmp_path / "bob"))
    data = scan(tmp_path, homes=homes, time_budget_s=0.0)
    assert data["findings"] == [] and data["complete"] is False
    assert data["not_inspected"] == [
        {"location": "~alice", "reason": "not scanned: the time budget (0 s)"},
        {"location": "~bob", "reason": "not scanned: the time budget (0 s)"},
    ]


def test_several_homes_are_shown_by_user(tmp_path: Path) -> None:
    labelled = {"docProps/custom.xml": msip_custom(CONFIDENTIAL_ID, "Confidential")}
    docx(tmp_path / "alice" / "a.docx", "x", **labelled)
    docx(tmp_path / "bob" / "b.docx", "x", **labelled)
    data = scan(tmp_path, homes=(str(tmp_path / "alice"), str(tmp_path / "bob")))
    assert [f["location"] for f in data["findings"]] == ["~alice/a.docx", "~bob/b.docx"]
    assert data["homes"] == ["~alice", "~bob"]


def test_no_settings_is_unsupported() -> None:
    assert run_probe(Context(), data_labels.probe(None)).status == "unsupported"


def test_ranged_reads_replay_from_a_recording(tmp_path: Path) -> None:
    """The probe reads through the Context only: a recording of a Windows home replays."""
    path = docx(tmp_path / "x.docx", "x", **{"word/footer1.xml": word_part("ftr", "Internal")})
    home = "C:\\Users\\alice"
    recording = {
        "os": "windows",
        "scandirs": {
            home: [["Documents", "dir", 0], ["NTUSER.DAT", "file", 4096]],
            f"{home}\\Documents": [
                ["x.docx", "file", path.stat().st_size],
                ["locked.pdf", "file", 900],
            ],
        },
        "binary_files": {
            f"{home}\\Documents\\x.docx": base64.b64encode(path.read_bytes()).decode()
        },
        "files": {
            f"{home}\\Documents\\locked.pdf": {
                "fails": "denied",
                "message": f"{home}\\Documents\\locked.pdf is not readable by this user",
            }
        },
    }
    result = run_probe(
        ReplayContext(recording),
        data_labels.probe(
            DataSettings(markings=("INTERNAL",), public_labels=("Public",), homes=(home,))
        ),
    )
    data = result.data
    assert data is not None
    assert found(data) == {("~\\Documents\\x.docx", "marking", "INTERNAL", "word/footer1.xml")}
    assert data["not_inspected"] == [
        {
            "location": "~\\Documents\\locked.pdf",
            "reason": "~\\Documents\\locked.pdf is not readable by this user",
        }
    ]


def test_a_recorded_scan_replays_the_same(tmp_path: Path) -> None:
    """`agent facts --record` on a home with documents: ranges are recorded as read (not the
    file up to them), and the recording replays to the same findings."""
    home = tmp_path / "alice"
    labelled = {"docProps/custom.xml": msip_custom(CONFIDENTIAL_ID, "Confidential")}
    docx(home / "a.docx", "x", **labelled)
    (home / "b.pdf").write_bytes(
        pdf_compressed(PDF_INFO, xmp_packet({"dc:title": "x"}), "y" * 100_000)
    )
    probe = data_labels.probe(settings_for(home))
    recorder = RecordingContext()
    recorded = run_probe(recorder, probe).data
    replayed = run_probe(ReplayContext(json.loads(json.dumps(recorder.recording))), probe).data
    assert recorded is not None and replayed == recorded and len(recorded["findings"]) == 2
    kept = sum(len(base64.b64decode(v)) for v in recorder.recording["binary_ranges"].values())
    assert kept < 60_000  # the 100 kB page content was never read


CHILD = """
import json, sys
from agent.facts.context import Context
from agent.facts.probes import data_labels
from agent.facts.probes.data_labels.judge import Markings
from agent.facts.probes.data_labels.ooxml import excel_header_footer
from agent.facts.probes.data_labels.pdf import xmp_properties
from agent.facts.probes.data_labels.pdf_syntax import PdfString, Ref, parse_object, text
from agent.facts.probes.data_labels.settings import DataSettings
from agent.facts.runner import run_probe
settings = DataSettings(markings=("CONFIDENTIAL",), public_labels=("Public",), homes=(sys.argv[1],))
print(json.dumps({"data": run_probe(Context(), data_labels.probe(settings)).data}))
"""


def test_unreadable_file_and_folder_are_reported(tmp_path: Path) -> None:
    """As a process file permissions apply to (root reads chmod 000 files: the scan runs in a
    child without CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH)."""
    home = tmp_path / "alice"
    labelled = {"docProps/custom.xml": msip_custom(CONFIDENTIAL_ID, "Confidential")}
    docx(home / "readable.docx", "x", **labelled)
    docx(home / "locked.docx", "x", **labelled).chmod(0)
    docx(home / "private" / "x.docx", "x", **labelled)
    (home / "private").chmod(0)
    argv = [sys.executable, "-c", CHILD, str(home)]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root, where chmod 000 does not stop reads, without setpriv")
        argv = [setpriv, "--bounding-set=-dac_override,-dac_read_search", *argv]
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, cwd=REPO, check=True, timeout=60
        )
    finally:
        (home / "private").chmod(0o700)
    data = json.loads(done.stdout)["data"]
    assert [f["location"] for f in data["findings"]] == ["~/readable.docx"]
    assert data["not_inspected"] == [
        {"location": "~/locked.docx", "reason": "~/locked.docx is not readable by this user"},
        {"location": "~/private", "reason": "cannot list the folder: AccessDenied"},
    ]
    assert data["complete"] is False


# -- the pure parts ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("CONFIDENTIAL", ["CONFIDENTIAL"]),
        ("Confidential - Finance", ["CONFIDENTIAL"]),
        ("Highly   confidential", ["HIGHLY CONFIDENTIAL"]),
        ("INTERNAL-ONLY / restricted", ["INTERNAL", "RESTRICTED"]),
        ("Unconfidential", []),
        ("internally shared", []),
        ("", []),
    ],
)
def test_markings_are_whole_words(text: str, expected: list[str]) -> None:
    marks = Markings(DEFAULT_MARKINGS).find(text, "here")
    assert [m.label for m in marks] == expected


def test_exact_markings_need_the_whole_value() -> None:
    markings = Markings(DEFAULT_MARKINGS)
    assert [m.label for m in markings.exact(" restricted ", "p")] == ["RESTRICTED"]
    assert markings.exact("Internal Audit", "p") == []


@pytest.mark.parametrize(
    ("raw", "texts"),
    [
        (
            '<headerFooter><oddHeader>&amp;C&amp;"Calibri"&amp;10&amp;K000000Confidential'
            "&amp;1#_x000D_</oddHeader></headerFooter>",
            ["Confidential #"],
        ),
        ("<headerFooter><oddFooter>&amp;LR&amp;&amp;D &amp;P</oddFooter></headerFooter>", ["R&D"]),
        ("<headerFooter/>", []),
    ],
)
def test_excel_header_codes_are_taken_out(raw: str, texts: list[str]) -> None:
    assert excel_header_footer(raw.encode()) == texts


def test_xmp_properties_as_elements_and_attributes() -> None:
    packet = xmp_packet(
        {"pdfx:Classification": "Restricted", "dc:title": "Plan"}, {"pdfx:Dept": "HR"}
    )
    assert xmp_properties(b"junk before" + packet + b"padding") == [
        ("pdfx:Dept", "HR"),
        ("pdfx:Classification", "Restricted"),
        ("dc:title", "Plan"),
    ]


@pytest.mark.system
def test_a_pdf_printed_by_chromium(tmp_path: Path) -> None:
    """A real producer's PDF (Chromium's Skia backend): its <title> becomes the Info /Title."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("no chromium on this machine")
    home = tmp_path / "alice"
    home.mkdir()
    page = tmp_path / "page.html"
    secret = canary()
    page.write_text(
        "<html><head><title>CONFIDENTIAL briefing</title></head><body><p>our videos are not "
        f"confidential; RESTRICTED in the body only; {secret}</p></body></html>"
    )
    subprocess.run(
        [chromium, "--headless", "--disable-gpu", "--no-sandbox",
         f"--print-to-pdf={home / 'briefing.pdf'}", page.as_uri()],
        capture_output=True, check=True, timeout=120,
    )  # fmt: skip
    assert (home / "briefing.pdf").read_bytes().startswith(b"%PDF-")
    data = scan(home)
    assert found(data) == {("~/briefing.pdf", "marking", "CONFIDENTIAL", "PDF Info /Title")}
    assert secret not in json.dumps(data)


SEEDS = {
    "pdf": [
        pdf_classic(PDF_INFO, xmp_packet({"dc:title": "Internal"}), "x"),
        pdf_compressed(PDF_INFO, xmp_packet({"dc:title": "Plan"}), "x", predictor=True),
        pdf_update(pdf_classic(PDF_INFO, None, "x"), {"Title": "Restricted"}),
    ],
}


def _office_seed(tmp: Path, kind: str, parts: dict[str, str | bytes]) -> bytes:
    return write_ooxml(tmp / f"seed.{kind}", kind, parts).read_bytes()


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(min_value=0, max_value=5),
    edits=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=6),
    cut=st.floats(0.05, 1.0),
)
def test_a_damaged_document_is_not_inspected_never_a_crash(
    tmp_path: Path, seed: int, edits: list[tuple[float, int]], cut: float
) -> None:
    """Bytes changed and the file cut short: the reader answers or says ParseError, so that
    one bad file costs its own inspection, not the scan (only the runner catches Exception)."""
    office = [
        _office_seed(
            tmp_path,
            "docx",
            {
                "docProps/custom.xml": msip_custom(CONFIDENTIAL_ID, "C"),
                "docMetadata/LabelInfo.xml": label_info(HIGHLY_ID),
                "word/header1.xml": word_part("hdr", "Internal"),
            },
        ),
        _office_seed(tmp_path, "xlsx", {"xl/worksheets/sheet1.xml": sheet(["a"], "&CInternal")}),
        _office_seed(
            tmp_path,
            "pptx",
            {
                "ppt/slideMasters/slideMaster1.xml": slide_part(
                    "sldMaster", [("MSIPCM1", None, "Internal")]
                )
            },
        ),
    ]
    documents = [*SEEDS["pdf"], *office]
    data = bytearray(documents[seed])
    for where, value in edits:
        data[min(len(data) - 1, int(where * len(data)))] = value
    data = data[: max(1, int(cut * len(data)))]
    path = tmp_path / ("damaged.pdf" if seed < 3 else "damaged.docx")
    path.write_bytes(bytes(data))
    reader = inspect_pdf if seed < 3 else inspect_office
    settings_ = settings_for(tmp_path)
    try:
        marks, read = reader(Context(), str(path), len(data), settings_, Markings(DEFAULT_MARKINGS))
    except FactUnavailable:
        return
    assert read >= 0 and all(m.kind in ("label", "marking") for m in marks)


@pytest.mark.parametrize(
    "xml",
    [
        # Past the first 4 kB a byte search looked at: a long comment before the DOCTYPE.
        b'<?xml version="1.0"?><!--' + b"x" * 8000 + b"-->"
        b'<!DOCTYPE x [<!ENTITY a "CANARY-ENTITY">]><Properties>&a;</Properties>',
        # UTF-16, which expat reads and a search for b"<!DOCTYPE" does not see.
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY a "CANARY-ENTITY">]>'
        "<Properties>&a;</Properties>".encode("utf-16"),
    ],
)
def test_a_doctype_is_refused_wherever_and_however_it_is_written(xml: bytes) -> None:
    from agent.facts.context import ParseError
    from agent.facts.probes.data_labels.ooxml import parse_xml

    with pytest.raises(ParseError, match="DOCTYPE"):
        parse_xml(xml, "docProps/custom.xml")


def test_what_a_pdf_unpacks_is_bounded_per_file_not_per_stream(tmp_path: Path) -> None:
    """A chain of cross-reference streams (/Prev), each just under the per-stream limit, would
    make the reader inflate (and, with a PNG predictor, walk byte by byte in Python) up to 64
    limits' worth from a few kB of file: a planted file could spend the probe's whole time."""
    import zlib

    from agent.facts.context import ParseError
    from agent.facts.probes.data_labels.pdf_read import read_metadata

    limit = 64 * 1024
    body = bytearray(b"%PDF-1.7\n")
    previous: int | None = None
    for number in range(1, 41):
        packed = zlib.compress(bytes(limit - 1024), 9)
        prev = b"" if previous is None else b" /Prev %d" % previous
        previous = len(body)
        body += b"%d 0 obj << /Type /XRef /W [1 4 2] /Size 1 /Index [0 0]%s" % (number, prev)
        body += b" /Filter /FlateDecode /Length %d >> stream\n" % len(packed)
        body += packed + b"\nendstream endobj\n"
    body += b"startxref\n%d\n%%%%EOF\n" % previous
    path = tmp_path / "chain.pdf"
    path.write_bytes(bytes(body))
    with pytest.raises(ParseError, match="unpack"):
        read_metadata(Context(), str(path), len(body), limit)


def test_what_a_workbook_unpacks_is_bounded_per_file_not_per_sheet(tmp_path: Path) -> None:
    """Each sheet is streamed up to 64 part limits looking for its <headerFooter>; a workbook
    of many such sheets (zip bombs of a few kB each) must not multiply that."""
    from agent.facts.context import ParseError

    limit = 64 * 1024
    cells = b"<worksheet><sheetData>" + b"<row/>" * (40 * limit // 6) + b"</sheetData></worksheet>"
    sheets: dict[str, str | bytes] = {f"xl/worksheets/sheet{n}.xml": cells for n in range(1, 4)}
    path = write_ooxml(tmp_path / "bomb.xlsx", "xlsx", sheets)
    settings = DataSettings(markings=("CONFIDENTIAL",), public_labels=("Public",))
    settings = replace(settings, max_file_bytes=limit)
    with pytest.raises(ParseError, match="unpack"):
        inspect_office(Context(), str(path), path.stat().st_size, settings, Markings(["X"]))


def test_a_cloud_folder_left_unread_makes_the_scan_incomplete() -> None:
    """OneDrive's folder is skipped (its files may be online-only, and reading one downloads
    it), but with Known Folder Move it holds Documents and Desktop: not looked at is not clean,
    so the scan says so and DATA-001 is unknown rather than a pass."""
    home = "C:\\Users\\alice"
    cloud = f"{home}\\OneDrive - Example University"
    recording = {
        "os": "windows",
        "scandirs": {
            home: [["OneDrive - Example University", "dir", 0]],
            cloud: [["Documents", "dir", 0]],
        },
    }
    result = run_probe(
        ReplayContext(recording),
        data_labels.probe(
            DataSettings(markings=("INTERNAL",), public_labels=("Public",), homes=(home,))
        ),
    )
    data = result.data
    assert data is not None
    assert data["skipped"] == {"cloud_folder": 1}
    assert [n["location"] for n in data["not_inspected"]] == ["~\\OneDrive - Example University"]
    assert "online-only" in data["not_inspected"][0]["reason"]
    assert data["complete"] is False


def test_an_empty_cloud_folder_leaves_the_scan_complete() -> None:
    """Windows makes an OneDrive folder before anyone signs in: an empty one hides nothing."""
    home = "C:\\Users\\alice"
    cloud = f"{home}\\OneDrive"
    recording = {"os": "windows", "scandirs": {home: [["OneDrive", "dir", 0]], cloud: []}}
    result = run_probe(
        ReplayContext(recording),
        data_labels.probe(
            DataSettings(markings=("INTERNAL",), public_labels=("Public",), homes=(home,))
        ),
    )
    data = result.data
    assert data is not None
    assert data["skipped"] == {"cloud_folder": 1}
    assert data["not_inspected"] == [] and data["complete"] is True
