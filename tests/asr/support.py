"""Tone-language audio for ASR tests."""

from __future__ import annotations

import wave
from pathlib import Path
from typing import Any

import numpy as np
from tonespeech import synthesize  # type: ignore[import-not-found]


def speech(lines: list[tuple[float, int, str]], rate: int = 16_000, channels: int = 1,
           **kw: Any) -> tuple[np.ndarray, list[dict[str, Any]]]:
    return synthesize(lines, rate=rate, channels=channels, **kw)


def write_wav(path: Path, pcm: np.ndarray, rate: int) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(pcm.shape[1])
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.astype("<i2").tobytes())
    return path
