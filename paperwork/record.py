"""Exports of a transcript: the 笔录 as plain text, Word (DOCX) and PDF, and
the data as JSON and WebVTT.

The three 笔录 formats render one ``Record``, so they always say the same,
the way a court writes a 庭审笔录: court and heading; date, time and place;
case, judge, clerk and the parties present (not the public gallery); every
line still in the record with its speaker (evidence shown as the court's
reference to it, 出示证据一：借条.jpg), with what participants said about a
passage (comments, disputes; never anyone's private highlights); the lock
with its hash; and a line for every signer, signed or 未签名. Word and PDF
are A4, with the page number and the parties' signatures on every page.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from transcript import subtitles
from transcript.model import Signature
from transcript.roles import PARTY_ROLES, ROLE_LABELS, Role, Site
from transcript.sittings import Sittings
from transcript.state import TranscriptState
from transcript.subtitles import Cue

from .pdf import drawable, numbered

STYLE_LABELS = {"highlight": "标注", "comment": "批注", "ink": "手写", "issue": "争议"}
#: Marks the official 笔录 carries: what a participant says about the
#: record (a comment, a disputed passage). Highlights and ink are a
#: reader's own aids and stay on the screens.
RECORDED_STYLES = ("comment", "issue")
SITE_LABELS = {Site.REMOTE: "远程", Site.DETENTION: "看守所", Site.PROCURATORATE: "检察院"}
#: Who signs every page (当事人逐页签名); the judge and the clerk sign at the end.
PAGE_SIGNERS = PARTY_ROLES
#: What XML 1.0 (Word's format) cannot hold and no reader of a 笔录 needs:
#: control characters but tab and line breaks, and the non-characters.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_DIGITS = "零一二三四五六七八九"


def _printable(text: str) -> str:
    """Text as the 笔录 prints it: the hub refuses such characters in new ops,
    but a log may hold some from before, and one of them must never make
    the export fail for everyone."""
    return _UNPRINTABLE.sub("", text)


def chinese_number(n: int) -> str:
    """12 → 十二, as a court numbers its evidence (证据十二)."""
    if n < 10:
        return _DIGITS[n]
    if n < 20:
        return "十" + (_DIGITS[n % 10] if n % 10 else "")
    if n < 100:
        return _DIGITS[n // 10] + "十" + (_DIGITS[n % 10] if n % 10 else "")
    if n < 1000:
        rest = n % 100
        tail = "" if rest == 0 else "零" + _DIGITS[rest] if rest < 10 else \
            "一" + chinese_number(rest) if rest < 20 else chinese_number(rest)
        return _DIGITS[n // 100] + "百" + tail
    return str(n)


def evidence_label(evidence_id: str) -> str:
    """E3 → 证据三."""
    number = evidence_id.removeprefix("E")
    return f"证据{chinese_number(int(number))}" if number.isdigit() and int(number) > 0 else "证据"


def _speaker(label: dict[str, str]) -> str:
    return f"{ROLE_LABELS[Role(label['role'])]} {label['name']}"


def grouped(digest: str) -> str:
    """A hash in groups of 16, so that it never breaks mid-group."""
    return " ".join(digest[i:i + 16] for i in range(0, len(digest), 16))


@dataclass(slots=True)
class Entry:
    speaker: str  # empty for what is not speech (evidence shown)
    text: str
    notes: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Signer:
    """A participant who signs the 笔录, with their signature if given."""
    label: str
    signature: Signature | None
    every_page: bool


@dataclass(slots=True)
class Record:
    court: str
    case_number: str
    fields: list[tuple[str, str]]
    entries: list[Entry]
    closing: list[str]
    digest: str | None
    signers: list[Signer]

    @property
    def page_signatures(self) -> list[Signer]:
        return [s for s in self.signers if s.every_page and s.signature is not None]


def record(state: TranscriptState, sittings: Sittings) -> Record:
    """The 笔录 as a court writes it, from the state and when it sat."""
    assert state.hearing is not None
    h = state.hearing
    people = list(h.participants.values())
    online = [p for p in people if p.site != Site.COURT and p.role != Role.OBSERVER]
    place = "本院法庭"
    if online:
        place += "；在线参加：" + "；".join(f"{_speaker(p.label())}（{SITE_LABELS[p.site]}）" for p in online)
    parties = [p for p in people if p.role in PARTY_ROLES]
    fields = [("时间", sittings.when()), ("地点", place), ("案号", h.case_number), ("案由", h.title),
              ("审判人员", "；".join(p.name for p in people if p.role == Role.JUDGE) or "—"),
              ("书记员", "；".join(p.name for p in people if p.role == Role.CLERK) or "—"),
              ("到庭人员", "；".join(_speaker(p.label()) for p in parties) or "—")]
    notes: dict[str, list[str]] = {}
    for a in state.annotations.values():
        if a.style not in RECORDED_STYLES:
            continue
        mark = f"〔{STYLE_LABELS[a.style]}·{a.author.name}〕“{a.quote}”"
        if a.body:
            mark += f"：{a.body}"
        if a.orphaned:
            mark += "（原文已修改）"
        notes.setdefault(a.segment_id, []).append(mark)
    entries = []
    for s in state.segments:
        if s.deleted:
            continue
        if s.evidence_id is not None:
            item = state.evidence.get(s.evidence_id)
            entries.append(Entry("", f"（出示{evidence_label(s.evidence_id)}：{item.name if item else ''}）",
                                 notes.get(s.id, [])))
        else:
            entries.append(Entry(_speaker(s.speaker.label()), s.text, notes.get(s.id, [])))
    if state.locked:
        closing = ["以上笔录经审判员锁定，内容不再改动；摘要（SHA-256）："]
    else:
        closing = ["笔录尚未锁定（庭审进行中），内容可能变动。"]
    signers = [Signer(_speaker(p.label()), state.signatures.get(p.participant_id), p.role in PAGE_SIGNERS)
               for p in people if p.role != Role.OBSERVER] if state.locked else []
    for e in entries:
        e.text, e.speaker, e.notes = _printable(e.text), _printable(e.speaker), [_printable(n) for n in e.notes]
    for signer in signers:
        signer.label = _printable(signer.label)
    return Record(_printable(h.court), _printable(h.case_number), [(k, _printable(v)) for k, v in fields],
                  entries, closing, grouped(state.lock_hash) if state.locked and state.lock_hash else None, signers)


def _image(data_url: str | None) -> bytes | None:
    """A signature's image if it can be drawn (see ``pdf.drawable``)."""
    return drawable(data_url)


def _signature_kinds(sig: Signature) -> str:
    return "、".join(k for k, v in (("手写签名", sig.image), ("指纹", sig.fingerprint)) if v)


def _line(e: Entry) -> str:
    return f"{e.speaker}：{e.text}" if e.speaker else e.text


def to_txt(state: TranscriptState, sittings: Sittings) -> str:
    r = record(state, sittings)
    lines = [r.court, "庭审笔录", *(f"{k}：{v}" for k, v in r.fields), ""]
    for e in r.entries:
        lines.append(_line(e))
        lines.extend(f"  {n}" for n in e.notes)
    lines += ["", *r.closing]
    if r.digest:
        lines.append(r.digest)
    for s in r.signers:
        lines.append(f"{s.label}：{'（' + _signature_kinds(s.signature) + '）' if s.signature else '（未签名）'}")
    return "\n".join(lines) + "\n"


def to_docx(state: TranscriptState, sittings: Sittings) -> bytes:
    """Word, on A4, 宋体; the court and case number in the header, the page
    number and the parties' signatures in every page's footer."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt, RGBColor

    def field(paragraph: Any, code: str) -> None:
        simple = OxmlElement("w:fldSimple")
        simple.set(qn("w:instr"), code)
        run = OxmlElement("w:r")
        text = OxmlElement("w:t")
        text.text = "1"
        run.append(text)
        simple.append(run)
        paragraph._p.append(simple)

    r = record(state, sittings)
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.6)
    section.top_margin, section.bottom_margin = Cm(2.5), Cm(2.5)
    normal = doc.styles["Normal"]
    normal.font.name, normal.font.size = "SimSun", Pt(12)
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), "SimSun")  # 宋体 for the Chinese text
    header = section.header.paragraphs[0]
    header.text = f"{r.court}　{r.case_number}　庭审笔录"
    header.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if r.page_signatures:
        footer.add_run("当事人签名：")
        for s in r.page_signatures:
            footer.add_run(f"{s.label} ")
            for img in (_image(s.signature.image), _image(s.signature.fingerprint)):  # type: ignore[union-attr]
                if img:
                    footer.add_run().add_picture(io.BytesIO(img), height=Cm(0.8))
            footer.add_run("　")
        footer = section.footer.add_paragraph()
        footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer.add_run("第 ")
    field(footer, "PAGE")
    footer.add_run(" 页 共 ")
    field(footer, "NUMPAGES")
    footer.add_run(" 页")
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
        if e.speaker:
            p.add_run(f"{e.speaker}：").bold = True
        p.add_run(e.text)
        for n in e.notes:
            note = doc.add_paragraph().add_run(n)
            note.font.size, note.font.color.rgb = Pt(10), RGBColor(0x55, 0x55, 0x55)
    for line in r.closing:
        doc.add_paragraph(line)
    if r.digest:
        run = doc.add_paragraph().add_run(r.digest)
        run.font.name, run.font.size = "Courier New", Pt(9)
    for s in r.signers:
        p = doc.add_paragraph()
        p.paragraph_format.keep_together = True  # the name and the image on one page
        p.add_run(f"{s.label}：")
        if s.signature is None:
            p.add_run("（未签名）")
            continue
        for img in (_image(s.signature.image), _image(s.signature.fingerprint)):
            if img:
                p.add_run().add_picture(io.BytesIO(img), height=Cm(1.6))
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def to_pdf(state: TranscriptState, sittings: Sittings) -> bytes:
    """PDF on A4 with the standard Chinese CID font (STSong-Light), which
    every PDF reader supplies, so no font file has to ship with the hub;
    every page has the court and case number above, and below its number
    ("第 2 页 共 5 页") and the parties' signatures."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import cm
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen.canvas import Canvas
    from reportlab.platypus import Image, KeepTogether, Paragraph, SimpleDocTemplate, Spacer
    from xml.sax.saxutils import escape

    def text(s: str) -> str:
        # The GB character set of STSong-Light has the middle dot as U+30FB.
        return escape(s).replace("·", "・")

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    body = ParagraphStyle("body", fontName="STSong-Light", fontSize=11, leading=17, wordWrap="CJK")
    note = ParagraphStyle("note", parent=body, fontSize=9, leading=13, leftIndent=18, textColor="#555555")
    head = ParagraphStyle("head", parent=body, fontSize=18, leading=26, alignment=1)
    digest = ParagraphStyle("digest", fontName="Courier", fontSize=8, leading=12)
    r = record(state, sittings)
    story: list[Any] = [Paragraph(text(r.court), head), Paragraph("庭审笔录", head), Spacer(1, 8)]
    story += [Paragraph(f"<b>{text(k)}：</b>{text(v)}", body) for k, v in r.fields]
    story.append(Spacer(1, 8))
    for e in r.entries:
        speaker = f"<b>{text(e.speaker)}：</b>" if e.speaker else ""
        story.append(Paragraph(f"{speaker}{text(e.text)}", body))
        story += [Paragraph(text(n), note) for n in e.notes]
    story.append(Spacer(1, 8))
    story += [Paragraph(text(line), body) for line in r.closing]
    if r.digest:
        story.append(Paragraph(r.digest, digest))
    for s in r.signers:
        block: list[Any] = [Paragraph(text(s.label) + "：" + ("" if s.signature else "（未签名）"), body)]
        if s.signature is not None:
            for img in (_image(s.signature.image), _image(s.signature.fingerprint)):
                if img:
                    block.append(Image(io.BytesIO(img), width=6 * cm, height=2 * cm, kind="proportional", hAlign="LEFT"))
        story.append(KeepTogether(block))  # never the name on one page and the image on the next
    page_signatures = [(s.label, [ImageReader(io.BytesIO(i)) for i in
                                  (_image(s.signature.image), _image(s.signature.fingerprint)) if i])
                       for s in r.page_signatures if s.signature is not None]
    width, height = A4

    def decorate(canvas: Canvas, number: int, total: int) -> None:
        canvas.setFont("STSong-Light", 9)
        canvas.setFillColor("#555555")
        canvas.drawCentredString(width / 2, height - 1.4 * cm, f"{r.court}　{r.case_number}　庭审笔录")
        canvas.drawCentredString(width / 2, 1.0 * cm, f"第 {number} 页 共 {total} 页")
        if page_signatures:
            x = 2.5 * cm
            canvas.drawString(x, 1.9 * cm, "当事人签名：")
            x += 2.2 * cm
            for label, images in page_signatures:
                canvas.drawString(x, 1.9 * cm, label)
                x += pdfmetrics.stringWidth(label, "STSong-Light", 9) + 3
                for image in images:
                    canvas.drawImage(image, x, 1.55 * cm, width=2.4 * cm, height=0.8 * cm,
                                     preserveAspectRatio=True, anchor="sw", mask="auto")
                    x += 2.5 * cm

    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4, title=f"{r.case_number} 庭审笔录",
                      leftMargin=2.5 * cm, rightMargin=2.5 * cm, topMargin=2.2 * cm,
                      bottomMargin=3.0 * cm).build(story, canvasmaker=numbered(decorate))
    return out.getvalue()


def to_json(state: TranscriptState, sittings: Sittings) -> str:
    doc = {"seq": sittings.seq, "transcript_hash": state.transcript_hash(), **state.snapshot()}
    del doc["next"]
    return json.dumps(doc, ensure_ascii=False, indent=2)


def to_vtt(state: TranscriptState, sittings: Sittings) -> str:
    """Timed segments as WebVTT cues; segments without times are left out."""
    return subtitles.to_vtt([Cue(s.start, s.end, s.text, _speaker(s.speaker.label()), s.id)
                             for s in state.segments
                             if s.start is not None and s.end is not None and not s.deleted])


EXPORTERS: dict[str, tuple[Callable[[TranscriptState, Sittings], str | bytes], str]] = {
    "txt": (to_txt, "text/plain; charset=utf-8"),
    "json": (to_json, "application/json"),
    "vtt": (to_vtt, "text/vtt; charset=utf-8"),
    "docx": (to_docx, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "pdf": (to_pdf, "application/pdf"),
}
