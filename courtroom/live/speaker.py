"""Who is shown large in the live stream, from how loud each one is.

The recording's composition follows the transcript (``composition.timeline``);
the live stream cannot wait for it and must work where nothing is
recognized, so it listens: every ``BLOCK`` of sound, the loudest
participant above ``THRESHOLD`` is the one speaking. The picture changes to
a new speaker only when they hold most of the next ``MIN_TURN`` seconds,
and the last speaker stays large through pauses, as in the recording. The
stream is composed well behind the courtroom, so those next seconds are
already heard when the picture is made: the cut lands where the turn
starts, not ``MIN_TURN`` late.

Pure: levels in, a participant id out.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from ..composition.timeline import MIN_TURN

#: Seconds of sound per decision.
BLOCK = 0.1
#: dBFS: quieter than this is nobody speaking (room tone, a far voice).
THRESHOLD = -45.0
#: Of the blocks in a turn, at least this share must be the new speaker's.
HOLD_SHARE = 0.7


def level(samples: np.ndarray) -> float:
    """RMS level of 16-bit samples in dBFS (-inf for silence)."""
    if not len(samples):
        return -math.inf
    rms = float(np.sqrt(np.mean(np.square(samples.astype(np.float64)))))
    return 20 * math.log10(rms / 32768) if rms > 0 else -math.inf


class Speaker:
    """Blocks are heard in order (``hear``) and asked about in order
    (``active``), the asking at least ``turn_blocks`` behind the hearing."""

    def __init__(self, min_turn: float = MIN_TURN, threshold: float = THRESHOLD) -> None:
        self.turn_blocks = max(1, round(min_turn / BLOCK))
        self.threshold = threshold
        #: The loudest voice of each block heard and not yet decided on.
        self._voices: deque[str | None] = deque()
        #: Index of the first block in ``_voices``.
        self._first = 0
        self.current: str | None = None

    @property
    def heard(self) -> int:
        """Blocks heard so far."""
        return self._first + len(self._voices)

    def hear(self, levels: dict[str, float]) -> None:
        """The next block: each participant's level."""
        loudest = max(levels.items(), key=lambda kv: kv[1], default=None)
        self._voices.append(loudest[0] if loudest is not None and loudest[1] >= self.threshold else None)

    def active(self, block: int) -> str | None:
        """Who is large during ``block`` (never decreasing between calls)."""
        while self._first <= block and self._voices:
            voice = self._voices[0]
            if voice is not None and voice != self.current:
                ahead = list(self._voices)[:self.turn_blocks]
                if len(ahead) >= self.turn_blocks and ahead.count(voice) >= HOLD_SHARE * self.turn_blocks:
                    self.current = voice
            self._voices.popleft()
            self._first += 1
        return self.current
