"""Ending utterances sooner where the pause is clear, never inside a
sentence: the endpointer alone on synthetic voices, and in a live stream
with the tone-language recognizer."""

from __future__ import annotations

import threading

import numpy as np

from asr.endpointing import Endpointer
from asr.stream import SpeakerStream
from asr.words import Result
from tests.asr.support import speech

RATE = 16_000


def voice(pitches: list[tuple[float, float]], level: float = 0.3) -> bytes:
    """A voiced sound (a fundamental and three harmonics) of (seconds, Hz) stretches."""
    parts = []
    for seconds, f0 in pitches:
        t = np.arange(int(seconds * RATE)) / RATE
        wave = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 5))
        parts.append(wave / 2 * level)
    return (np.concatenate(parts) * 32767).astype("<i2").tobytes()


def silence(seconds: float) -> bytes:
    return np.zeros(int(seconds * RATE), "<i2").tobytes()


def test_a_falling_voice_ends_sooner_than_a_level_one() -> None:
    falling, level = Endpointer(), Endpointer()
    falling.observe(voice([(1.0, 220), (0.3, 160)]))
    level.observe(voice([(1.3, 220)]))
    for ep in (falling, level):
        ep.observe(silence(0.26))
    assert falling.falling_voice() and not level.falling_voice()
    assert falling.due("现在 开庭") and not level.due("现在 开庭")  # short: only a falling voice ends it
    assert level.due("原告 陈述 诉讼 请求") is False  # long, but only 0.26 s of silence
    level.observe(silence(0.05))
    assert level.due("原告 陈述 诉讼 请求")


def test_never_after_a_word_a_sentence_goes_on_from() -> None:
    ep = Endpointer()
    ep.observe(voice([(1.0, 220), (0.3, 160)]))
    ep.observe(silence(0.45))
    assert not ep.due("原告 请求 判令 被告 支付 借款 本金 的")
    assert not ep.due("")


def test_a_speaker_who_pauses_inside_sentences_gets_longer_silences() -> None:
    ep = Endpointer()
    ep.observe(voice([(1.0, 200)]))
    ep.observe(silence(0.32))
    assert ep.due("原告 陈述 诉讼 请求")
    ep.ended(early=True)
    ep.observe(voice([(0.5, 200)]))  # went on at once: that was a pause inside a sentence
    assert ep.extra == ep.learn
    ep.observe(silence(0.32))
    assert not ep.due("借款 本金 利息")  # 0.32 s no longer ends it for this speaker
    ep.observe(silence(0.1))
    assert ep.due("借款 本金 利息")


class Finals:
    """Each final with how far the audio had been decoded when it came."""

    def __init__(self) -> None:
        self.stream: SpeakerStream | None = None
        self.got: list[tuple[Result, float]] = []
        self.lock = threading.Lock()

    def __call__(self, r: Result) -> None:
        if r.final:
            assert self.stream is not None
            with self.lock:
                self.got.append((r, self.stream.decoded_seconds))


def run(engine, lines: list[tuple[float, int, str]], endpointer: Endpointer | None) -> list[tuple[Result, float]]:  # noqa: ANN001
    pcm, _ = speech(lines)
    finals = Finals()
    stream = SpeakerStream(engine, "p-1", finals, endpointer=endpointer)
    finals.stream = stream
    stream.feed(pcm, RATE)
    stream.close()
    return finals.got


def test_live_utterances_end_within_0_3_s_of_silence_instead_of_0_5(engine) -> None:  # noqa: ANN001
    lines = [(0.0, 0, "原告 陈述 诉讼 请求"), (3.0, 0, "被告 答辩 意见"), (6.0, 0, "证据 质证 有 异议")]
    for endpointer, low, high in ((None, 0.5, 0.62), (Endpointer(), 0.25, 0.34)):
        got = run(engine, lines, endpointer)
        assert [r.text for r, _ in got] == ["原告陈述诉讼请求。", "被告答辩意见。", "证据质证有异议。"]
        for r, decoded in got:
            assert r.end is not None and low <= decoded - r.end <= high, (r.text, decoded - r.end)


def test_a_pause_inside_a_sentence_does_not_split_it(engine) -> None:  # noqa: ANN001
    # 0.35 s pauses (longer than an early end's silence): after 的, a word a
    # sentence goes on from, and after a short clause.
    tone = 0.22  # seconds per word, tone and gap
    first = "原告 陈述 诉讼 请求 的"
    second_at = len(first.split()) * tone + 0.35 - 0.06
    short = "原告 陈述"
    lines = [(0.0, 0, first), (second_at, 0, "借款 本金 利息"),
             (5.0, 0, short), (5.0 + len(short.split()) * tone + 0.35 - 0.06, 0, "诉讼 请求")]
    got = run(engine, lines, Endpointer())
    assert [r.text for r, _ in got] == ["原告陈述诉讼请求的，借款本金利息。", "原告陈述，诉讼请求。"]
