"""A participant's recordings read back on the hearing's clock.

The hub records each participant as it heard them (``media.recording``):
a new file whenever they are heard again, each named with where it starts
on the hearing's clock. ``Pictures`` gives the picture a participant showed
at any time, ``Sound`` their audio for any stretch, both reading forward
only (a composition walks the hearing from start to end) and never holding
more than a frame or a chunk in memory, however long the hearing.
"""

from __future__ import annotations

from typing import Iterator, Sequence

import av
import numpy as np

from ..media.recording import PRE_SKIP, SAMPLE_RATE, Recording, ogg_packets, opus_samples

#: A picture is shown this long past a file's last frame (a dropped frame
#: or two at the end), then the participant's tile is empty.
HOLD = 0.5


class Pictures:
    """The frames of one participant's video recordings, in order."""

    def __init__(self, recordings: Sequence[Recording]) -> None:
        self._files = sorted((r for r in recordings if r.kind == "video"), key=lambda r: r.start)
        self._frames = self._all()
        self._current: tuple[float, av.VideoFrame] | None = None
        self._next = next(self._frames, None)

    def _all(self) -> Iterator[tuple[float, av.VideoFrame]]:
        for rec in self._files:
            try:
                with av.open(str(rec.path)) as container:
                    stream = container.streams.video[0]
                    stream.thread_type = "AUTO"
                    for frame in container.decode(stream):
                        if frame.pts is not None:
                            yield rec.start + float(frame.pts * stream.time_base), frame
            except (av.FFmpegError, IndexError):
                continue  # a file cut short by a crash ends where it was cut

    def at(self, t: float) -> av.VideoFrame | None:
        """The frame showing at hearing time ``t`` (``t`` never decreasing
        between calls), or None while this participant shows nothing."""
        while self._next is not None and self._next[0] <= t:
            self._current, self._next = self._next, next(self._frames, None)
        if self._current is None:
            return None
        if self._next is None or self._next[0] - self._current[0] > 2 * HOLD:
            if t - self._current[0] > HOLD:
                return None  # between files, or after the last
        return self._current[1]


class Samples:
    """Audio on the hearing clock, taken forward a stretch at a time from
    decoded chunks (``_next``), never holding more than a chunk."""

    def __init__(self) -> None:
        #: Decoded samples not yet taken, and the hearing sample they start at.
        self._buffer = np.zeros(0, np.int16)
        self._at = 0

    def _next(self) -> tuple[int, np.ndarray] | None:
        """The next chunk and where it starts; None when there is no more
        (for now)."""
        raise NotImplementedError

    def take(self, start: int, count: int) -> np.ndarray:
        """Samples ``start`` to ``start + count`` of the hearing (``start``
        never decreasing), silence where nothing was recorded."""
        out = np.zeros(count, np.int16)
        end = start + count
        while True:
            have_end = self._at + len(self._buffer)
            lo, hi = max(start, self._at), min(end, have_end)
            if hi > lo:
                out[lo - start:hi - start] = self._buffer[lo - self._at:hi - self._at]
            if have_end >= end:
                break
            chunk = self._next()
            if chunk is None:
                break
            self._at, self._buffer = chunk
        # Keep only what a later call can still ask for.
        if self._at < end:
            self._buffer, self._at = self._buffer[max(0, end - self._at):], max(self._at, end)
        return out


class Sound(Samples):
    """One participant's audio as 48 kHz mono samples on the hearing clock."""

    def __init__(self, recordings: Sequence[Recording]) -> None:
        super().__init__()
        self._files = sorted((r for r in recordings if r.kind == "audio"), key=lambda r: r.start)
        self._chunks = self._all()
        self._done = False

    def _next(self) -> tuple[int, np.ndarray] | None:
        chunk = None if self._done else next(self._chunks, None)
        self._done = chunk is None
        return chunk

    def _all(self) -> Iterator[tuple[int, np.ndarray]]:
        for rec in self._files:
            decoder = av.CodecContext.create("libopus", "r")
            resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
            at, skip = round(rec.start * SAMPLE_RATE), PRE_SKIP
            for k, data in enumerate(ogg_packets(rec.path.read_bytes())):
                if k < 2:
                    continue  # OpusHead, OpusTags
                try:
                    frames = decoder.decode(av.Packet(data))
                except av.FFmpegError:
                    continue
                for frame in frames:
                    for out in resampler.resample(frame):
                        samples = out.to_ndarray().reshape(-1)
                        if skip:
                            samples, skip = samples[skip:], max(0, skip - len(samples))
                        if len(samples):
                            yield at, samples
                            at += len(samples)


def recorded_until(recordings: Sequence[Recording]) -> float:
    """Where the last recording ends on the hearing's clock: the length of
    the composed video. A file cut short by a crash counts to its cut."""
    end = 0.0
    for rec in recordings:
        if rec.kind == "audio":
            samples = sum(opus_samples(p) for k, p in enumerate(ogg_packets(rec.path.read_bytes())) if k >= 2)
            length = max(0, samples - PRE_SKIP) / SAMPLE_RATE
        else:
            length = 0.0
            try:
                with av.open(str(rec.path)) as container:
                    stream = container.streams.video[0]
                    for packet in container.demux(stream):
                        if packet.pts is not None:
                            length = max(length, float((packet.pts + (packet.duration or 0)) * stream.time_base))
            except (av.FFmpegError, IndexError):
                pass
        end = max(end, rec.start + length)
    return end
