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


class MicrophoneArray:
    """An input device's channels, each its own track: the seat microphones
    of a courtroom on one multi-channel audio interface, read by one
    PortAudio stream so that the seats stay sample-aligned (what crosstalk
    arbitration compares). ``tracks[i]`` is channel ``i`` (0-based) as 48
    kHz mono s16 frames of 20 ms."""

    def __init__(self, device: str | int | None = None, channels: int = 1) -> None:
        import sounddevice

        self._loop = asyncio.get_running_loop()
        self.device = device
        self.tracks = [ChannelTrack(self) for _ in range(channels)]
        self._stream = sounddevice.InputStream(samplerate=RATE, blocksize=BLOCK, channels=channels, dtype="int16",
                                               device=device, callback=self._callback,
                                               finished_callback=self._finished)
        self._stream.start()

    def _callback(self, block: np.ndarray, frames: int, time: Any, status: Any) -> None:
        self._loop.call_soon_threadsafe(self._deliver, block.copy())

    def _deliver(self, block: np.ndarray) -> None:
        for i, track in enumerate(self.tracks):
            track.put(block[:, i])

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


class ChannelTrack(MediaStreamTrack):
    """One channel of a ``MicrophoneArray`` as an aiortc audio track."""

    kind = "audio"

    def __init__(self, array: MicrophoneArray) -> None:
        super().__init__()
        self.array = array
        self._queue: asyncio.Queue[np.ndarray | BaseException] = asyncio.Queue(QUEUE_BLOCKS)
        self._pts = 0

    def put(self, item: np.ndarray | BaseException) -> None:
        if self._queue.full():
            self._queue.get_nowait()  # drop the oldest block: stay real time
        self._queue.put_nowait(item)

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        item = await self._queue.get()
        if isinstance(item, BaseException):
            MediaStreamTrack.stop(self)
            raise item
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(item).reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = RATE
        frame.pts = self._pts
        frame.time_base = fractions.Fraction(1, RATE)
        self._pts += len(item)
        return frame

    def stop(self) -> None:
        """Stopping a channel stops the whole device (one stream reads them all)."""
        self.array.stop()


def microphone(device: str | int | None = None) -> ChannelTrack:
    """The input device's first channel (a terminal's microphone)."""
    return MicrophoneArray(device, 1).tracks[0]


class Loudspeaker:
    """Plays every track given to ``play`` on the output device, mixed."""

    def __init__(self, device: str | int | None = None, channels: int = 2) -> None:
        import sounddevice

        self.channels = channels
        self._sources: dict[int, list[np.ndarray]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._stream = sounddevice.OutputStream(samplerate=RATE, blocksize=BLOCK, channels=channels,
                                                dtype="int16", device=device, callback=self._callback)
        self._stream.start()

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
