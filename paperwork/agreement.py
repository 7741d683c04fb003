"""The mediation agreement (调解协议) as signed: its text, the hash of the
content every signature is bound to, and each party's signature and
fingerprint."""

from __future__ import annotations

import io
import time

from reportlab.lib.units import cm
from reportlab.platypus import Image, KeepTogether, Paragraph, Spacer

from case.state import CaseState

from .pdf import STYLES, drawable, fields, heading, render, text


def agreement_pdf(state: CaseState) -> bytes:
    info, mediation = state.info, state.mediation
    assert info is not None and mediation is not None
    story = heading(info.court, "调解协议", info.case_number)
    story += fields([("案号", info.case_number), ("案由", info.cause),
                     ("当事人", "、".join(p.name for p in state.signers())),
                     ("调解员", str(mediation.by.get("name", "")))])
    story.append(Spacer(1, 10))
    story += [Paragraph(text(line) or "&nbsp;", STYLES.body) for line in mediation.text.splitlines()]
    story.append(Spacer(1, 12))
    for party in state.signers():
        signature = state.agreement.signatures.get(party.party_id)
        block = [Paragraph(f"{text(party.name)}：" + ("" if signature else "（未签名）"), STYLES.body)]
        if signature is not None:
            for given, data in ((signature.image, drawable(signature.image)),
                                (signature.fingerprint, drawable(signature.fingerprint))):
                if data:
                    block.append(Image(io.BytesIO(data), width=6 * cm, height=2 * cm, kind="proportional",
                                       hAlign="LEFT"))
                elif given:
                    block.append(Paragraph("（签名图像无法显示，其哈希已记入协议日志）", STYLES.small))
        story.append(KeepTogether(block))
    story.append(Spacer(1, 10))
    if mediation.effective_ms is not None:
        effective = time.strftime("%Y年%m月%d日 %H:%M", time.localtime(mediation.effective_ms / 1000))
        story.append(Paragraph(f"本协议经全体当事人签名，于 {effective} 生效（《人民法院在线调解规则》第十九条）。",
                               STYLES.body))
    else:
        story.append(Paragraph("本协议尚未经全体当事人签名，未生效。", STYLES.body))
    if state.agreement.content_hash:
        story.append(Paragraph(f"协议内容哈希（SHA-256）：{state.agreement.content_hash}", STYLES.digest))
    return render(story, f"{info.case_number} 调解协议", f"{info.court}　{info.case_number}　调解协议")
