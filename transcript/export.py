"""Exports of a transcript: the 笔录 as plain text, Word (DOCX) and PDF, and
the data as JSON and WebVTT.

The three 笔录 formats render one ``Record``, so they always say the same:
heading, case, participants, every segment with its time, speaker and the
marks on it, and the lock with its hash and the signatures.
"""

from __future__ import annotations

import base64
import io
import json
import re
from dataclasses import dataclass, field
from typing import Callable

from . import subtitles
from .model import Signature
from .roles import ROLE_LABELS, Role
from .state import TranscriptState
from .subtitles import Cue

STYLE_LABELS = {"highlight": "标注", "comment": "批注", "ink": "手写", "issue": "争议"}
#: What XML 1.0 (Word's format) cannot hold and no reader of a 笔录 needs:
#: control characters but tab and line breaks, and the non-characters.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def _printable(text: str) -> str:
    """Text as the 笔录 prints it: the hub refuses such characters in new ops,
    but a log may hold some from before, and one of them must never make
    the export fail for everyone."""
    return _UNPRINTABLE.sub("", text)


def _speaker(label: dict[str, str]) -> str:
    return f"{ROLE_LABELS[Role(label['role'])]} {label['name']}"


@dataclass(slots=True)
class Entry:
    stamp: str
    speaker: str
    text: str
    notes: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Record:
    court: str
    fields: list[tuple[str, str]]
    entries: list[Entry]
    closing: list[str]
    signatures: list[Signature]


def record(state: TranscriptState, seq: int) -> Record:
    assert state.hearing is not None
    h = state.hearing
    fields = [("案号", h.case_number), ("案由", h.title),
              ("参加人员", "；".join(f"{ROLE_LABELS[p.role]} {p.name}" for p in h.participants.values()))]
    notes: dict[str, list[str]] = {}
    for a in state.annotations.values():
        mark = f"〔{STYLE_LABELS[a.style]}·{a.author.name}〕“{a.quote}”"
        if a.style != "ink" and a.body:
            mark += f"：{a.body}"
        if a.orphaned:
            mark += "（原文已修改）"
        notes.setdefault(a.segment_id, []).append(mark)
    entries = [Entry(subtitles.clock(s.start)[:8] if s.start is not None else "", _speaker(s.speaker.label()),
                     s.text, notes.get(s.id, [])) for s in state.segments if not s.deleted]
    if state.locked:
        closing = [f"笔录已锁定，摘要 SHA-256：{state.lock_hash}"]
        for sig in state.signatures.values():
            kinds = "、".join(k for k, v in (("手写签名", sig.image), ("指纹", sig.fingerprint)) if v)
            closing.append(f"签名：{_speaker(sig.participant.label())}（{kinds}）")
    else:
        closing = ["笔录未锁定（庭审进行中）"]
    closing.append(f"记录序号：{seq}")
    for e in entries:
        e.text, e.speaker, e.notes = _printable(e.text), _printable(e.speaker), [_printable(n) for n in e.notes]
    return Record(_printable(h.court), [(k, _printable(v)) for k, v in fields], entries,
                  [_printable(c) for c in closing], list(state.signatures.values()))


def _image(data_url: str | None) -> bytes | None:
    return base64.b64decode(data_url.split(",", 1)[1]) if data_url else None


def to_txt(state: TranscriptState, seq: int) -> str:
    r = record(state, seq)
    lines = [r.court, "庭审笔录", *(f"{k}：{v}" for k, v in r.fields), ""]
    for e in r.entries:
        lines.append(f"{'[' + e.stamp + '] ' if e.stamp else ''}{e.speaker}：{e.text}")
        lines.extend(f"  {n}" for n in e.notes)
    return "\n".join(lines + ["", *r.closing]) + "\n"


def to_docx(state: TranscriptState, seq: int) -> bytes:
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt, RGBColor

    r = record(state, seq)
    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name, normal.font.size = "SimSun", Pt(12)
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), "SimSun")  # 宋体 for the Chinese text
    for text, size in ((r.court, 16), ("庭审笔录", 20)):
        p = doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = p.add_run(text)
        run.bold, run.font.size = True, Pt(size)
    for k, v in r.fields:
        p = doc.add_paragraph()
        p.add_run(f"{k}：").bold = True
        p.add_run(v)
    for e in r.entries:
        p = doc.add_paragraph()
        if e.stamp:
            p.add_run(f"[{e.stamp}] ").font.color.rgb = RGBColor(0x77, 0x77, 0x77)
        p.add_run(f"{e.speaker}：").bold = True
        p.add_run(e.text)
        for n in e.notes:
            note = doc.add_paragraph().add_run(n)
            note.font.size, note.font.color.rgb = Pt(10), RGBColor(0x55, 0x55, 0x55)
    for line in r.closing:
        doc.add_paragraph(line)
    for sig in r.signatures:
        doc.add_paragraph(f"{_speaker(sig.participant.label())}：")
        for img in (_image(sig.image), _image(sig.fingerprint)):
            if img:
                doc.add_picture(io.BytesIO(img), width=Cm(6))
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def to_pdf(state: TranscriptState, seq: int) -> bytes:
    """PDF with the standard Chinese CID font (STSong-Light), which every PDF
    reader supplies, so no font file has to ship with the hub."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import cm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer
    from xml.sax.saxutils import escape

    def text(s: str) -> str:
        # The GB character set of STSong-Light has the middle dot as U+30FB.
        return escape(s).replace("·", "・")

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    body = ParagraphStyle("body", fontName="STSong-Light", fontSize=11, leading=17, wordWrap="CJK")
    note = ParagraphStyle("note", parent=body, fontSize=9, leading=13, leftIndent=18, textColor="#555555")
    head = ParagraphStyle("head", parent=body, fontSize=18, leading=26, alignment=1)
    r = record(state, seq)
    story = [Paragraph(text(r.court), head), Paragraph("庭审笔录", head), Spacer(1, 8)]
    story += [Paragraph(f"<b>{text(k)}：</b>{text(v)}", body) for k, v in r.fields]
    story.append(Spacer(1, 8))
    for e in r.entries:
        stamp = f'<font color="#777777">[{e.stamp}]</font> ' if e.stamp else ""
        story.append(Paragraph(f"{stamp}<b>{text(e.speaker)}：</b>{text(e.text)}", body))
        story += [Paragraph(text(n), note) for n in e.notes]
    story.append(Spacer(1, 8))
    story += [Paragraph(text(line), body) for line in r.closing]
    for sig in r.signatures:
        story.append(Paragraph(text(_speaker(sig.participant.label())) + "：", body))
        for img in (_image(sig.image), _image(sig.fingerprint)):
            if img:
                story.append(Image(io.BytesIO(img), width=6 * cm, height=2 * cm, kind="proportional"))
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4, title=f"{state.hearing.case_number if state.hearing else ''} 庭审笔录",
                      leftMargin=2.5 * cm, rightMargin=2.5 * cm).build(story)
    return out.getvalue()


def to_json(state: TranscriptState, seq: int) -> str:
    doc = {"seq": seq, "transcript_hash": state.transcript_hash(), **state.snapshot()}
    del doc["next"]
    return json.dumps(doc, ensure_ascii=False, indent=2)


def to_vtt(state: TranscriptState, seq: int) -> str:
    """Timed segments as WebVTT cues; segments without times are left out."""
    return subtitles.to_vtt([Cue(s.start, s.end, s.text, _speaker(s.speaker.label()), s.id)
                             for s in state.segments
                             if s.start is not None and s.end is not None and not s.deleted])


EXPORTERS: dict[str, tuple[Callable[[TranscriptState, int], str | bytes], str]] = {
    "txt": (to_txt, "text/plain; charset=utf-8"),
    "json": (to_json, "application/json"),
    "vtt": (to_vtt, "text/vtt; charset=utf-8"),
    "docx": (to_docx, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "pdf": (to_pdf, "application/pdf"),
}
