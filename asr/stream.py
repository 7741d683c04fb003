"""One speaker's audio stream → partial and final results.

``feed`` never blocks a real-time caller (an event loop): it only queues the
audio. A worker thread per stream resamples to 16 kHz mono s16, runs the
engine and calls ``on_result`` from that thread. When decoding falls behind
real time the stream sheds partials (never finals) and reports its lag.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass
from typing import Callable

import av
import numpy as np

from .endpointing import Endpointer
from .engine import SAMPLE_RATE, Engine
from .text import CourtText, with_offset
from .words import Result, Word

#: Audio is handed to the engine in pieces this long, so that an endpoint
#: inside a large chunk is seen where it happens; live, with our own
#: endpointer (see ``endpointing``), in pieces short enough that it decides
#: within 20 ms.
PIECE_SECONDS = 0.1
LIVE_PIECE_SECONDS = 0.02
_LAYOUTS = {1: "mono", 2: "stereo"}


@dataclass(frozen=True, slots=True)
class _Chunk:
    samples: np.ndarray  # int16, shaped (n, channels)
    rate: int


class Resampler:
    """Any rate and channel count → 16 kHz mono s16 bytes, keeping state
    across chunks (no clicks or lost samples at chunk edges)."""

    def __init__(self) -> None:
        self._key: tuple[int, int] | None = None
        self._resampler: av.AudioResampler | None = None

    def __call__(self, samples: np.ndarray, rate: int) -> bytes:
        channels = samples.shape[1]
        if rate == SAMPLE_RATE and channels == 1:
            return samples.astype("<i2", copy=False).tobytes()
        out = b""
        if self._key != (rate, channels):
            out = self.flush()
            self._key = (rate, channels)
            self._resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        layout = _LAYOUTS.get(channels, f"{channels}c")
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples).reshape(1, -1),
                                           format="s16", layout=layout)
        frame.sample_rate = rate
        assert self._resampler is not None
        return out + b"".join(f.to_ndarray().tobytes() for f in self._resampler.resample(frame))

    def flush(self) -> bytes:
        if self._resampler is None:
            return b""
        out = b"".join(f.to_ndarray().tobytes() for f in self._resampler.resample(None))
        self._resampler, self._key = None, None
        return out


def as_int16(samples: np.ndarray | bytes, channels: int) -> np.ndarray:
    """Interleaved s16 bytes, or an int16/float array, as int16 (n, channels)."""
    if isinstance(samples, (bytes, bytearray, memoryview)):
        if len(samples) % (2 * channels):
            raise ValueError(f"PCM length {len(samples)} is not a whole number of {channels}-channel s16 frames")
        array = np.frombuffer(samples, dtype="<i2")
    else:
        array = np.asarray(samples)
        if array.dtype.kind == "f":
            array = np.clip(np.round(array * 32767), -32768, 32767).astype(np.int16)
        elif array.dtype != np.int16:
            raise ValueError(f"samples must be int16 or float, not {array.dtype}")
    if array.ndim == 1:
        if len(array) % channels:
            raise ValueError("sample count is not a multiple of the channel count")
        return array.reshape(-1, channels)
    if array.ndim != 2 or array.shape[1] != channels:
        raise ValueError(f"samples must be shaped (n, {channels})")
    return array


class SpeakerStream:
    def __init__(self, engine: Engine, speaker: str, on_result: Callable[[Result], None], *,
                 text: CourtText | None = None, partial_interval: float = 0.3,
                 max_lag: float = 0.5, offset: float = 0.0, max_queue: float | None = None,
                 endpointer: Endpointer | None = None) -> None:
        """``partial_interval``: seconds of audio between partials at most;
        ``max_lag``: seconds queued beyond which partials are shed;
        ``offset``: stream-clock time of the first sample; ``max_queue``:
        make ``feed`` block above this many queued seconds (files only);
        ``endpointer``: ends utterances sooner than the engine where the
        pause is clear (live speech; files keep the engine's endpoints)."""
        self.speaker = speaker
        self.on_result = on_result
        self.text = text or CourtText()
        self.partial_interval = partial_interval
        self.max_lag = max_lag
        self.offset = offset
        self.max_queue = max_queue
        self.partials_shed = 0
        self.max_lag_seen = 0.0
        self.error: BaseException | None = None
        self._recognizer = engine.recognizer()
        self.endpointer = endpointer
        self._piece_bytes = int(SAMPLE_RATE * (LIVE_PIECE_SECONDS if endpointer else PIECE_SECONDS)) * 2
        self._resample = Resampler()
        self._queue: queue.SimpleQueue[_Chunk | None] = queue.SimpleQueue()
        self._queued = 0.0  # seconds of audio fed but not yet decoded
        self._room = threading.Condition()
        self._decoded = 0  # bytes of 16 kHz audio given to the engine
        self._last_partial_at = -1.0
        self._last_partial = ""
        self._thread = threading.Thread(target=self._run, name=f"asr-{speaker}", daemon=True)
        self._thread.start()

    @property
    def lag(self) -> float:
        """Seconds of audio fed but not yet decoded."""
        return self._queued

    @property
    def decoded_seconds(self) -> float:
        return self._decoded / 2 / SAMPLE_RATE

    def feed(self, samples: np.ndarray | bytes, rate: int, channels: int = 1) -> None:
        if self.error is not None:
            raise RuntimeError(f"speech recognition for {self.speaker} failed: {self.error}")
        chunk = _Chunk(as_int16(samples, channels), rate)
        seconds = len(chunk.samples) / rate
        with self._room:
            if self.max_queue is not None:
                self._room.wait_for(lambda: self._queued < self.max_queue or self.error is not None)
            self._queued += seconds
            self.max_lag_seen = max(self.max_lag_seen, self._queued)
        self._queue.put(chunk)

    def close(self, timeout: float | None = None) -> None:
        """Decode what is queued, emit the last final, stop the thread."""
        self._queue.put(None)
        self._thread.join(timeout)
        if self.error is not None:
            raise RuntimeError(f"speech recognition for {self.speaker} failed: {self.error}")

    # -- the worker thread ------------------------------------------------------

    def _run(self) -> None:
        try:
            while True:
                chunks = self._take()
                end = chunks[-1] is None
                audio = [c for c in chunks if c is not None]
                # Consecutive chunks of one format are resampled in one call.
                while audio:
                    n = next((k for k, c in enumerate(audio)
                              if (c.rate, c.samples.shape[1]) != (audio[0].rate, audio[0].samples.shape[1])),
                             len(audio))
                    run, audio = audio[:n], audio[n:]
                    samples = run[0].samples if n == 1 else np.concatenate([c.samples for c in run])
                    self._decode(self._resample(samples, run[0].rate))
                    with self._room:
                        self._queued = max(0.0, self._queued - len(samples) / run[0].rate)
                        self._room.notify_all()
                if end:
                    self._decode(self._resample.flush())
                    self._final(self._recognizer.flush())
                    return
        except BaseException as err:  # reported to the feeder; never silent
            self.error = err
            with self._room:
                self._room.notify_all()
        finally:
            close = getattr(self._recognizer, "close", None)  # a remote recognizer's session
            if close is not None:
                close()

    def _take(self) -> list[_Chunk | None]:
        """The next chunk and every one already waiting behind it."""
        chunks = [self._queue.get()]
        while chunks[-1] is not None:
            try:
                chunks.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return chunks

    def _decode(self, pcm: bytes) -> None:
        for at in range(0, len(pcm), self._piece_bytes):
            piece = pcm[at:at + self._piece_bytes]
            self._decoded += len(piece)
            ep = self.endpointer
            if ep is not None:
                ep.observe(piece)
            if self._recognizer.accept(piece):
                self._final(self._recognizer.result())
                if ep is not None:
                    ep.ended(early=False)
            elif ep is not None and ep.pausing and ep.due(self._recognizer.partial()):
                self._final(self._recognizer.flush())
                ep.ended(early=True)
            else:
                self._maybe_partial()

    def _maybe_partial(self) -> None:
        now = self.decoded_seconds
        if now - self._last_partial_at < self.partial_interval:
            return
        if self._queued > self.max_lag:
            self.partials_shed += 1
            return
        self._last_partial_at = now
        raw = self._recognizer.partial()
        if raw != self._last_partial:
            self._last_partial = raw
            self.on_result(Result(self.speaker, self.text.partial(raw), (), final=False))

    def _final(self, words: list[Word]) -> None:
        self._last_partial = ""
        text, out = self.text.final(words)
        if text:
            self.on_result(Result(self.speaker, text, tuple(with_offset(out, self.offset)), final=True))
