"""A participant's recordings read while the hub is still writing them.

The live stream is composed from the same files as the recording for the
case file (``media.recording``), a fixed delay behind the courtroom, so
whatever it needs is already on disk when it is needed: video reaches the
file a cluster (a second) at a time, audio a page (half a second) at a
time. Reading them costs the hub nothing.

``FollowedPictures`` decodes one participant's video on a thread of its
own; asked for the picture at a time, it waits until its decoder has
passed that time, or has caught up with the file (the participant sent
nothing more: no picture). ``FollowedSound`` reads their audio pages as
they come. Both start at the stream's start, not at the files' starts:
video is decoded from the last keyframe before it (the hub asks every
camera for one when the stream starts), audio from a few packets before.
"""

from __future__ import annotations

import io
import logging
import threading
import time
from pathlib import Path
from typing import Callable

import av
import numpy as np

from ..media.recording import FORMATS, PRE_SKIP, SAMPLE_RATE, Recording, opus_samples
from ..composition.sources import HOLD, Samples

log = logging.getLogger(__name__)

#: Seconds between looks at a file that has not grown.
POLL = 0.05
#: A file that has not grown for this long, with a later one begun, is done.
DONE_AFTER = 2.0
#: Compressed video kept from the last keyframe while skipping to the start.
MAX_HELD = 32 * 1024 * 1024
#: Audio packets decoded before the start, to settle the decoder.
PRIME = 10


class GrowingFile(io.RawIOBase):
    """A file being written, read as a stream that waits for more rather
    than ending: it ends when ``done()`` says the writer has finished (and
    everything written has been read), or when ``stopped`` is set."""

    def __init__(self, path: Path, done: Callable[[], bool], stopped: threading.Event) -> None:
        self._file = open(path, "rb")
        self._done = done
        self._stopped = stopped
        #: Whether the last read found nothing new (the reader is waiting).
        self.waiting = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._stopped.is_set():
            n = self._file.readinto(buffer)
            if n:
                self.waiting = False
                return n
            if self._done():
                n = self._file.readinto(buffer)  # the last bytes before it finished
                return n or 0
            self.waiting = True
            self._stopped.wait(POLL)
        return 0

    def close(self) -> None:
        self._file.close()
        super().close()


class FollowedPictures:
    """One participant's pictures from ``start`` (hearing clock) on."""

    def __init__(self, start: float, files: Callable[[], list[Recording]]) -> None:
        """``files``: the participant's video recordings so far (looked at
        again whenever one is finished)."""
        self.start = start
        self._files = files
        self._stopped = threading.Event()
        self._cond = threading.Condition()
        #: Decoded, not yet shown: (hearing time, frame); at most a frame
        #: or two beyond the time last asked for.
        self._queue: list[tuple[float, av.VideoFrame]] = []
        self._asked = start
        self._current: tuple[float, av.VideoFrame] | None = None
        self._file: GrowingFile | None = None
        #: No file to read (set by the decoding thread once it has looked).
        self._no_file = False
        self._thread = threading.Thread(target=self._run, name="live-pictures", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stopped.set()
        with self._cond:
            self._cond.notify_all()

    def at(self, t: float) -> av.VideoFrame | None:
        """The picture showing at ``t`` (never decreasing), or None."""
        with self._cond:
            self._asked = t
            self._cond.notify_all()
            while not self._stopped.is_set():
                while self._queue and self._queue[0][0] <= t:
                    self._current = self._queue.pop(0)
                    self._cond.notify_all()
                if self._queue or self._idle():
                    break
                self._cond.wait(0.5)
        if self._current is None or t - self._current[0] > HOLD and not self._queue_near(t):
            return None
        return self._current[1]

    def _queue_near(self, t: float) -> bool:
        return bool(self._queue) and self._queue[0][0] - t <= 2 * HOLD

    def _idle(self) -> bool:
        """The decoder has caught up with what is written (waiting for the
        file to grow, or for a new file)."""
        return self._no_file or (self._file is not None and self._file.waiting)

    def _run(self) -> None:
        seen: set[Path] = set()
        while not self._stopped.is_set():
            pending = [r for r in self._files() if r.path not in seen and r.kind == "video"]
            self._no_file = not pending
            if not pending:
                self._file = None
                with self._cond:
                    self._cond.notify_all()
                self._stopped.wait(0.5)
                continue
            rec = min(pending, key=lambda r: r.start)
            seen.add(rec.path)
            try:
                self._follow(rec)
            except (av.FFmpegError, OSError, ValueError) as err:
                log.info("live: %s read up to where it was cut (%s)", rec.path.name, err)
            finally:
                if self._file is not None:
                    self._file.close()

    def _later_than(self, rec: Recording) -> Callable[[], bool]:
        last = [time.monotonic(), rec.path.stat().st_size]

        def done() -> bool:
            size = rec.path.stat().st_size
            if size != last[1]:
                last[:] = [time.monotonic(), size]
                return False
            return time.monotonic() - last[0] > DONE_AFTER and any(
                r.start > rec.start and r.kind == rec.kind for r in self._files())
        return done

    def _follow(self, rec: Recording) -> None:
        self._file = GrowingFile(rec.path, self._later_than(rec), self._stopped)
        with av.open(self._file, format=FORMATS[rec.path.suffix[1:]],
                     options={"probesize": "32", "analyzeduration": "0"}, buffer_size=4096) as container:
            stream = container.streams.video[0]
            decoder = av.CodecContext.create(stream.codec_context.name, "r")
            held: list[av.Packet] = []
            held_bytes = 0
            started = False
            for packet in container.demux(stream):
                if packet.pts is None or packet.size == 0:
                    continue
                t = rec.start + float(packet.pts * stream.time_base)
                if not started:
                    # Keep what decoding from the last keyframe needs.
                    if packet.is_keyframe:
                        held, held_bytes = [], 0
                    if held or packet.is_keyframe:
                        held.append(packet)
                        held_bytes += packet.size
                    if held_bytes > MAX_HELD:
                        held, held_bytes = [], 0  # wait for the next keyframe
                    if t < self.start - 1.0 / 30 or not held:
                        continue
                    started, todo = True, held
                else:
                    todo = [packet]
                for p in todo:
                    try:
                        frames = decoder.decode(p)
                    except av.FFmpegError:
                        continue  # a damaged frame: the next ones may still decode
                    for frame in frames:
                        ft = rec.start + float(p.pts * stream.time_base)
                        if ft >= self.start - HOLD:
                            self._put(ft, frame)
                if self._stopped.is_set():
                    return

    def _put(self, t: float, frame: av.VideoFrame) -> None:
        with self._cond:
            # Never more than a little ahead of what is being composed.
            while self._queue and self._queue[-1][0] > self._asked + 2 * HOLD and not self._stopped.is_set():
                self._cond.wait(0.5)
            self._queue.append((t, frame))
            self._cond.notify_all()


class FollowedSound(Samples):
    """One participant's audio from ``start`` on, as 48 kHz mono samples
    on the hearing clock; what is not (yet) written is silence."""

    def __init__(self, start: float, files: Callable[[], list[Recording]]) -> None:
        super().__init__()
        self.start = start
        self._files = files
        self._done: set[Path] = set()
        self._reader: _OggReader | None = None
        self._at = round(start * SAMPLE_RATE)

    def _next(self) -> tuple[int, np.ndarray] | None:
        """The next decoded chunk, from this file or a later one; None if
        nothing more is written yet."""
        while True:
            if self._reader is None:
                pending = sorted((r for r in self._files() if r.kind == "audio" and r.path not in self._done),
                                 key=lambda r: r.start)
                if not pending:
                    return None
                self._reader = _OggReader(pending[0], self.start)
                self._done.add(pending[0].path)
            chunk = self._reader.next()
            if chunk is not None:
                return chunk
            later = any(r.kind == "audio" and r.start > self._reader.rec.start for r in self._files())
            if not later:
                return None  # this file may still grow
            self._reader.close()
            self._reader = None


class _OggReader:
    """Opus packets from the complete pages of a growing Ogg file, decoded
    from a few before ``start`` on."""

    def __init__(self, rec: Recording, start: float) -> None:
        self.rec = rec
        self._file = open(rec.path, "rb")
        self._pending = b""
        self._packets: list[bytes] = []
        self._seen = 0
        #: Where the next packet's first sample falls (the pre-skip samples
        #: come before the file's start).
        self._at = round(rec.start * SAMPLE_RATE) - PRE_SKIP
        self._skip_until = round(start * SAMPLE_RATE)
        self._recent: list[bytes] = []
        self._decoder = av.CodecContext.create("libopus", "r")
        self._resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)

    def close(self) -> None:
        self._file.close()

    def next(self) -> tuple[int, np.ndarray] | None:
        """The next packet's samples and where they start; None until more
        is written."""
        if not self._packets:
            self._read_pages()
        while self._packets:
            packet = self._packets.pop(0)
            at, self._at = self._at, self._at + opus_samples(packet)
            if self._at <= self._skip_until:
                self._recent = (self._recent + [packet])[-PRIME:]
                continue
            for earlier in self._recent:  # settles the decoder; before the start
                self._decode(earlier)
            self._recent = []
            samples = self._decode(packet)
            if samples is not None:
                return at, samples
        return None

    def _decode(self, packet: bytes) -> np.ndarray | None:
        try:
            frames = self._decoder.decode(av.Packet(packet))
        except av.FFmpegError:
            return None
        samples = [out.to_ndarray().reshape(-1) for f in frames for out in self._resampler.resample(f)]
        return np.concatenate(samples) if samples else None

    def _read_pages(self) -> None:
        """Every packet of the pages written whole since the last look
        (this module's writer never continues a packet across pages)."""
        data = self._pending + self._file.read()
        at = 0
        while at + 27 <= len(data) and data[at:at + 4] == b"OggS":
            count = data[at + 26]
            lacing = data[at + 27:at + 27 + count]
            body = at + 27 + count
            if len(lacing) < count or body + sum(lacing) > len(data):
                break
            packet = b""
            for value in lacing:
                packet += data[body:body + value]
                body += value
                if value < 255:
                    self._seen += 1
                    if self._seen > 2:  # OpusHead, OpusTags
                        self._packets.append(packet)
                    packet = b""
            at = body
        self._pending = data[at:]
