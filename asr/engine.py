"""Speech engines behind one small interface; vosk is the one that ships.

An engine makes recognizers; a recognizer takes 16 kHz mono s16 PCM and
says when an utterance ended. Times are seconds since the recognizer
started, as vosk reports them.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any, Protocol

from .words import Word

SAMPLE_RATE = 16_000


class ModelError(Exception):
    """No usable model: the message says what is missing and how to fix it."""


class Recognizer(Protocol):
    def accept(self, pcm: bytes) -> bool:
        """Feed audio; True when an utterance has ended (``result`` is due)."""
    def partial(self) -> str: ...
    def result(self) -> list[Word]: ...
    def flush(self) -> list[Word]:
        """End of stream: whatever the last utterance holds."""
    # A recognizer may also have ``close()`` (a remote one's session), called
    # once its stream has ended.


class Engine(Protocol):
    name: str
    def recognizer(self) -> Recognizer: ...


def _words(raw: str) -> list[Word]:
    doc: dict[str, Any] = json.loads(raw)
    return [Word(w["word"], float(w["start"]), float(w["end"]), float(w.get("conf", 1.0)))
            for w in doc.get("result", ()) if w.get("word") and w["word"] != "[unk]"]


class VoskRecognizer:
    def __init__(self, model: Any) -> None:
        import vosk
        self._rec = vosk.KaldiRecognizer(model, SAMPLE_RATE)
        self._rec.SetWords(True)

    def accept(self, pcm: bytes) -> bool:
        return bool(self._rec.AcceptWaveform(pcm))

    def partial(self) -> str:
        return str(json.loads(self._rec.PartialResult()).get("partial", ""))

    def result(self) -> list[Word]:
        return _words(self._rec.Result())

    def flush(self) -> list[Word]:
        return _words(self._rec.FinalResult())


class VoskEngine:
    """One ``vosk.Model`` per model folder per process, shared by every
    recognizer (a model is hundreds of MB; recognizers are cheap)."""

    name = "vosk"
    _models: dict[Path, Any] = {}
    _lock = threading.Lock()

    def __init__(self, model_dir: Path) -> None:
        self.model_dir = model_dir.resolve()
        with self._lock:
            if self.model_dir not in self._models:
                self._models[self.model_dir] = self._load(self.model_dir)
        self.model = self._models[self.model_dir]

    @staticmethod
    def _load(model_dir: Path) -> Any:
        try:
            import vosk
        except ImportError as err:  # pragma: no cover - vosk is a dependency
            raise ModelError(f"the vosk package is not installed ({err})") from None
        vosk.SetLogLevel(-1)
        if not model_dir.is_dir():
            raise ModelError(f"no vosk model folder at {model_dir}: give the folder of an unpacked Chinese vosk "
                             "model with --model DIR, or fetch one with `courtroom models download small-cn` "
                             "(`courtroom models path` shows which model would be used)")
        try:
            return vosk.Model(str(model_dir))
        except Exception as err:
            raise ModelError(f"{model_dir} is not a usable vosk model ({err})") from None

    def recognizer(self) -> VoskRecognizer:
        return VoskRecognizer(self.model)
