from __future__ import annotations

import random
import threading
import time

import numpy as np
import pytest

from asr.stream import SpeakerStream
from asr.words import Result
from tests.asr.support import speech

SCRIPT = [(0.0, 0, "现在 开庭"), (2.0, 0, "原告 陈述 诉讼 请求"), (4.5, 0, "借款 本金 三 十 万元")]
EXPECTED = ["现在开庭。", "原告陈述诉讼请求。", "借款本金30万元。"]


class Collector:
    def __init__(self) -> None:
        self.results: list[tuple[float, Result]] = []
        self.lock = threading.Lock()

    def __call__(self, r: Result) -> None:
        with self.lock:
            self.results.append((time.monotonic(), r))

    def finals(self) -> list[Result]:
        return [r for _, r in self.results if r.final]

    def partials(self) -> list[Result]:
        return [r for _, r in self.results if not r.final]


@pytest.mark.parametrize("rate, channels", [(16_000, 1), (48_000, 2), (44_100, 1), (8_000, 1)])
def test_any_rate_and_channel_count_in_any_chunking(engine, rate: int, channels: int) -> None:  # noqa: ANN001
    pcm, manifest = speech(SCRIPT, rate=rate, channels=channels)
    got = Collector()
    stream = SpeakerStream(engine, "p-1", got)
    rng = random.Random(rate)
    at = 0
    while at < len(pcm):
        n = rng.randint(1, rate // 5)
        stream.feed(pcm[at:at + n], rate, channels)
        at += n
    stream.close()
    finals = got.finals()
    assert [r.text for r in finals] == EXPECTED
    assert all(r.speaker == "p-1" for r in finals)
    words = [w for r in finals for w in r.words]
    # Word times are on the stream's clock (tonespeech pads 1 s of silence).
    assert abs(words[0].start - manifest[0]["start"]) < 0.06
    assert abs(words[-1].end - manifest[-1]["end"]) < 0.06


def test_float_samples_and_offset(engine) -> None:  # noqa: ANN001
    pcm, manifest = speech(SCRIPT[:1])
    got = Collector()
    stream = SpeakerStream(engine, "p-1", got, offset=100.0)
    stream.feed(pcm[:, 0].astype(np.float32) / 32768, 16_000)
    stream.close()
    (final,) = got.finals()
    assert abs(final.start - (100.0 + manifest[0]["start"])) < 0.06


def test_bad_pcm_is_refused_clearly(engine) -> None:  # noqa: ANN001
    stream = SpeakerStream(engine, "p-1", Collector())
    with pytest.raises(ValueError, match="whole number"):
        stream.feed(b"\x00\x01\x02", 16_000, 1)
    with pytest.raises(ValueError, match="int16 or float"):
        stream.feed(np.zeros(10, dtype=np.int32), 16_000)
    stream.close()


def test_real_time_feed_gives_partials_then_a_prompt_final(engine) -> None:  # noqa: ANN001
    """Fed at real-time pace, partials arrive while speaking and the final
    soon after the endpoint silence (0.5 s in the tone model)."""
    pcm, manifest = speech([(0.0, 0, "原告 陈述 诉讼 请求 事实 理由")], rate=48_000)
    got = Collector()
    stream = SpeakerStream(engine, "p-1", got)
    step = 4_800  # 100 ms
    t0 = time.monotonic()
    for k, at in enumerate(range(0, len(pcm), step)):
        stream.feed(pcm[at:at + step], 48_000)
        time.sleep(max(0.0, t0 + (k + 1) * 0.1 - time.monotonic()))
    stream.close()
    partials, (final,) = got.partials(), got.finals()
    assert len(partials) >= 3
    assert final.text == "原告陈述诉讼请求事实理由。"
    assert partials[-1].text.startswith("原告陈述")
    # When was the final emitted, on the audio clock? It is due 0.5 s after the last word.
    emitted = next(t for t, r in got.results if r.final) - t0
    due = manifest[-1]["end"] + 0.5
    assert emitted - due < 1.0  # generous; tests/bench/asr_throughput measures it


def test_falling_behind_sheds_partials_never_finals(engine) -> None:  # noqa: ANN001
    lines = [(4.0 * k, 0, "证据 质证 有 异议") for k in range(30)]
    pcm, _ = speech(lines)
    got = Collector()
    stream = SpeakerStream(engine, "p-1", got, max_lag=0.5)
    for at in range(0, len(pcm), 1_600):  # two minutes of audio at once: far behind
        stream.feed(pcm[at:at + 1_600], 16_000)
    assert stream.lag > 10
    stream.close()
    assert [r.text for r in got.finals()] == ["证据质证有异议。"] * 30
    assert stream.partials_shed > 0
    assert stream.max_lag_seen > 10
    assert stream.lag == 0


def test_engine_failure_is_reported_not_swallowed(engine) -> None:  # noqa: ANN001
    def broken(_r: Result) -> None:
        raise RuntimeError("screen gone")

    pcm, _ = speech(SCRIPT[:1])
    stream = SpeakerStream(engine, "p-1", broken)
    stream.feed(pcm, 16_000)
    with pytest.raises(RuntimeError, match="screen gone"):
        stream.close()
