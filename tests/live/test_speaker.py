"""The live stream's speaker from sound levels: a turn of MIN_TURN moves
the picture from its first block, a word or two does not, and the last
speaker holds through silence."""

from __future__ import annotations

import math

import numpy as np

from courtroom.live.speaker import BLOCK, THRESHOLD, Speaker, level


def test_levels_are_dbfs() -> None:
    full = np.full(4800, 32767, np.int16)
    assert abs(level(full)) < 0.01
    assert abs(level(full // 10) + 20) < 0.1
    assert level(np.zeros(4800, np.int16)) == -math.inf


def script(*turns: tuple[str, float, float], until: float) -> list[dict[str, float]]:
    """Per block, each participant's level: -20 dBFS while in their turn,
    a quiet -60 dBFS otherwise (the room)."""
    people = {who for who, _, _ in turns}
    blocks = []
    for b in range(round(until / BLOCK)):
        t = b * BLOCK
        blocks.append({p: -20.0 if any(w == p and s <= t < e for w, s, e in turns) else -60.0 for p in people})
    return blocks


def run(blocks: list[dict[str, float]]) -> list[str | None]:
    speaker = Speaker()
    out = []
    for b in range(len(blocks) - speaker.turn_blocks):
        while speaker.heard <= b + speaker.turn_blocks:
            speaker.hear(blocks[speaker.heard])
        out.append(speaker.active(b))
    return out


def at(out: list[str | None], t: float) -> str | None:
    return out[round(t / BLOCK)]


def test_the_picture_cuts_where_a_turn_starts_and_holds_through_pauses() -> None:
    out = run(script(("judge", 1.0, 4.0), ("plaintiff", 6.0, 9.0), until=14.0))
    assert at(out, 0.5) is None
    assert at(out, 1.0) == "judge" and at(out, 5.5) == "judge"  # through the pause
    assert at(out, 5.9) == "judge" and at(out, 6.0) == "plaintiff" and at(out, 11.0) == "plaintiff"


def test_a_word_or_two_does_not_move_the_picture() -> None:
    out = run(script(("judge", 1.0, 6.0), ("defendant", 3.0, 3.8), until=9.0))
    assert set(out[round(1.0 / BLOCK):]) == {"judge"}


def test_room_tone_is_nobody() -> None:
    blocks = [{"judge": THRESHOLD - 1, "clerk": THRESHOLD - 3}] * 50
    assert set(run(blocks)) == {None}
