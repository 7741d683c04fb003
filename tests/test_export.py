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
from transcript.export import EXPORTERS, to_docx, to_pdf, to_txt
from transcript.roles import Role
from transcript.state import TranscriptState


def signature_png() -> str:
    frame = av.VideoFrame.from_ndarray(np.full((60, 180, 3), 255, np.uint8), format="rgb24")
    codec = av.CodecContext.create("png", "w")
    codec.width, codec.height, codec.pix_fmt = 180, 60, "rgb24"
    return "data:image/png;base64," + base64.b64encode(bytes(codec.encode(frame)[0])).decode()


@pytest.fixture
def signed() -> TranscriptState:
    state = new_state("原告要求被告支付货款三十万元", "被告对此有异议")
    state.apply(PEOPLE[Role.PLAINTIFF], {"kind": "annotation.add", "segment_id": "S1", "start": 8, "end": 10,
                                         "style": "comment", "body": "金额有误"})
    state.apply(PEOPLE[Role.JUDGE], {"kind": "transcript.lock"})
    state.apply(PEOPLE[Role.PLAINTIFF], {"kind": "signature.add", "image": signature_png()})
    return state


def lines_of(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def test_docx_has_every_line_of_the_text_record_and_the_signature_image(signed: TranscriptState) -> None:
    d = docx.Document(io.BytesIO(to_docx(signed, 5)))
    assert [p.text.strip() for p in d.paragraphs if p.text.strip()] == lines_of(to_txt(signed, 5)) + ["原告 plaintiff-name："]
    assert len(d.inline_shapes) == 1


def test_pdf_has_the_record_in_chinese(signed: TranscriptState) -> None:
    pdf = to_pdf(signed, 5)
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages).replace("\n", "")
    for line in ("庭审笔录", "书记员 clerk-name：原告要求被告支付货款三十万元", "〔批注・plaintiff-name〕“货款”：金额有误",
                 f"摘要 SHA-256：{signed.lock_hash}", "签名：原告 plaintiff-name（手写签名）"):
        assert line.replace(" ", "") in text.replace(" ", ""), line


def test_a_long_hearing_paginates() -> None:
    state = new_state(*[f"第{k}段发言，内容较长，用于检验分页是否正确，不丢失任何文字。" for k in range(400)])
    reader = pypdf.PdfReader(io.BytesIO(to_pdf(state, 401)))
    assert len(reader.pages) > 5
    assert "第399段发言" in reader.pages[-1].extract_text().replace("\n", "")


def test_every_format_is_served() -> None:
    assert set(EXPORTERS) == {"txt", "json", "vtt", "docx", "pdf"}


def test_characters_xml_cannot_hold_never_break_an_export() -> None:
    """A log written before the hub refused them may hold control characters."""
    from tests.corefixtures import new_state
    from transcript.export import EXPORTERS
    state = new_state("原告\x01陈述\x0b事实\ufffe。")
    for fmt, (render, _) in EXPORTERS.items():
        assert render(state, 2), fmt


def test_deleted_segments_are_not_in_the_record() -> None:
    state = new_state("现在开庭", "嗯嗯嗯噪音", "原告陈述诉讼请求")
    state.segments[1].start, state.segments[1].end = 1.0, 2.0
    state.apply(PEOPLE[Role.CLERK], {"kind": "segment.delete", "segment_id": "S2", "base_rev": 1})
    for fmt in ("txt", "vtt"):
        text = EXPORTERS[fmt][0](state, 5)
        assert "嗯嗯嗯噪音" not in text, fmt
    docx_text = "".join(p.text for p in docx.Document(io.BytesIO(to_docx(state, 5))).paragraphs)
    assert "原告陈述诉讼请求" in docx_text and "嗯嗯嗯噪音" not in docx_text
    pdf = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(to_pdf(state, 5))).pages)
    assert "嗯嗯嗯噪音" not in pdf.replace("\n", "")
