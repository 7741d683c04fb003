from __future__ import annotations

import pytest

from asr.text import CourtText, Vocabulary, join
from asr.words import Word


def words(spec: str, gap: float = 0.06) -> list[Word]:
    """Words 0.2 s long; ``|`` adds a 0.4 s pause."""
    out, t = [], 0.0
    for w in spec.split():
        if w == "|":
            t += 0.4
            continue
        out.append(Word(w, t, t + 0.2, 0.9))
        t += 0.2 + gap
    return out


@pytest.mark.parametrize("spoken, written", [
    ("三 十 万元", "30万元。"),
    ("三十 万元", "30万元。"),
    ("三十万 元", "30万元。"),
    ("借款 本金 五 十 万元", "借款本金50万元。"),
    ("二零二六 年 三 月 五 日", "2026年3月5日。"),
    ("二 零 二 六 年", "2026年。"),
    ("二零二六 京 零一零五 民初 一 号", "（2026）京0105民初1号。"),
    ("下午 三 点 五十 分", "下午3点50分。"),
    ("一 个 人", "一个人。"),
    ("第 三 条", "第三条。"),
    ("一 千 二 百 元", "1200元。"),
    ("利息 两 万 元", "利息2万元。"),
])
def test_numbers(spoken: str, written: str) -> None:
    assert CourtText().final(words(spoken))[0] == written


def test_punctuation_from_pauses_and_questions() -> None:
    ct = CourtText()
    assert ct.final(words("现在 开庭 | 原告 陈述 诉讼 请求"))[0] == "现在开庭，原告陈述诉讼请求。"
    assert ct.final(words("被告 有没有 异议"))[0] == "被告有没有异议？"
    assert ct.final(words("你 听 清楚 了 吗"))[0] == "你听清楚了吗？"
    assert ct.final([]) == ("", [])


def test_spaces_only_between_latin_words() -> None:
    assert join(["原告", "公司", "ABC", "Trading", "有限", "公司"]) == "原告公司ABC Trading有限公司"
    assert CourtText().final(words("hello world 你好"))[0] == "hello world你好。"


def test_vocabulary_fixes_homophones_by_sound() -> None:
    ct = CourtText()
    text, out = ct.final(words("原告 对 之争 意见"))
    assert text == "原告对质证意见。"
    # zh/z and -ng/-n accent mergers: 自正 (zi zheng) sounds like 质证 (zhi zheng)
    assert ct.final(words("进行 自正"))[0] == "进行质证。"
    # A court's own term list replaces the default.
    custom = CourtText(Vocabulary(["举证期限"]))
    assert custom.final(words("举 正 期限"))[0] == "举证期限。"
    assert custom.final(words("之争"))[0] == "之争。"


def test_word_times_survive() -> None:
    src = words("原告 之争 三 十 万元 | 二零二六 年")
    text, out = CourtText().final(src)
    assert text == "原告质证30万元，2026年。"
    assert [(w.word, w.start, w.end) for w in out] == [
        ("原告", src[0].start, src[0].end),
        ("质证", src[1].start, src[1].end),
        ("30", src[2].start, src[3].end),
        ("万元", src[4].start, src[4].end),
        ("2026", src[5].start, src[5].end),
        ("年", src[6].start, src[6].end),
    ]
    assert all(w.conf == 0.9 for w in out)


def test_vocabulary_file(tmp_path) -> None:  # noqa: ANN001
    f = tmp_path / "terms.txt"
    f.write_text("# 本院常用\n诉前调解\n\n管辖权异议  # 程序\n", encoding="utf-8")
    assert Vocabulary.load(f).terms == ["管辖权异议", "诉前调解"]


def test_partial_text_is_spelled_but_not_punctuated() -> None:
    assert CourtText().partial("原告 陈述 三 十 万元") == "原告陈述30万元"
