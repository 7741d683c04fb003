"""Encoded media from one publisher to many subscribers, without decoding.

aiortc's receiver reassembles RTP into encoded frames and hands each to a
decoder thread through a queue. ``tap`` puts a ``Tap`` in that queue's
place, so every encoded frame reaches a ``Publication`` on the event loop;
subscribers get it through a ``ForwardedTrack`` whose ``recv()`` returns an
``av.Packet``, which aiortc's sender packetizes without encoding. Only audio
that is being transcribed still goes on to the decoder thread. A
publisher's silence is recorded and transcribed but not forwarded
(``silence``).

Keyframes: a subscriber that starts, overflows or reports picture loss
(PLI/FIR) waits for the next keyframe and asks the publisher for one, at
most once per ``KEYFRAME_INTERVAL`` per publication.
"""

from __future__ import annotations

import asyncio
import fractions
import logging
import queue
import time
from typing import Any, Callable

import av
from aiortc import MediaStreamTrack, RTCRtpReceiver
from aiortc.codecs import get_decoder, get_encoder
from aiortc.codecs.h264 import H264Encoder
from aiortc.codecs.opus import OpusEncoder
from aiortc.codecs.vpx import Vp8Encoder
from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.mediastreams import MediaStreamError
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import RtpPacket

from .recording import TrackRecorder
from .silence import SilenceGate

log = logging.getLogger(__name__)

KEYFRAME_INTERVAL = 0.5
#: Encoded frames queued per subscriber: about 0.5 s of video, 1 s of audio.
QUEUE_FRAMES = {"video": 16, "audio": 50}
CLOCK_RATES = {"audio": 48_000, "video": 90_000}
#: The RTP clock as a time base, made once: a Fraction per frame and
#: subscriber showed in the hub's profile.
TIME_BASES = {kind: fractions.Fraction(1, rate) for kind, rate in CLOCK_RATES.items()}


def is_keyframe(codec: RTCRtpCodecParameters, data: bytes) -> bool:
    """Whether a decoder can start at this encoded frame."""
    name = codec.mimeType.lower()
    if name == "video/vp8":
        return bool(data) and not data[0] & 0x01  # RFC 6386 9.1: P bit clear
    if name == "video/h264":
        # Annex B as aiortc depayloads it: look for an IDR slice or SPS.
        at = data.find(b"\x00\x00\x01")
        while at != -1 and at + 3 < len(data):
            if data[at + 3] & 0x1F in (5, 7):
                return True
            at = data.find(b"\x00\x00\x01", at + 3)
        return False
    return True


def packetize(packer: Any, data: bytes, timestamp: int, time_base: fractions.Fraction) -> list[bytes]:
    """An encoded frame as RTP payloads, by aiortc's packetizer for its codec.
    Opus, VP8 and H.264 skip ``pack``'s ``av.Packet`` and its time-base
    conversion (a Fraction made and compared per frame, which the caller
    does not need: it has the RTP timestamp)."""
    if isinstance(packer, OpusEncoder):
        return [data]
    if isinstance(packer, Vp8Encoder):
        payloads = packer._packetize(data, packer.picture_id)
        packer.picture_id = (packer.picture_id + 1) % (1 << 15)
        return payloads
    if isinstance(packer, H264Encoder):
        return packer._packetize(packer._split_bitstream(data))
    packet = av.Packet(data)
    packet.pts, packet.time_base = timestamp, time_base
    return packer.pack(packet)[0]


class Tap(queue.Queue):  # type: ignore[type-arg]
    """Stands in for an ``RTCRtpReceiver``'s decoder queue. ``put`` is called
    on the event loop with ``(codec, JitterFrame)``; ``None`` stops the
    decoder thread and still goes through."""

    def __init__(self, on_frame: Callable[[RTCRtpCodecParameters, JitterFrame], None]) -> None:
        super().__init__()
        self.on_frame = on_frame
        self.decode = False
        #: For audio: the pass-through buffer, which also reads the levels.
        self.levels: AudioPassThrough | None = None

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        if item is not None:
            self.on_frame(*item)
            if not self.decode:
                return
        super().put(item, block, timeout)


class AudioPassThrough:
    """Stands in for an audio receiver's jitter buffer: one Opus packet is one
    frame, handed on as it arrives. aiortc's buffer holds four frames back
    (80 ms), which belongs at the listener, not at a hub in the middle;
    reordering is left to the subscriber's own jitter buffer, as an SFU does."""

    capacity = 16

    def __init__(self) -> None:
        #: The loudest audio level the publisher reported (RFC 6464 header
        #: extension, -dBov: 0 loudest, 127 silence) since ``take_level``.
        self._loudest: int | None = None
        self._gate = SilenceGate()
        #: Whether the frame just handed on goes to the subscribers (the
        #: receiver hands it to the tap within the same call).
        self.audible = True

    def add(self, packet: RtpPacket) -> tuple[bool, JitterFrame | None]:
        level = packet.extensions.audio_level
        if level is not None:
            self._loudest = level[1] if self._loudest is None else min(self._loudest, level[1])
        self.audible = self._gate.audible(level)
        return False, JitterFrame(data=packet._data, timestamp=packet.timestamp)  # type: ignore[attr-defined]

    def take_level(self) -> int | None:
        """The loudest level since the last call, in dBov (0 loudest, -127
        silence), or None if the publisher sends no levels."""
        loudest, self._loudest = self._loudest, None
        return None if loudest is None else -loudest


_DECODER_QUEUE = "_RTCRtpReceiver__decoder_queue"
_JITTER_BUFFER = "_RTCRtpReceiver__jitter_buffer"


def tap(receiver: RTCRtpReceiver, on_frame: Callable[[RTCRtpCodecParameters, JitterFrame], None]) -> Tap:
    """Install a ``Tap`` on a receiver before it starts (in the ``track``
    event), and for audio the pass-through jitter buffer. Relies on aiortc
    internals; aiortc is pinned and tests/media/test_forwarding.py checks
    the hooks."""
    if not isinstance(getattr(receiver, _DECODER_QUEUE, None), queue.Queue) or \
            not isinstance(getattr(receiver, _JITTER_BUFFER, None), JitterBuffer):
        raise RuntimeError("this aiortc version's receiver cannot be tapped; see pyproject.toml")
    t = Tap(on_frame)
    setattr(receiver, _DECODER_QUEUE, t)
    if receiver.track is not None and receiver.track.kind == "audio":
        t.levels = AudioPassThrough()
        setattr(receiver, _JITTER_BUFFER, t.levels)
    return t


class Publication:
    """A publisher's audio or video as the hub receives it: ``participant_id``
    is whose speech or picture it is, ``owner`` the connection that sends it
    (the same for a browser; a courtroom PC sends every seat's), ``name`` the
    source's name on that connection."""

    def __init__(self, participant_id: str, kind: str, receiver: RTCRtpReceiver, *,
                 owner: str | None = None, name: str | None = None) -> None:
        self.participant_id = participant_id
        self.kind = kind
        self.owner = owner or participant_id
        self.name = name or kind
        self.receiver = receiver
        self.codec: RTCRtpCodecParameters | None = None
        self.subscribers: set[ForwardedTrack] = set()
        self.recorder: TrackRecorder | None = None
        self.enabled = True
        self.frames = 0
        self._keyframe_asked = 0.0
        self.tap = tap(receiver, self.deliver)
        self.codec_known = asyncio.Event()
        #: The last frame as RTP payloads, made once for every subscriber
        #: that sends it as it comes (see ``rtpsender``).
        self._packer: Any = None
        self._packer_codec: str | None = None
        self._packed: tuple[JitterFrame | None, list[bytes]] = (None, [])

    @property
    def key(self) -> tuple[str, str]:
        """Unique in a hearing: (connection, source name)."""
        return self.owner, self.name

    def deliver(self, codec: RTCRtpCodecParameters, frame: JitterFrame) -> None:
        if self.codec is None or self.codec.mimeType != codec.mimeType:
            self.codec = codec
            self.codec_known.set()
        if not self.enabled:
            return
        self.frames += 1
        key = is_keyframe(codec, frame.data)
        levels = self.tap.levels
        if levels is None or levels.audible:  # silence stays here (``silence``)
            for sub in list(self.subscribers):
                sub.offer(frame, key)
        if self.recorder is not None and self.recorder.active:
            if self.recorder.wants_keyframe and not key:
                self.request_keyframe()
            self.recorder.write(frame.data, frame.timestamp, key, codec.mimeType)

    def payloads(self, frame: JitterFrame) -> list[bytes]:
        """``frame`` cut into RTP payloads, once however many subscribers
        send it (the packetizer's picture ids are then the publication's)."""
        if self._packed[0] is not frame:
            assert self.codec is not None
            if self._packer is None or self._packer_codec != self.codec.mimeType:
                self._packer, self._packer_codec = get_encoder(self.codec), self.codec.mimeType
            self._packed = (frame, packetize(self._packer, frame.data, frame.timestamp, TIME_BASES[self.kind]))
        return self._packed[1]

    def subscribe(self, transcode: bool = False) -> ForwardedTrack:
        track = (TranscodedTrack if transcode else ForwardedTrack)(self)
        self.subscribers.add(track)
        return track

    def unsubscribe(self, track: ForwardedTrack) -> None:
        self.subscribers.discard(track)
        track.stop()

    def request_keyframe(self) -> None:
        """Ask the publisher for a keyframe (PLI), rate-limited."""
        now = time.monotonic()
        if self.kind != "video" or now - self._keyframe_asked < KEYFRAME_INTERVAL:
            return
        sources = self.receiver.getSynchronizationSources()
        if not sources:
            return
        self._keyframe_asked = now
        asyncio.ensure_future(self.receiver._send_rtcp_pli(sources[0].source))

    def close(self) -> None:
        for sub in list(self.subscribers):
            self.unsubscribe(sub)
        if self.recorder is not None:
            self.recorder.close()


class ForwardedTrack(MediaStreamTrack):
    """One subscriber's copy of a publication: a bounded queue of encoded
    frames; ``recv()`` gives ``av.Packet``. A full queue drops frames for this
    subscriber alone (video then waits for a keyframe)."""

    def __init__(self, publication: Publication) -> None:
        super().__init__()
        self.kind = publication.kind
        self.publication = publication
        self._queue: asyncio.Queue[tuple[JitterFrame, RTCRtpCodecParameters] | None] = asyncio.Queue(
            QUEUE_FRAMES[publication.kind])
        self._time_base = TIME_BASES[publication.kind]
        self._need_keyframe = publication.kind == "video"
        self.dropped = 0
        #: Set while a sender sends this track's frames as they are offered
        #: (``rtpsender``): no queue, no task woken per frame.
        self.sink: Callable[[JitterFrame], None] | None = None
        self.finished = asyncio.Event()
        if self._need_keyframe:
            publication.request_keyframe()

    def offer(self, frame: JitterFrame, key: bool) -> None:
        if self._need_keyframe:
            if not key:
                self.publication.request_keyframe()
                return
            self._need_keyframe = False
        if self.sink is not None:
            self.sink(frame)
            return
        if self._queue.full():
            self.dropped += 1
            if self.kind == "video":
                while not self._queue.empty():
                    self._queue.get_nowait()
                self._need_keyframe = True
                self.publication.request_keyframe()
                return
            self._queue.get_nowait()
        assert self.publication.codec is not None
        self._queue.put_nowait((frame, self.publication.codec))

    def keyframe_wanted(self) -> None:
        """The subscriber reported picture loss (PLI/FIR)."""
        self.publication.request_keyframe()

    async def _next(self) -> tuple[JitterFrame, RTCRtpCodecParameters]:
        if self.readyState != "live":
            raise MediaStreamError
        item = await self._queue.get()
        if item is None:
            raise MediaStreamError
        return item

    async def recv(self) -> Any:
        frame, _ = await self._next()
        packet = av.Packet(frame.data)
        packet.pts = frame.timestamp
        packet.time_base = self._time_base
        return packet

    def stop(self) -> None:
        self.finished.set()
        if self.readyState == "live":
            super().stop()
            if self._queue.full():
                self._queue.get_nowait()
            self._queue.put_nowait(None)


class TranscodedTrack(ForwardedTrack):
    """The fallback for a subscriber that cannot decode the publisher's codec:
    decode here (on a thread) and let aiortc encode for this subscriber."""

    def __init__(self, publication: Publication) -> None:
        super().__init__(publication)
        self._decoder: Any = None
        self._decoder_codec: str | None = None

    async def recv(self) -> Any:
        while True:
            frame, codec = await self._next()
            if codec.mimeType != self._decoder_codec:
                self._decoder, self._decoder_codec = get_decoder(codec), codec.mimeType
            try:
                frames = await asyncio.get_running_loop().run_in_executor(None, self._decoder.decode, frame)
            except av.FFmpegError as err:
                log.debug("transcoding %s: %s", codec.mimeType, err)
                self._need_keyframe = True
                self.publication.request_keyframe()
                continue
            if frames:
                return frames[-1]
