"""The notice (告知书) that takes a party into its case space: the case,
the court, the judge, how to enter, and the QR code of the party's entry
link (segno)."""

from __future__ import annotations

import io
import time

import segno
from reportlab.lib.units import cm
from reportlab.platypus import Image, Paragraph, Spacer

from case.model import CaseRole, Party
from case.state import CaseState

from .pdf import STYLES, fields, heading, render, text


def qr_png(url: str, scale: int = 8) -> bytes:
    """The QR code of ``url`` as PNG (error correction M: readable from a
    printed page with a crease or a stain)."""
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="png", scale=scale, border=2)
    return out.getvalue()


def notice_pdf(state: CaseState, party: Party, entry_url: str, now_ms: int | None = None) -> bytes:
    info = state.info
    assert info is not None
    judge = info.staff.get(CaseRole.JUDGE)
    now = time.localtime((now_ms or int(time.time() * 1000)) / 1000)
    story = heading(info.court, "一案一空间 告知书", info.case_number)
    story += [Paragraph(f"{text(party.name)}：", STYLES.body), Spacer(1, 4),
              Paragraph("本院已为本案开通网上案件空间。请用手机扫描下方二维码进入，核验本人姓名和身份证号码后，"
                        "可在空间内联系承办法官、提交证据、发表质证意见、接收法律文书、参加在线调解和庭审。"
                        "进行调解、证据交换和庭审前，系统将再次核验身份（《人民法院在线诉讼规则》第七条）。",
                        STYLES.body), Spacer(1, 8)]
    story += fields([("案号", info.case_number), ("案由", info.cause), ("法院", info.court),
                     ("承办法官", judge.name if judge else "（待定）"), ("当事人", party.name)])
    story += [Spacer(1, 12), Image(io.BytesIO(qr_png(entry_url)), width=6 * cm, height=6 * cm),
              Paragraph("扫码进入本案空间", STYLES.sub), Spacer(1, 8),
              Paragraph(f"链接：{text(entry_url)}", STYLES.small), Spacer(1, 8),
              Paragraph("此二维码仅供本人使用，请勿转交他人。如二维码遗失，请联系法院重新发放，原二维码随即失效。",
                        STYLES.small),
              Paragraph(f"发放时间：{time.strftime('%Y年%m月%d日 %H:%M', now)}", STYLES.small)]
    return render(story, f"{info.case_number} 告知书", f"{info.court}　{info.case_number}　告知书")
