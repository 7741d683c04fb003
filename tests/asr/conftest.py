"""ASR tests drive the real asr code path with the tone-language stand-in
for vosk (../shared/testing/tone_vosk): it has vosk's exact API."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[3] / "shared"
TONE_VOSK = SHARED / "testing" / "tone_vosk"
TONE_MODEL = SHARED / "testing" / "tone-model"
sys.path.insert(0, str(TONE_VOSK))
sys.path.insert(0, str(SHARED / "testing"))

if "vosk" in sys.modules and not getattr(sys.modules["vosk"], "TONE_SHIM", False):
    raise RuntimeError("the real vosk was imported before the tone shim could be put first")


@pytest.fixture(scope="session")
def engine():  # noqa: ANN201
    import vosk

    from asr.engine import VoskEngine
    assert vosk.TONE_SHIM
    return VoskEngine(TONE_MODEL)
