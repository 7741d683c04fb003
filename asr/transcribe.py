"""Transcribe a recorded file: any format ``av`` reads, one recognizer per
file, or one per channel for seat-microphone recordings."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import av
import numpy as np

from .crosstalk import ChannelEnergy, drop_crosstalk
from .engine import Engine
from .stream import SpeakerStream
from .text import CourtText
from .words import Result

#: Seconds of audio a file's recognizers may have queued before reading waits.
FILE_QUEUE_SECONDS = 20.0


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
    energy = ChannelEnergy(info.rate, info.channels) if channels_as_speakers else None
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
