"""Live crosstalk arbitration: four seat microphones with the neighbours'
words at -12 dB, each recognized on its own as live streams are; every word
is written once, under the seat that spoke it, and the speaker's own words
are not delayed."""

from __future__ import annotations

import threading
from collections import Counter

import numpy as np

from asr.crosstalk import HOP, LiveArbiter
from asr.endpointing import Endpointer
from asr.stream import SpeakerStream
from asr.words import Result
from tests.asr.support import speech

RATE = 16_000
SCRIPT = [(0.0, 0, "现在 开庭"), (1.6, 1, "原告 陈述 诉讼 请求"), (4.0, 2, "被告 答辩 意见"),
          (6.2, 3, "证据 质证 有 异议"), (8.6, 1, "借款 本金 三 十 万元"), (11.5, 2, "没有 异议"),
          (13.0, 0, "法庭 调查 辩论")]


def hop_energy(samples: np.ndarray) -> np.ndarray:
    hop = int(RATE * HOP)
    whole = len(samples) // hop * hop
    x = samples[:whole].astype(np.float64).reshape(-1, hop)
    return (x ** 2).mean(axis=1)


def recognized(engine, pcm: np.ndarray) -> list[tuple[float, str, Result]]:  # noqa: ANN001
    """Each channel's finals, as live streams give them: (audio position
    when it came, channel, result)."""
    finals: list[tuple[float, str, Result]] = []
    lock = threading.Lock()
    streams: list[SpeakerStream] = []
    for ch in range(pcm.shape[1]):
        def collect(r: Result, ch: int = ch) -> None:
            if r.final:
                with lock:
                    finals.append((streams[ch].decoded_seconds, str(ch), r))
        streams.append(SpeakerStream(engine, str(ch), collect, endpointer=Endpointer()))
    for ch, stream in enumerate(streams):
        stream.feed(np.ascontiguousarray(pcm[:, ch]), RATE)
    for stream in streams:
        stream.close()
    return finals


def test_every_word_once_under_its_seat_without_delaying_the_speaker(engine) -> None:  # noqa: ANN001
    clean, _ = speech(SCRIPT, channels=4)
    expected = Counter((w.word, int(ch)) for _, ch, r in recognized(engine, clean) for w in r.words)
    pcm, _ = speech(SCRIPT, channels=4, bleed_db=-12)
    finals = recognized(engine, pcm)
    heard = Counter((w.word, int(ch)) for _, ch, r in finals for w in r.words)
    assert sum(heard.values()) > sum(expected.values())  # the neighbours did hear words: crosstalk to undo

    written: list[tuple[float, float, str, Result]] = []  # (came, written, channel, result)
    now = [0.0]
    came: dict[int, float] = {}
    arbiter = LiveArbiter(lambda ch, r: written.append((came[id(r)] if id(r) in came else now[0], now[0], ch, r)))
    for ch in range(4):
        arbiter.levels(str(ch), 0.0, hop_energy(pcm[:, ch]))
    for at, ch, result in sorted(finals, key=lambda f: f[0]):
        now[0] = at
        arbiter.tick(at)
        came[id(result)] = at
        arbiter.final(ch, result)
    now[0] += 5
    arbiter.tick(now[0])
    assert arbiter.waiting == 0

    words = Counter((w.word, int(ch)) for _, _, ch, r in written for w in r.words)
    assert words == expected, "a word written twice, lost, or under another seat"
    # The speaker's own lines are written as they come.
    assert all(written_at == came_at for came_at, written_at, _, _ in written)


def test_a_word_only_a_quieter_neighbour_recognized_is_kept_once_the_louder_seat_is_quiet() -> None:
    from asr.words import Word
    written: list[tuple[str, Result]] = []
    arbiter = LiveArbiter(lambda ch, r: written.append((ch, r)), wait=1.0)
    loud = np.zeros(600)
    loud[100:300] = 100.0  # seat 0 speaks from 1.0 s to 3.0 s (and never reports the word)
    arbiter.levels("0", 0.0, loud)
    arbiter.levels("1", 0.0, loud / 16)
    word = Word("异议", 1.0, 1.4, 1.0)
    arbiter.final("1", Result("1", "异议。", (word,), final=True))
    assert written == [] and arbiter.waiting == 1
    arbiter.tick(2.6)  # seat 0 still speaking: its own final may still bring the word
    arbiter.tick(3.9)
    assert written == [] and arbiter.waiting == 1
    arbiter.tick(4.0)  # quiet for 1.0 s without it: kept, never lost
    assert [(ch, r.text) for ch, r in written] == [("1", "异议。")]
