"""Transcribe a recorded file: any format ``av`` reads, one recognizer per
file, or one per channel for seat-microphone recordings."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import av
import numpy as np

from .engine import Engine
from .stream import SpeakerStream
from .text import CourtText
from .words import Result, Word

#: Seconds of audio a file's recognizers may have queued before reading waits.
FILE_QUEUE_SECONDS = 20.0
ENERGY_HOP = 0.01


class TranscribeError(Exception):
    """The file cannot be transcribed; the message says why."""


@dataclass(frozen=True, slots=True)
class AudioInfo:
    rate: int
    channels: int
    duration: float | None


def read_audio(path: Path) -> tuple[AudioInfo, Iterator[np.ndarray]]:
    """The file's first audio stream as int16 chunks shaped (n, channels)."""
    if not path.is_file():
        raise TranscribeError(f"{path}: no such file")
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as err:
        raise TranscribeError(f"{path}: not a readable audio or video file ({err})") from None
    if not container.streams.audio:
        container.close()
        raise TranscribeError(f"{path}: has no audio stream")
    stream = container.streams.audio[0]
    channels = stream.codec_context.channels or len(stream.layout.channels)
    rate = stream.codec_context.sample_rate or stream.rate
    duration = float(stream.duration * stream.time_base) if stream.duration and stream.time_base else (
        container.duration / 1e6 if container.duration else None)
    info = AudioInfo(rate, channels, duration)

    def chunks() -> Iterator[np.ndarray]:
        # Packed s16 at the file's own rate and layout: no mixing, no resampling here.
        resampler = av.AudioResampler(format="s16", layout=stream.layout, rate=rate)
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    yield out.to_ndarray().reshape(-1, channels)
            for out in resampler.resample(None):
                yield out.to_ndarray().reshape(-1, channels)
        except av.error.FFmpegError as err:
            raise TranscribeError(f"{path}: damaged audio ({err})") from None
        finally:
            container.close()

    return info, chunks()


class _Energy:
    """Per-channel loudness in 10 ms hops, to tell a speaker's own
    microphone from a neighbour's that picked up the same words."""

    def __init__(self, rate: int, channels: int) -> None:
        self.hop = max(1, int(rate * ENERGY_HOP))
        self._rest = np.zeros((0, channels))
        self._rows: list[np.ndarray] = []

    def add(self, chunk: np.ndarray) -> None:
        data = np.concatenate([self._rest, chunk.astype(np.float64)])
        whole = len(data) // self.hop * self.hop
        if whole:
            frames = data[:whole].reshape(-1, self.hop, data.shape[1])
            self._rows.append((frames ** 2).mean(axis=1))
        self._rest = data[whole:]

    def done(self) -> np.ndarray:
        return np.concatenate(self._rows) if self._rows else np.zeros((0, self._rest.shape[1]))


def _loudness(energy: np.ndarray, channel: int, word: Word) -> float:
    a, b = int(word.start / ENERGY_HOP), max(int(word.end / ENERGY_HOP), int(word.start / ENERGY_HOP) + 1)
    span = energy[a:b, channel]
    return float(span.mean()) if len(span) else 0.0


def _overlap(a: Word, b: Word) -> float:
    return max(0.0, min(a.end, b.end) - max(a.start, b.start)) / max(1e-6, min(a.end - a.start, b.end - b.start))


def drop_crosstalk(results: list[Result], energy: np.ndarray, text: CourtText) -> list[Result]:
    """Keep a word heard on several channels at once only on the channel
    where it is loudest; rebuild (or drop) the utterances that lose words."""
    words = [(r_i, w_i, int(r.speaker), w) for r_i, r in enumerate(results) for w_i, w in enumerate(r.words)]
    words.sort(key=lambda x: x[3].start)
    loud = {(r_i, w_i): _loudness(energy, ch, w) for r_i, w_i, ch, w in words}
    dropped: set[tuple[int, int]] = set()
    for k, (r_i, w_i, ch, w) in enumerate(words):
        for r_j, w_j, ch2, w2 in words[k + 1:]:
            if w2.start >= w.end:
                break
            if ch2 != ch and w2.word == w.word and _overlap(w, w2) > 0.5:
                quieter = (r_i, w_i) if loud[(r_i, w_i)] < loud[(r_j, w_j)] else (r_j, w_j)
                dropped.add(quieter)
    out = []
    for r_i, r in enumerate(results):
        kept = [w for w_i, w in enumerate(r.words) if (r_i, w_i) not in dropped]
        if len(kept) == len(r.words):
            out.append(r)
        elif kept:
            line, kept_words = text.final(kept)
            out.append(Result(r.speaker, line, tuple(kept_words)))
    return out


def transcribe(path: Path, engine: Engine, *, channels_as_speakers: bool = False,
               text: CourtText | None = None,
               progress: Callable[[float, float | None], None] | None = None) -> list[Result]:
    """Final results in time order. ``progress(seconds_read, duration)``."""
    info, chunks = read_audio(path)
    text = text or CourtText()
    results: list[Result] = []
    lock = threading.Lock()

    def collect(result: Result) -> None:
        if result.final:
            with lock:
                results.append(result)

    count = info.channels if channels_as_speakers else 1
    streams = [SpeakerStream(engine, str(c), collect, text=text, max_queue=FILE_QUEUE_SECONDS)
               for c in range(count)]
    energy = _Energy(info.rate, info.channels) if channels_as_speakers else None
    read = 0.0
    try:
        for chunk in chunks:
            if channels_as_speakers:
                assert energy is not None
                energy.add(chunk)
                for c, s in enumerate(streams):
                    s.feed(np.ascontiguousarray(chunk[:, c]), info.rate)
            else:
                streams[0].feed(chunk, info.rate, info.channels)
            read += len(chunk) / info.rate
            if progress:
                progress(read, info.duration)
    finally:
        for s in streams:
            s.close()
    if read == 0:
        raise TranscribeError(f"{path}: contains no audio")
    results.sort(key=lambda r: (r.start or 0.0, r.speaker))
    if energy is not None and count > 1:
        results = drop_crosstalk(results, energy.done(), text)
    return results
