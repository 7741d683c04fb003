"""Who is shown large when, from the transcript.

The transcript already says who spoke when (each final segment has its
speaker and its start and end on the hearing's clock), more reliably than
audio levels in a room where every microphone hears every voice. The
picture follows the speaker, but not for a word or two: a change needs the
new speaker to talk for ``MIN_TURN`` seconds, and the last speaker stays
large through pauses, so the video does not flicker between parties.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Iterable

MIN_TURN = 1.5


@dataclass(frozen=True, slots=True)
class Speech:
    participant_id: str
    start: float
    end: float


class Timeline:
    """The change points: from ``times[k]`` on, ``people[k]`` is large."""

    def __init__(self, speech: Iterable[Speech], min_turn: float = MIN_TURN) -> None:
        self.times: list[float] = []
        self.people: list[str] = []
        for s in sorted(speech, key=lambda s: (s.start, s.end)):
            if s.end - s.start < min_turn or (self.people and self.people[-1] == s.participant_id):
                continue
            if self.times and s.start <= self.times[-1]:
                # Overlapping turns: the later one wins from its own start.
                self.times[-1], self.people[-1] = max(self.times[-1], s.start), s.participant_id
                continue
            self.times.append(max(0.0, s.start))
            self.people.append(s.participant_id)

    def active_at(self, t: float) -> str | None:
        """Who is large at ``t`` (None before anyone has spoken a turn)."""
        k = bisect.bisect_right(self.times, t) - 1
        return self.people[k] if k >= 0 else None
