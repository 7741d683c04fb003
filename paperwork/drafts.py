"""Documents drafted from the record for the judge to finish (Word): what
a clerk writes by hand today, filled from a locked 笔录 and the case.

* the 庭审笔录 cover page (封面): court, case, parties, the hearing's
  sittings, the judge and the clerk, the 笔录's hash;
* the 证据目录 with every item's 质证意见 from the evidence exchange;
* a judgment skeleton (判决书): 当事人, 诉讼请求 and 事实和理由 (what the
  plaintiff's side said in the hearing), 答辩 (the defendant's side), 质证
  (the exchange), and the parts only the judge writes, marked as such.
"""

from __future__ import annotations

import io
from typing import Callable

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt

from case.model import ASPECT_LABELS, CaseRole
from case.state import CaseState
from transcript.roles import ROLE_LABELS, Role
from transcript.sittings import Sittings
from transcript.state import TranscriptState

TO_WRITE = "（待法官撰写）"


def _document(title: str, court: str, case_number: str) -> Document:
    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name, normal.font.size = "SimSun", Pt(12)
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), "SimSun")
    for text, size in ((court, 18), (title, 18), (case_number, 12)):
        p = doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = p.add_run(text)
        run.bold, run.font.size = size > 12, Pt(size)
    return doc


def _bytes(doc: Document) -> bytes:
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _parties(case: CaseState) -> list[str]:
    lines = []
    for p in case.parties.values():
        label = ROLE_LABELS[p.role]
        if p.role == Role.AGENT and p.represents:
            label = f"{case.parties[p.represents].name}的委托诉讼代理人"
        lines.append(f"{label}：{p.name}")
    return lines


def _said_by(hearing: TranscriptState, roles: set[Role]) -> list[str]:
    return [s.text for s in hearing.segments if not s.deleted and s.evidence_id is None and s.speaker.role in roles]


def _opinions(case: CaseState) -> list[tuple[str, list[str]]]:
    out = []
    for e in case.exhibits.values():
        lines = [f"{o.by['name']}：" + "；".join(
            f"{ASPECT_LABELS[k]}{'认可' if v['agree'] else '不认可（' + v.get('reason', '') + '）'}"
            for k, v in o.aspects.items()) for o in e.opinions.values()]
        out.append((f"{e.id} {e.title}（{e.filer['name']}提交，来源：{e.source}；证明目的：{e.purpose}；{e.pages}页）",
                    lines or ["对方未发表质证意见。"]))
    return out


def cover(case: CaseState, hearing: TranscriptState, sittings: Sittings) -> bytes:
    info = case.info
    assert info is not None and hearing.hearing is not None
    doc = _document("庭审笔录", info.court, info.case_number)
    people = list(hearing.hearing.participants.values())
    rows = [("案由", info.cause), ("当事人", "；".join(_parties(case))),
            ("开庭时间", sittings.when()), ("审判人员", "；".join(p.name for p in people if p.role == Role.JUDGE)),
            ("书记员", "；".join(p.name for p in people if p.role == Role.CLERK)),
            ("笔录摘要（SHA-256）", hearing.lock_hash or "笔录尚未锁定")]
    table = doc.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for k, v in rows:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = k, v
    return _bytes(doc)


def catalogue(case: CaseState, hearing: TranscriptState, sittings: Sittings) -> bytes:
    info = case.info
    assert info is not None
    doc = _document("证据目录及质证意见", info.court, info.case_number)
    table = doc.add_table(rows=1, cols=7)
    table.style = "Table Grid"
    for cell, head in zip(table.rows[0].cells, ("序号", "证据名称", "提交人", "来源", "证明目的", "页数", "质证意见")):
        cell.text = head
    for e in case.exhibits.values():
        opinions = "\n".join(f"{o.by['name']}：" + "；".join(
            f"{ASPECT_LABELS[k]}{'认可' if v['agree'] else '不认可（' + v.get('reason', '') + '）'}"
            for k, v in o.aspects.items()) for o in e.opinions.values()) or "未发表"
        for cell, value in zip(table.add_row().cells, (e.id, e.title, e.filer["name"], e.source, e.purpose,
                                                       str(e.pages), opinions)):
            cell.text = value
    return _bytes(doc)


def judgment(case: CaseState, hearing: TranscriptState, sittings: Sittings) -> bytes:
    info = case.info
    assert info is not None
    doc = _document("民事判决书（草稿）", info.court, info.case_number)
    for line in _parties(case):
        doc.add_paragraph(line)
    judge = info.staff.get(CaseRole.JUDGE)
    doc.add_paragraph(f"原告与被告{info.cause}一案，本院立案后，依法适用"
                      f"{'简易' if info.procedure == 'simple' else '普通'}程序，于{sittings.when()}公开开庭进行了审理。"
                      "当事人到庭参加诉讼。本案现已审理终结。")
    plaintiff = _said_by(hearing, {Role.PLAINTIFF})
    defendant = _said_by(hearing, {Role.DEFENDANT})
    sections: list[tuple[str, list[str]]] = [
        ("原告诉讼请求、事实和理由（庭审中原告方陈述，请核对归纳）", plaintiff or ["（庭审中原告未陈述）"]),
        ("被告答辩（庭审中被告方陈述，请核对归纳）", defendant or ["（庭审中被告未陈述）"]),
    ]
    for heading, lines in sections:
        doc.add_paragraph().add_run(heading).bold = True
        for line in lines:
            doc.add_paragraph(line)
    doc.add_paragraph().add_run("当事人围绕诉讼请求提交的证据及质证意见").bold = True
    for item, lines in _opinions(case) or [("（本案无在线提交的证据）", [])]:
        doc.add_paragraph(item)
        for line in lines:
            doc.add_paragraph(line)
    for heading in ("本院查明", "本院认为", "判决如下"):
        doc.add_paragraph().add_run(heading).bold = True
        doc.add_paragraph(TO_WRITE)
    doc.add_paragraph(f"审判员　{judge.name if judge else ''}")
    return _bytes(doc)


DRAFTS: dict[str, tuple[str, Callable[[CaseState, TranscriptState, Sittings], bytes]]] = {
    "cover": ("庭审笔录封面", cover),
    "catalogue": ("证据目录", catalogue),
    "judgment": ("判决书草稿", judgment),
}
