"""The proof of electronic service (电子送达凭证) of one document, from the
times the case's log records: sent, reached the party's confirmed address
(its case space, once it consented), first opened, 已阅知, and when service
was complete (the earliest completed channel, Arts. 29–32 of 人民法院在线
诉讼规则)."""

from __future__ import annotations

import time

from reportlab.platypus import Paragraph, Spacer

from case.ops import DOC_KIND_LABELS
from case.state import CaseState

from .pdf import STYLES, fields, heading, render, table, text


def when(ms: int | None) -> str:
    if ms is None:
        return "—"
    return time.strftime("%Y年%m月%d日 %H:%M:%S", time.localtime(ms / 1000))


def service_pdf(state: CaseState, document_id: str, head_hash: str, seq: int) -> bytes:
    info = state.info
    assert info is not None
    doc = state.served[document_id]
    party = state.parties[doc.party_id]
    consent = state.consents.get(party.party_id)
    story = heading(info.court, "电子送达凭证", info.case_number)
    story += fields([("案号", info.case_number), ("案由", info.cause), ("受送达人", party.name),
                     ("送达文书", f"{doc.title}（{DOC_KIND_LABELS.get(doc.doc_kind, doc.doc_kind)}）"),
                     ("文书文件", f"{doc.file.name}，{doc.file.size} 字节"),
                     ("送达人", str(doc.by.get("name", ""))),
                     ("送达方式", "电子送达：本案网上案件空间（受送达人确认的电子送达地址）")])
    story += [Spacer(1, 10), table([
        ["事项", "时间"],
        ["受送达人确认电子送达地址", when(consent)],
        ["文书发出", when(doc.sent_ms)],
        ["到达受送达人特定系统", when(doc.delivered_ms)],
        ["受送达人首次打开", when(doc.opened_ms)],
        ["受送达人确认已阅知", when(doc.acknowledged_ms)],
        ["送达完成", when(doc.completed_ms)],
    ], [7.5, 8.5]), Spacer(1, 10)]
    basis = ("文书到达受送达人确认的电子送达地址之日为送达之日；受送达人回复已阅知的，推定完成有效送达；"
             "通过多种方式送达的，以最先完成的有效送达时间为送达生效时间（《人民法院在线诉讼规则》第二十九条至第三十二条）。")
    story += [Paragraph(text(basis), STYLES.small), Spacer(1, 8)]
    if doc.completed_ms is None:
        story.append(Paragraph("截至本凭证生成时，送达尚未完成。", STYLES.body))
    story += [Paragraph(f"文书文件 SHA-256：{doc.file.sha256}", STYLES.digest),
              Paragraph(f"本凭证依据本案全程留痕日志第 {seq} 条记录生成，日志哈希：{head_hash}", STYLES.digest)]
    return render(story, f"{info.case_number} 电子送达凭证", f"{info.court}　{info.case_number}　电子送达凭证")
