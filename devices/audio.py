"""Sound devices through PortAudio (sounddevice): a microphone, or each
channel of a multi-channel interface, as an aiortc audio track, and a
loudspeaker that plays the tracks received.

PortAudio calls back on its own thread; the microphone hands each block to
the event loop, the loudspeaker mixes whatever the received tracks have
queued. A device that fails (unplugged) ends its stream with an error the
owner sees (``failed``) and reopens with backoff.
"""

from __future__ import annotations

import asyncio
import fractions
import logging
from typing import Any

import av
import numpy as np
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

log = logging.getLogger(__name__)

RATE = 48_000
#: 20 ms blocks, as Opus frames are.
BLOCK = RATE // 50
#: Blocks a slow consumer may fall behind before the oldest are dropped.
QUEUE_BLOCKS = 50
TIME_BASE = fractions.Fraction(1, RATE)


class MicrophoneArray:
    """An input device's channels, each its own track: the seat microphones
    of a courtroom on one multi-channel audio interface, read by one
    PortAudio stream so that the seats stay sample-aligned (what crosstalk
    arbitration compares). ``tracks[i]`` is channel ``i`` (0-based) in 20
    ms pieces, each stamped with its block's place in the device's stream:
    a piece dropped on one channel (a consumer too slow) leaves a gap in
    that channel's timestamps, never a shift against the others.

    ``encoded``: the tracks give Opus packets (mono, speech-tuned, 32 kb/s)
    that aiortc sends as they are, rather than raw frames it would encode
    as 96 kb/s stereo: a third less CPU per seat and half the bandwidth."""

    def __init__(self, device: str | int | None = None, channels: int = 1, encoded: bool = False) -> None:
        import sounddevice

        self._loop = asyncio.get_running_loop()
        self.device = device
        self.tracks = [ChannelTrack(self, encoded) for _ in range(channels)]
        self._blocks = 0
        self._stream = sounddevice.InputStream(samplerate=RATE, blocksize=BLOCK, channels=channels, dtype="int16",
                                               device=device, callback=self._callback,
                                               finished_callback=self._finished)
        self._stream.start()

    def _callback(self, block: np.ndarray, frames: int, time: Any, status: Any) -> None:
        self._loop.call_soon_threadsafe(self._deliver, block.copy())

    def _deliver(self, block: np.ndarray) -> None:
        pts = self._blocks * BLOCK
        self._blocks += 1
        for i, track in enumerate(self.tracks):
            track.put((pts, block[:, i]))

    def _finished(self) -> None:
        self._loop.call_soon_threadsafe(self._fail)

    def _fail(self) -> None:
        for track in self.tracks:
            if track.readyState == "live":
                track.put(MediaStreamError("the microphone stopped"))

    @property
    def live(self) -> bool:
        """Whether every channel still delivers (the device has not gone)."""
        return all(t.readyState == "live" for t in self.tracks)

    def stop(self) -> None:
        for track in self.tracks:
            if track.readyState == "live":
                MediaStreamTrack.stop(track)
        try:
            self._stream.stop()
            self._stream.close()
        except Exception:  # the device is gone already
            pass


def opus_encoder() -> Any:
    """Opus for one seat's speech: mono, 20 ms, 32 kb/s, tuned for voice, at a low
    encoder complexity (1 of 10: half the CPU of 5; eight seats share one
    small PC, and at 32 kb/s speech stays clear)."""
    codec = av.CodecContext.create("libopus", "w")
    codec.sample_rate = RATE
    codec.layout = "mono"
    codec.format = "s16"
    codec.bit_rate = 32_000
    codec.time_base = TIME_BASE
    codec.options = {"application": "voip", "frame_duration": "20", "compression_level": "1"}
    return codec


class ChannelTrack(MediaStreamTrack):
    """One channel of a ``MicrophoneArray`` as an aiortc audio track."""

    kind = "audio"

    def __init__(self, array: MicrophoneArray, encoded: bool = False) -> None:
        super().__init__()
        self.array = array
        self._queue: asyncio.Queue[tuple[int, np.ndarray] | BaseException] = asyncio.Queue(QUEUE_BLOCKS)
        self._encoder = opus_encoder() if encoded else None
        self._pending: list[av.Packet] = []

    def put(self, item: tuple[int, np.ndarray] | BaseException) -> None:
        if self._queue.full():
            self._queue.get_nowait()  # drop the oldest block: stay real time
        self._queue.put_nowait(item)

    async def recv(self) -> av.AudioFrame | av.Packet:
        while not self._pending:
            if self.readyState != "live":
                raise MediaStreamError
            item = await self._queue.get()
            if isinstance(item, BaseException):
                MediaStreamTrack.stop(self)
                raise item
            pts, samples = item
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples).reshape(1, -1), format="s16",
                                               layout="mono")
            frame.sample_rate = RATE
            frame.pts = pts
            frame.time_base = TIME_BASE
            if self._encoder is None:
                return frame
            for packet in self._encoder.encode(frame):
                # One packet per 20 ms frame; stamped with its block's place
                # (the encoder's own stamps lead by its look-ahead).
                packet.pts = pts
                packet.time_base = TIME_BASE
                self._pending.append(packet)
        return self._pending.pop(0)

    def stop(self) -> None:
        """Stopping a channel stops the whole device (one stream reads them all)."""
        self.array.stop()


class Loudspeaker:
    """Plays every track given to ``play`` on the output device, mixed."""

    def __init__(self, device: str | int | None = None, channels: int = 2) -> None:
        import sounddevice

        self.channels = channels
        self._sources: dict[int, list[np.ndarray]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        #: Set when the device stopped (unplugged): open a new one.
        self.failed = False
        self._stream = sounddevice.OutputStream(samplerate=RATE, blocksize=BLOCK, channels=channels,
                                                dtype="int16", device=device, callback=self._callback,
                                                finished_callback=self._finished)
        self._stream.start()

    def _finished(self) -> None:
        self.failed = True

    def play(self, track: MediaStreamTrack) -> None:
        task = asyncio.ensure_future(self._pump(track))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _pump(self, track: MediaStreamTrack) -> None:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
        queue: list[np.ndarray] = []
        key = id(queue)
        self._sources[key] = queue
        try:
            while True:
                frame = await track.recv()
                for out in resampler.resample(frame):
                    queue.append(out.to_ndarray().reshape(-1))
                del queue[:-QUEUE_BLOCKS]  # never more than a second behind
        except MediaStreamError:
            pass
        finally:
            self._sources.pop(key, None)

    def _callback(self, out: np.ndarray, frames: int, time: Any, status: Any) -> None:
        mix = np.zeros(frames, np.int32)
        for queue in list(self._sources.values()):
            need, got = frames, []
            while need and queue:
                head = queue[0]
                take = head[:need]
                got.append(take)
                need -= len(take)
                if len(take) == len(head):
                    queue.pop(0)
                else:
                    queue[0] = head[len(take):]
            if got:
                samples = np.concatenate(got)
                mix[:len(samples)] += samples
        out[:] = np.clip(mix, -32768, 32767).astype(np.int16)[:, None]

    def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        try:
            self._stream.stop()
            self._stream.close()
        except Exception:
            pass
