"""What a recognizer hears: words with times, and results made of them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Word:
    """One word; times are seconds on the stream's clock."""
    word: str
    start: float
    end: float
    conf: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        return {"word": self.word, "start": round(self.start, 3), "end": round(self.end, 3),
                "conf": round(self.conf, 3)}


@dataclass(frozen=True, slots=True)
class Result:
    """A partial (interim, never stored) or final result of one speaker."""
    speaker: str
    text: str
    words: tuple[Word, ...] = field(default=())
    final: bool = True

    @property
    def start(self) -> float | None:
        return self.words[0].start if self.words else None

    @property
    def end(self) -> float | None:
        return self.words[-1].end if self.words else None

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "text": self.text, "speaker": self.speaker,
                "words": [w.to_dict() for w in self.words]}
