"""No word is lost in a hearing-length file (3 hours by default;
``COURTROOM_LONG_HOURS`` changes it)."""

from __future__ import annotations

import os
import time
import wave
from pathlib import Path

import numpy as np

from asr.transcribe import transcribe
from tests.asr.support import speech, write_wav

HOURS = float(os.environ.get("COURTROOM_LONG_HOURS", "3"))
LINES = ["审判长 宣布 现在 开庭", "原告 陈述 诉讼 请求 事实 理由", "被告 答辩 意见", "证据 质证 有 异议",
         "借款 本金 三 十 万元", "法庭 调查 辩论", "没有 异议", "调解 判决", "核对 当事人 身份",
         "最后 陈述 意见"]
BLOCK_SECONDS = 60


def test_no_word_is_lost_in_a_long_file(engine, tmp_path: Path) -> None:  # noqa: ANN001
    pcm, _ = speech([(5.5 * k, 0, text) for k, text in enumerate(LINES)], pad=0.5)
    block = np.zeros((BLOCK_SECONDS * 16_000, 1), np.int16)
    block[:len(pcm)] = pcm
    one = transcribe(write_wav(tmp_path / "block.wav", block, 16_000), engine)
    assert len(one) == len(LINES)

    blocks = int(HOURS * 3600 / BLOCK_SECONDS)
    path = tmp_path / "long.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16_000)
        for _ in range(blocks):
            w.writeframes(block.tobytes())
    t0 = time.perf_counter()
    results = transcribe(path, engine)
    elapsed = time.perf_counter() - t0

    assert len(results) == blocks * len(one)
    for n, r in enumerate(results):
        ref = one[n % len(one)]
        offset = (n // len(one)) * BLOCK_SECONDS
        assert r.text == ref.text
        assert len(r.words) == len(ref.words)
        assert abs(r.start - (ref.start + offset)) < 0.02, (n, r.start, ref.start + offset)
    words = sum(len(r.words) for r in results)
    print(f"\n{HOURS:g} h file: {len(results)} utterances, {words} words, none lost, "
          f"in {elapsed:.0f} s ({HOURS * 3600 / elapsed:.0f}x real time)")
