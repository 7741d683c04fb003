"""The 笔录 as Word and PDF say what the text export says, signatures included."""

from __future__ import annotations

import base64
import io

import av
import docx
import numpy as np
import pypdf
import pytest

from tests.corefixtures import PEOPLE, new_state
from paperwork.record import EXPORTERS, evidence_label, to_docx, to_pdf, to_txt
from transcript.sittings import Sittings
from transcript.roles import Role
from transcript.state import TranscriptState


def signature_png(shade: int = 255) -> str:
    """A PNG signature; a different ``shade`` gives a different image."""
    frame = av.VideoFrame.from_ndarray(np.full((60, 180, 3), shade, np.uint8), format="rgb24")
    codec = av.CodecContext.create("png", "w")
    codec.width, codec.height, codec.pix_fmt = 180, 60, "rgb24"
    return "data:image/png;base64," + base64.b64encode(bytes(codec.encode(frame)[0])).decode()


#: 2026-11-24 09:30 and 10:05 Beijing time.
OPENED_MS, CLOSED_MS = 1_795_483_800_000, 1_795_485_900_000
SAT = Sittings(seq=9, created_ms=OPENED_MS - 600_000, opened_ms=OPENED_MS, closed_ms=CLOSED_MS)


def people_state(*texts: str) -> TranscriptState:
    """A hearing with an observer and a party at the detention centre."""
    from transcript.model import HearingInfo, Participant
    from transcript.roles import Site
    cast = [Participant("p-j", Role.JUDGE, "王法官"), Participant("p-c", Role.CLERK, "李书记员"),
            Participant("p-p", Role.PLAINTIFF, "张三"), Participant("p-d", Role.DEFENDANT, "李四", Site.DETENTION),
            Participant("p-o", Role.OBSERVER, "旁听者")]
    state = TranscriptState()
    state.create(HearingInfo("h-x", "(2026)京0105民初1号", "买卖合同纠纷", "北京市朝阳区人民法院",
                             {p.participant_id: p for p in cast}, rules=2))
    for text in texts:
        state.apply(cast[1], {"kind": "segment.add", "text": text, "speaker": "p-p"})
    return state


JUDGE, CLERK, PLAINTIFF, DEFENDANT = ({"participant_id": pid} for pid in ("p-j", "p-c", "p-p", "p-d"))


def actor(state: TranscriptState, pid: str):  # noqa: ANN201
    return state.hearing.participants[pid]


@pytest.fixture
def signed() -> TranscriptState:
    state = people_state("原告要求被告支付货款三十万元", "被告对此有异议")
    plaintiff = actor(state, "p-p")
    state.apply(plaintiff, {"kind": "annotation.add", "segment_id": "S1", "start": 8, "end": 10,
                            "style": "comment", "body": "金额有误"})
    state.apply(plaintiff, {"kind": "annotation.add", "segment_id": "S2", "start": 0, "end": 2,
                            "style": "highlight", "color": "green"})  # a private aid: not in the record
    state.apply(actor(state, "p-j"), {"kind": "transcript.lock"})
    state.apply(plaintiff, {"kind": "signature.add", "image": signature_png()})
    state.apply(actor(state, "p-c"), {"kind": "signature.add", "image": signature_png()})
    return state


def lines_of(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def test_the_record_says_what_a_courts_record_says(signed: TranscriptState) -> None:
    text = to_txt(signed, SAT)
    assert "时间：2026年11月24日 9时30分至10时05分" in text
    assert "地点：本院法庭；在线参加：被告 李四（看守所）" in text
    assert "审判人员：王法官" in text and "书记员：李书记员" in text
    assert "到庭人员：原告 张三；被告 李四" in text and "旁听者" not in text  # the public is not a party
    assert "〔批注·张三〕“货款”：金额有误" in text and "标注" not in text  # highlights stay private
    assert "记录序号" not in text
    digest = signed.lock_hash
    assert " ".join(digest[i:i + 16] for i in range(0, 64, 16)) in text
    assert "原告 张三：（手写签名）" in text and "书记员 李书记员：（手写签名）" in text
    assert "被告 李四：（未签名）" in text and "审判员 王法官：（未签名）" in text
    assert "旁听 旁听者：" not in text


def test_evidence_shown_is_the_courts_reference_not_speech() -> None:
    state = people_state("原告提交借条")
    state.apply(actor(state, "p-p"), {"kind": "evidence.add", "sha256": "a" * 64, "name": "借条.jpg",
                                      "media_type": "image/jpeg", "size": 10})
    state.apply(actor(state, "p-j"), {"kind": "evidence.approve", "evidence_id": "E1"})
    state.apply(actor(state, "p-c"), {"kind": "evidence.paste", "evidence_id": "E1"})
    text = to_txt(state, SAT)
    assert "\n（出示证据一：借条.jpg）\n" in text and "书记员 李书记员：" not in text
    assert [evidence_label(f"E{n}") for n in (1, 10, 12, 20, 101, 110)] == \
        ["证据一", "证据十", "证据十二", "证据二十", "证据一百零一", "证据一百一十"]


def test_the_time_says_when_the_hearing_has_not_closed() -> None:
    state = people_state("现在开庭")
    assert "起（庭审尚未结束）" in to_txt(state, Sittings(2, OPENED_MS, OPENED_MS, None))
    assert "（尚未开庭）" in to_txt(state, Sittings(2, OPENED_MS, None, None))
    assert "笔录尚未锁定" in to_txt(state, SAT)


def test_docx_is_a4_with_every_line_of_the_text_record_and_signatures_on_every_page(signed: TranscriptState) -> None:
    d = docx.Document(io.BytesIO(to_docx(signed, SAT)))
    section = d.sections[0]
    assert round(section.page_width.cm, 1) == 21.0 and round(section.page_height.cm, 1) == 29.7
    assert [p.text.strip() for p in d.paragraphs if p.text.strip()] == lines_of(
        to_txt(signed, SAT).replace("：（手写签名）", "：").replace("：（未签名）", "：（未签名）"))
    assert "(2026)京0105民初1号" in section.header.paragraphs[0].text
    footer = section.footer._element.xml
    assert "PAGE" in footer and "NUMPAGES" in footer and "当事人签名" in footer
    assert footer.count("<pic:pic") == 1  # the plaintiff signs every page; the clerk at the end
    assert len(d.inline_shapes) == 2  # the closing block: plaintiff and clerk


def test_pdf_has_the_record_in_chinese_with_numbered_pages(signed: TranscriptState) -> None:
    reader = pypdf.PdfReader(io.BytesIO(to_pdf(signed, SAT)))
    text = "".join(p.extract_text() for p in reader.pages).replace("\n", "")
    for line in ("庭审笔录", "原告 张三：原告要求被告支付货款三十万元", "〔批注・张三〕“货款”：金额有误",
                 "被告 李四：（未签名）", f"第 1 页 共 {len(reader.pages)} 页", "当事人签名"):
        assert line.replace(" ", "") in text.replace(" ", ""), line


def test_a_long_hearing_paginates_and_keeps_each_signers_name_with_the_image() -> None:
    state = people_state(*[f"第{k}段发言，内容较长，用于检验分页是否正确，不丢失任何文字。" for k in range(120)])
    state.apply(actor(state, "p-j"), {"kind": "transcript.lock"})
    for shade, pid in enumerate(("p-p", "p-d", "p-c", "p-j")):
        state.apply(actor(state, pid), {"kind": "signature.add", "image": signature_png(200 + shade)})
    reader = pypdf.PdfReader(io.BytesIO(to_pdf(state, SAT)))
    assert len(reader.pages) > 3
    assert "第119段发言" in "".join(p.extract_text() for p in reader.pages).replace("\n", "")
    for number, page in enumerate(reader.pages, 1):
        body = page.extract_text().replace(" ", "").replace("\n", "")
        assert f"第{number}页共{len(reader.pages)}页" in body
        images = len(page.images)
        # Every page carries the two parties' signatures in its footer; a
        # page that names a signer in the closing block also has their image.
        named = sum(body.count(f"{label}：") for label in ("审判员王法官", "书记员李书记员"))
        assert images >= 2 + named, (number, images, named)


def test_every_format_is_served() -> None:
    assert set(EXPORTERS) == {"txt", "json", "vtt", "docx", "pdf"}


def test_characters_xml_cannot_hold_never_break_an_export() -> None:
    """A log written before the hub refused them may hold control characters."""
    from tests.corefixtures import new_state
    from paperwork.record import EXPORTERS
    state = new_state("原告\x01陈述\x0b事实\ufffe。")
    for fmt, (render, _) in EXPORTERS.items():
        assert render(state, SAT), fmt


def test_deleted_segments_are_not_in_the_record() -> None:
    state = new_state("现在开庭", "嗯嗯嗯噪音", "原告陈述诉讼请求")
    state.segments[1].start, state.segments[1].end = 1.0, 2.0
    state.apply(PEOPLE[Role.CLERK], {"kind": "segment.delete", "segment_id": "S2", "base_rev": 1})
    for fmt in ("txt", "vtt"):
        text = EXPORTERS[fmt][0](state, SAT)
        assert "嗯嗯嗯噪音" not in text, fmt
    docx_text = "".join(p.text for p in docx.Document(io.BytesIO(to_docx(state, SAT))).paragraphs)
    assert "原告陈述诉讼请求" in docx_text and "嗯嗯嗯噪音" not in docx_text
    pdf = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(to_pdf(state, SAT))).pages)
    assert "嗯嗯嗯噪音" not in pdf.replace("\n", "")


def test_a_signature_image_that_cannot_be_drawn_never_breaks_an_export(signed: TranscriptState) -> None:
    from tests.corefixtures import PNG  # a PNG's first bytes and nothing a decoder can draw
    state = signed
    state.apply(actor(state, "p-d"), {"kind": "signature.add", "image": PNG})
    for name in ("pdf", "docx"):
        render, _ = EXPORTERS[name]
        assert render(state, Sittings())  # nothing raised: the signer is listed, the image left out
