"""The 笔录 as Word and PDF, rendered to PNG pages in test-results/ for
people to look at (LibreOffice draws the Word file, poppler both PDFs).
Without those tools this skips, except under CI, where it fails."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.paperwork.test_record import SAT, actor, people_state, signature_png
from paperwork.record import to_docx, to_pdf

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-results"


def need(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        message = f"{', '.join(missing)} missing (apt-get install libreoffice-writer-nogui poppler-utils poppler-data)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def pages(pdf: Path, prefix: str) -> list[Path]:
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(ARTIFACTS / prefix)], check=True,
                   capture_output=True, timeout=120)
    return sorted(ARTIFACTS.glob(f"{prefix}-*.png"))


def test_the_record_renders_page_by_page_in_word_and_pdf(tmp_path: Path) -> None:
    need("soffice", "pdftoppm")
    ARTIFACTS.mkdir(exist_ok=True)
    for old in ARTIFACTS.glob("record-*.png"):
        old.unlink()
    state = people_state(*[f"第{k}段发言，原告要求被告支付货款三十万元及利息，被告对此有异议。" for k in range(60)])
    state.apply(actor(state, "p-p"), {"kind": "annotation.add", "segment_id": "S1", "start": 8, "end": 10,
                                      "style": "comment", "body": "金额有误"})
    state.apply(actor(state, "p-j"), {"kind": "transcript.lock"})
    for shade, pid in enumerate(("p-p", "p-d", "p-c")):
        state.apply(actor(state, pid), {"kind": "signature.add", "image": signature_png(120 + 40 * shade)})
    (tmp_path / "笔录.docx").write_bytes(to_docx(state, SAT))
    (tmp_path / "笔录.pdf").write_bytes(to_pdf(state, SAT))
    home = tmp_path / "office"  # LibreOffice's profile, away from the user's
    subprocess.run(["soffice", f"-env:UserInstallation=file://{home}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(tmp_path / "word"), str(tmp_path / "笔录.docx")],
                   check=True, capture_output=True, timeout=180)
    word = pages(tmp_path / "word" / "笔录.pdf", "record-docx")
    pdf = pages(tmp_path / "笔录.pdf", "record-pdf")
    assert len(word) >= 2 and len(pdf) >= 2, (word, pdf)
    for png in word + pdf:
        assert png.stat().st_size > 5_000, png  # a page with text on it, not a blank one
