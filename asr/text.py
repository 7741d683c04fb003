"""Court-ready text from a recognizer's words.

Vosk's Chinese output is words separated by spaces, without punctuation,
with numbers as characters. ``CourtText`` turns it into what a clerk would
write, token by token, so every output word keeps the times of the words it
came from:

1. legal vocabulary: a run of words that sounds like a term of the
   court's vocabulary (same pinyin, allowing common accent mergers) becomes
   that term (之争 → 质证);
2. numbers (inverse text normalization, with cn2an): 三十 万元 → 30万元,
   二零二六 年 三 月 五 日 → 2026年3月5日, and case numbers
   二零二六 京 零一零五 民初 一 号 → （2026）京0105民初1号;
3. punctuation from pauses (≥ 300 ms → ，) and a sentence end (？ after a
   question particle or question word, else 。);
4. no spaces between CJK characters; spaces kept between Latin words.
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence

from .words import Word

PAUSE_COMMA = 0.3
QUESTION_PARTICLES = ("吗", "呢", "么")
QUESTION_WORDS = ("有没有", "是不是", "是否", "对不对", "为什么", "什么", "怎么", "多少", "哪")
DEFAULT_VOCABULARY = (
    "审判长", "审判员", "书记员", "原告", "被告", "第三人", "证人", "代理人", "诉讼代理人",
    "法定代理人", "委托代理人", "公诉人", "辩护人", "上诉人", "被上诉人",
    "开庭", "休庭", "闭庭", "回避", "管辖", "举证", "质证", "质证意见", "认证", "证据",
    "异议", "诉讼请求", "反诉", "撤诉", "答辩", "陈述", "辩论", "最后陈述", "调解",
    "判决", "裁定", "上诉", "申诉", "鉴定", "借款", "本金", "利息", "违约金", "诉讼时效",
)

_DIGITS = {c: str(n) for n, c in enumerate("零一二三四五六七八九")} | {"〇": "0"}
_NUMERAL = set(_DIGITS) | set("两十百千万亿")
_BIG_UNITS = "万亿"
#: A lone numeral is a number only before one of these (一个人 stays).
_UNIT_AFTER = set("年月日号时点分秒元岁米克")
_PROVINCES = set("京津沪渝冀晋蒙辽吉黑苏浙皖闽赣鲁豫鄂湘粤桂琼川贵云藏陕甘青宁新兵最")
_CASE_KINDS = {"民初", "民终", "民再", "民特", "民申", "刑初", "刑终", "刑再", "行初", "行终",
               "执", "执异", "执恢", "执保", "破", "财保"}
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")
#: Accent mergers common in Mandarin as heard: zh/z, ch/c, sh/s, n/l, -ng/-n.
_MERGERS = ((re.compile(r"^zh"), "z"), (re.compile(r"^ch"), "c"), (re.compile(r"^sh"), "s"),
            (re.compile(r"^n"), "l"), (re.compile(r"ng$"), "n"))


def _sound(syllable: str) -> str:
    for pattern, repl in _MERGERS:
        syllable = pattern.sub(repl, syllable)
    return syllable


@lru_cache(maxsize=65_536)
def sounds(text: str) -> tuple[str, ...]:
    """How a CJK text sounds, toneless and accent-merged, one per character."""
    from pypinyin import lazy_pinyin  # here, not at import: a hub without recognition never needs it (0.5 s)

    return tuple(_sound(s) for s in lazy_pinyin(text))


class Vocabulary:
    """Terms the court wants spelled its way, matched by sound."""

    def __init__(self, terms: Iterable[str]) -> None:
        self.terms = sorted({t.strip() for t in terms if t.strip()})
        self._sounds: dict[tuple[str, ...], str] | None = None
        self._longest = max((len(t) for t in self.terms), default=0)

    @property
    def _by_sound(self) -> dict[tuple[str, ...], str]:
        """The terms by how they sound, worked out at the first fix: a hub
        makes its default vocabulary at start, and one that recognizes
        nothing should not load the pronunciation dictionary for it."""
        if self._sounds is None:
            self._sounds = {sounds(t): t for t in self.terms}
        return self._sounds

    @classmethod
    def load(cls, path: Path) -> Vocabulary:
        """One term per line; ``#`` starts a comment."""
        lines = path.read_text(encoding="utf-8").splitlines()
        return cls(line.split("#", 1)[0] for line in lines)

    def fix(self, words: Sequence[Word]) -> list[Word]:
        """Replace runs of whole words that sound like a term by the term."""
        out: list[Word] = []
        i = 0
        while i < len(words):
            match = self._match(words, i)
            if match is None:
                out.append(words[i])
                i += 1
            else:
                term, j = match
                run = words[i:j]
                out.append(Word(term, run[0].start, run[-1].end, min(w.conf for w in run)))
                i = j
        return out

    def _match(self, words: Sequence[Word], i: int) -> tuple[str, int] | None:
        best: tuple[str, int] | None = None
        chars = ""
        for j in range(i, len(words)):
            chars += words[j].word
            if len(chars) > self._longest or not _all_cjk(chars):
                break
            term = self._by_sound.get(sounds(chars)) if len(chars) >= 2 else None
            if term is not None and len(term) == len(chars):
                best = (term, j + 1)
        return best


def _all_cjk(text: str) -> bool:
    return all("\u3400" <= c <= "\u9fff" for c in text)


def _is_numeral(word: str) -> bool:
    return bool(word) and all(c in _NUMERAL for c in word)


@lru_cache(maxsize=65_536)
def _number(text: str) -> str:
    """A spoken Chinese number as a clerk writes it."""
    if len(text) >= 2 and all(c in _DIGITS for c in text):
        return "".join(_DIGITS[c] for c in text)  # years, codes: digit by digit
    unit = text[-1] if text[-1] in _BIG_UNITS and len(text) > 1 else ""
    body = text[:-1] if unit else text
    try:
        import cn2an  # here, not at import (0.3 s)

        value = cn2an.cn2an(body, "smart")
    except (ValueError, KeyError):
        return text
    return f"{int(value) if float(value).is_integer() else value}{unit}"


def normalize_numbers(words: Sequence[Word]) -> list[Word]:
    out: list[Word] = []
    i = 0
    while i < len(words):
        if not _is_numeral(words[i].word):
            out.append(words[i])
            i += 1
            continue
        j = i
        while j < len(words) and _is_numeral(words[j].word):
            j += 1
        run = words[i:j]
        text = "".join(w.word for w in run)
        after = words[j].word[:1] if j < len(words) else ""
        ordinal = bool(out) and out[-1].word.endswith("第")  # 第三条 is written in characters
        if not ordinal and (len(text) >= 2 or after in _UNIT_AFTER):
            out.append(Word(_number(text), run[0].start, run[-1].end, min(w.conf for w in run)))
        else:
            out.extend(run)
        i = j
    return _case_numbers(out)


def _case_numbers(words: list[Word]) -> list[Word]:
    """2026 京 0105 民初 1 号 → （2026）京0105民初1号, as one word."""
    out: list[Word] = []
    i = 0
    while i < len(words):
        w = words[i:i + 6]
        if (len(w) == 6 and re.fullmatch(r"\d{4}", w[0].word) and w[1].word in _PROVINCES
                and w[2].word.isdigit() and w[3].word in _CASE_KINDS and w[4].word.isdigit()
                and w[5].word == "号"):
            text = f"（{w[0].word}）{w[1].word}{w[2].word}{w[3].word}{w[4].word}号"
            out.append(Word(text, w[0].start, w[5].end, min(x.conf for x in w)))
            i += 6
        else:
            out.append(words[i])
            i += 1
    return out


def join(words: Sequence[str]) -> str:
    """Words as text: no space next to a CJK character, one between others."""
    text = ""
    for word in words:
        if text and not _CJK.match(text[-1]) and not _CJK.match(word[0]):
            text += " "
        text += word
    return text


def is_question(words: Sequence[Word]) -> bool:
    if not words:
        return False
    if words[-1].word.endswith(QUESTION_PARTICLES):
        return True
    return any(q in w.word for w in words for q in QUESTION_WORDS)


class CourtText:
    def __init__(self, vocabulary: Vocabulary | None = None, pause: float = PAUSE_COMMA) -> None:
        self.vocabulary = vocabulary if vocabulary is not None else Vocabulary(DEFAULT_VOCABULARY)
        self.pause = pause

    def words(self, words: Sequence[Word]) -> list[Word]:
        """The output words, with the times of the words they came from."""
        return normalize_numbers(self.vocabulary.fix(words))

    def final(self, words: Sequence[Word]) -> tuple[str, list[Word]]:
        """Text of a finished utterance, punctuated, and its words."""
        out = self.words(words)
        if not out:
            return "", out
        pieces = [w.word for w in out]
        for k in range(len(out) - 1):
            if out[k + 1].start - out[k].end >= self.pause:
                pieces[k] += "，"
        pieces[-1] += "？" if is_question(out) else "。"
        return join(pieces), out

    def partial(self, text: str) -> str:
        """Interim text: the same spelling, no punctuation (no times known)."""
        words = [Word(w, 0.0, 0.0) for w in text.split()]
        return join([w.word for w in self.words(words)])


def with_offset(words: Iterable[Word], offset: float) -> list[Word]:
    return [replace(w, start=w.start + offset, end=w.end + offset) for w in words]
