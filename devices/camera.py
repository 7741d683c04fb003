"""Cameras through av (FFmpeg): a V4L2 device on Linux (``/dev/video0``), a
video file, or a test pattern (``test``) where no camera exists.

A camera runs by itself, independent of the hearing's connection: it keeps
its latest picture (what "capture as evidence" files) and hands frames to
whichever track is published now, so rejoining the hearing does not reopen
the device. A camera that stops (unplugged) is reopened with backoff.
"""

from __future__ import annotations

import asyncio
import fractions
import logging
from typing import Any

import av
from aiortc import MediaStreamTrack
from aiortc.contrib.media import MediaPlayer
from aiortc.mediastreams import MediaStreamError

from .client import Backoff

log = logging.getLogger("courtroom.camera")

TEST_PATTERN = "test"
DEFAULT_SIZE = "1280x720"
FRAME_RATE = 15
#: JPEG quality of a captured photo (FFmpeg's qscale: 2 best … 31 worst).
JPEG_QSCALE = 3


def open_source(device: str, size: str | None) -> MediaPlayer:
    """The camera's frames: V4L2, a test pattern, or a file (looped)."""
    size = size or DEFAULT_SIZE
    if device == TEST_PATTERN:
        return MediaPlayer(f"testsrc=size={size}:rate={FRAME_RATE}", format="lavfi")
    if device.startswith("/dev/video"):
        return MediaPlayer(device, format="v4l2", options={"video_size": size, "framerate": str(FRAME_RATE)})
    return MediaPlayer(device, loop=True)


class Camera:
    def __init__(self, device: str, size: str | None = None) -> None:
        self.device = device
        self.size = size
        self.latest: av.VideoFrame | None = None
        self._track: CameraTrack | None = None
        self._task: asyncio.Task[None] | None = None
        self._backoff = Backoff(1.0, 30.0)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.ensure_future(self._run())

    def track(self) -> CameraTrack:
        """A fresh track for a new connection (the old one ends)."""
        self.start()
        if self._track is not None:
            self._track.stop()
        self._track = CameraTrack()
        return self._track

    async def _run(self) -> None:
        while True:
            try:
                player = open_source(self.device, self.size)
            except Exception as err:  # av/FFmpeg: no such device, busy
                wait = self._backoff.next()
                log.warning("waiting for the camera %s (%s); trying again in %.0f s", self.device, err, wait)
                await asyncio.sleep(wait)
                continue
            try:
                assert player.video is not None, f"{self.device} gives no video"
                while True:
                    frame = await player.video.recv()
                    self._backoff.reset()
                    self.latest = frame
                    if self._track is not None:
                        self._track.offer(frame)
            except (MediaStreamError, AssertionError) as err:
                wait = self._backoff.next()
                log.warning("the camera %s stopped (%s); trying again in %.0f s", self.device, err, wait)
                await asyncio.sleep(wait)
            finally:
                if player.video is not None:
                    player.video.stop()

    def photo(self) -> bytes:
        """The latest picture as a JPEG, or ``LookupError`` if none came yet."""
        frame = self.latest
        if frame is None:
            raise LookupError(f"the camera {self.device} has given no picture yet")
        codec = av.CodecContext.create("mjpeg", "w")
        codec.width, codec.height = frame.width, frame.height
        codec.pix_fmt = "yuvj420p"
        codec.time_base = fractions.Fraction(1, FRAME_RATE)
        codec.options = {"qscale": str(JPEG_QSCALE)}
        codec.flags |= 0x0002  # AV_CODEC_FLAG_QSCALE: use qscale
        codec.global_quality = JPEG_QSCALE * 118  # FF_QP2LAMBDA
        picture = frame.reformat(format="yuvj420p")
        picture.pts = 0
        packets = list(codec.encode(picture)) + list(codec.encode(None))
        return b"".join(bytes(p) for p in packets)

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        if self._track is not None:
            self._track.stop()


class CameraTrack(MediaStreamTrack):
    """The camera's newest frame for one connection; a slow sender skips
    frames rather than falling behind."""

    kind = "video"

    def __init__(self) -> None:
        super().__init__()
        self._queue: asyncio.Queue[Any] = asyncio.Queue(2)

    def offer(self, frame: av.VideoFrame) -> None:
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(frame)

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        frame = await self._queue.get()
        if frame is None:
            raise MediaStreamError
        return frame

    def stop(self) -> None:
        if self.readyState == "live":
            super().stop()
            self.offer(None)
