"""Recording every participant's audio and video as it is forwarded, on the
hearing's clock, and cutting a segment's audio out again for click-to-play.

Audio is stored as the Opus packets that arrived, in Ogg (RFC 7845),
written by ``OggOpusWriter`` page by page: a page every 0.5 s is handed to
the operating system (a hub crash loses at most that) and fsync'd every
5 s on a disk thread (a power cut loses at most that). Video is remuxed
by ffmpeg (PyAV), starting at a keyframe: VP8 into WebM in clusters of a
second, H.264 into MPEG-TS packet by packet. Nothing is re-encoded.

Files live in ``DATA/recordings/HEARING/`` and are named
``PARTICIPANT-KIND-START_MS.ext`` (``ogg``, ``webm`` or ``ts``): START_MS is where the first packet falls
on the hearing's clock (milliseconds since the hearing was created). A new
file starts whenever the participant is heard again after a mute, a pause,
a removal or a reconnection.
"""

from __future__ import annotations

import fractions
import os
import re
import struct
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

import av

from ..durable import fsync_path

SAMPLE_RATE = 48_000
PRE_SKIP = 312
PAGE_SECONDS = 0.5
FSYNC_SECONDS = 5.0
#: An Opus packet of 20 ms of silence (CELT, fullband), to fill gaps.
SILENCE = b"\xf8\xff\xfe"
#: fsync and close run here, never on the event loop.
_DISK = ThreadPoolExecutor(1, thread_name_prefix="recording-disk")
_NAME = re.compile(r"(?P<pid>[\w-]+)-(?P<kind>audio|video)-(?P<start>\d+)\.(?:ogg|webm|ts)\Z")
#: Video as it arrives, by codec: the container, its file name's ending,
#: and the stream. VP8 goes in WebM; H.264 (Annex B, as aiortc hands it
#: over) in MPEG-TS, which needs no parameter sets up front.
CONTAINERS = {"video/vp8": ("webm", "webm", "libvpx"), "video/h264": ("mpegts", "ts", "h264")}
#: Reading a recording back: the demuxer for a file's ending.
FORMATS = {"webm": "webm", "ts": "mpegts"}


#: Each byte's bits in reverse order.
_REVERSED = bytes(int(f"{i:08b}"[::-1], 2) for i in range(256))


def ogg_crc(data: bytes) -> int:
    """The Ogg page checksum: CRC-32 with polynomial 0x04C11DB7, MSB first,
    no initial value or final xor. zlib's CRC-32 is the same polynomial LSB
    first, so it is run over the bit-reversed bytes from a register of zero
    (zlib's start value is xored with all ones) and its result reversed
    back: a page costs microseconds in C, not a Python loop per byte."""
    crc = zlib.crc32(data.translate(_REVERSED), 0xFFFFFFFF) ^ 0xFFFFFFFF
    return int.from_bytes(crc.to_bytes(4, "little").translate(_REVERSED), "big")


def opus_samples(packet: bytes) -> int:
    """Samples (at 48 kHz) in one Opus packet, from its TOC byte (RFC 6716 3.1)."""
    if not packet:
        return 0
    toc = packet[0]
    config = toc >> 3
    if config < 12:
        size = (480, 960, 1920, 2880)[config % 4]   # SILK: 10, 20, 40, 60 ms
    elif config < 16:
        size = (480, 960)[config % 2]               # hybrid: 10, 20 ms
    else:
        size = (120, 240, 480, 960)[config % 4]     # CELT: 2.5, 5, 10, 20 ms
    code = toc & 0x03
    frames = 1 if code == 0 else 2 if code in (1, 2) else (packet[1] & 0x3F if len(packet) > 1 else 0)
    return size * frames


class OggOpusWriter:
    """Opus packets → an Ogg Opus stream, one page per ``PAGE_SECONDS``."""

    def __init__(self, out: BinaryIO, serial: int, channels: int = 2,
                 fsync: Callable[[int], object] | None = None) -> None:
        """With ``fsync``, ``out`` is a file: flushed at every page and
        fsync'd (by calling ``fsync(fileno)``) every ``FSYNC_SECONDS``."""
        self.out = out
        self.fsync = fsync
        self.serial = serial
        self._seq = 0
        self._granule = PRE_SKIP
        self._packets: list[bytes] = []
        self._page_samples = 0
        self._last_sync = time.monotonic()
        head = b"OpusHead" + struct.pack("<BBHIhB", 1, channels, PRE_SKIP, SAMPLE_RATE, 0, 0)
        self._page([head], 0, flags=0x02)
        self._page([b"OpusTags" + struct.pack("<I", 9) + b"courtroom" + struct.pack("<I", 0)], 0)

    def write(self, packet: bytes) -> None:
        self._packets.append(packet)
        n = opus_samples(packet)
        self._granule += n
        self._page_samples += n
        if self._page_samples >= PAGE_SECONDS * SAMPLE_RATE or len(self._packets) >= 200:
            self.flush()

    def flush(self, last: bool = False) -> None:
        if self._packets or last:
            self._page(self._packets, self._granule, flags=0x04 if last else 0)
            self._packets, self._page_samples = [], 0
        if self.fsync is None:
            return
        self.out.flush()
        if not last and time.monotonic() - self._last_sync >= FSYNC_SECONDS:
            self.fsync(self.out.fileno())
            self._last_sync = time.monotonic()

    def _page(self, packets: list[bytes], granule: int, flags: int = 0) -> None:
        lacing = bytearray()
        for p in packets:
            lacing += b"\xff" * (len(p) // 255) + bytes([len(p) % 255])
        header = struct.pack("<4sBBqIIIB", b"OggS", 0, flags, granule, self.serial, self._seq, 0, len(lacing))
        page = bytearray(header + lacing + b"".join(packets))
        struct.pack_into("<I", page, 22, ogg_crc(bytes(page)))
        self.out.write(page)
        self._seq += 1


def ogg_packets(data: bytes) -> Iterator[bytes]:
    """The packets of an Ogg stream this module wrote (one logical stream),
    headers included; a page cut short by a crash ends it."""
    at, partial = 0, b""
    while at + 27 <= len(data) and data[at:at + 4] == b"OggS":
        count = data[at + 26]
        lacing = data[at + 27:at + 27 + count]
        body = at + 27 + count
        if len(lacing) < count:
            return
        for value in lacing:
            if body + value > len(data):
                return
            partial += data[body:body + value]
            body += value
            if value < 255:
                yield partial
                partial = b""
        at = body


@dataclass(frozen=True, slots=True)
class Recording:
    path: Path
    participant_id: str
    kind: str
    start: float  # seconds on the hearing's clock


def recordings(folder: Path) -> list[Recording]:
    out = []
    for path in sorted(folder.glob("*")) if folder.is_dir() else []:
        m = _NAME.match(path.name)
        if m:
            out.append(Recording(path, m["pid"], m["kind"], int(m["start"]) / 1000))
    return out


def audio_clip(folder: Path, participant_id: str, start: float, end: float) -> bytes | None:
    """The participant's recorded audio from ``start`` to ``end`` (hearing
    clock) as a new Ogg Opus file, or None if nothing was recorded then."""
    from io import BytesIO
    out = BytesIO()
    writer: OggOpusWriter | None = None
    for rec in recordings(folder):
        if rec.participant_id != participant_id or rec.kind != "audio" or rec.start >= end:
            continue
        at = rec.start
        for k, packet in enumerate(ogg_packets(rec.path.read_bytes())):
            if k < 2:
                continue  # OpusHead, OpusTags
            duration = opus_samples(packet) / SAMPLE_RATE
            if at + duration > start and at < end:
                if writer is None:
                    writer = OggOpusWriter(out, serial=1)
                writer.write(packet)
            at += duration
    if writer is None:
        return None
    writer.flush(last=True)
    return out.getvalue()


class TrackRecorder:
    """One publication's recording. ``active`` follows whether the
    participant is heard; each active stretch is one file."""

    def __init__(self, folder: Path, participant_id: str, label: str, clock: Callable[[], float],
                 kind: str | None = None) -> None:
        """``label`` goes in the file's name (``audio``, ``video``, or a
        source's own name such as ``document``); ``kind`` is the media
        (the label where not given)."""
        self.folder = folder
        self.participant_id = participant_id
        self.label = label
        self.kind = kind or label
        self.clock = clock
        self.active = False
        self.path: Path | None = None
        self._file: BinaryIO | None = None
        self._ogg: OggOpusWriter | None = None
        self._webm: av.container.OutputContainer | None = None
        self._stream: av.stream.Stream | None = None
        #: The video codec of the open file.
        self._codec: str | None = None
        self._first_ts: int | None = None
        self._last_ts: int | None = None

    @property
    def wants_keyframe(self) -> bool:
        """Video waiting for a keyframe to start its file."""
        return self.active and self.kind == "video" and self._webm is None

    def set_active(self, active: bool) -> None:
        if not active:
            self.close()
        self.active = active

    def write(self, data: bytes, timestamp: int, key: bool, codec: str = "video/VP8") -> None:
        """One encoded frame; ``timestamp`` on the RTP clock (48 kHz audio,
        90 kHz video); ``codec``: video's MIME type as negotiated."""
        if not self.active:
            return
        if self.kind == "audio":
            self._write_audio(data, timestamp)
        else:
            self._write_video(data, timestamp, key, codec.lower())

    def _open(self, ext: str) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        start_ms = int(self.clock() * 1000)
        self.path = self.folder / f"{self.participant_id}-{self.label}-{start_ms:012d}.{ext}"
        return self.path

    def _write_audio(self, data: bytes, timestamp: int) -> None:
        if self._ogg is None:
            self._file = open(self._open("ogg"), "wb")
            self._ogg = OggOpusWriter(self._file, serial=int.from_bytes(os.urandom(4), "little"),
                                      fsync=lambda fd: _DISK.submit(_fsync, fd))
        elif self._last_ts is not None:
            # Fill a gap (lost packets, discontinuous transmission) with
            # silence, so the file's time stays the hearing's.
            gap = (timestamp - self._last_ts) % (1 << 32)
            for _ in range(min(gap // 960 - 1, 50 * 60)) if 960 < gap < (1 << 31) else ():
                self._ogg.write(SILENCE)
        self._ogg.write(data)
        self._last_ts = timestamp

    def _write_video(self, data: bytes, timestamp: int, key: bool, codec: str) -> None:
        if codec not in CONTAINERS:
            return  # (the hub negotiates nothing else)
        if self._webm is not None and codec != self._codec:
            self.close()  # renegotiated: a new file in the new codec's container
        if self._webm is None:
            if not key:
                return
            container, ext, stream = CONTAINERS[codec]
            # Each cluster (WebM: at most a second) or packet (MPEG-TS)
            # handed to the OS as it is done (flush_packets: without it
            # ffmpeg's own buffer held everything until it filled or the
            # file closed): a crash loses about a second of video, and the
            # live stream reads the file as it grows.
            options = {"flush_packets": "1", **({"cluster_time_limit": "1000"} if container == "webm" else {})}
            self._webm = av.open(str(self._open(ext)), "w", format=container, buffer_size=4096, options=options)
            # WebM's header wants VP8's stream as its encoder describes it;
            # MPEG-TS takes H.264 as it comes (no encoder here to open).
            self._stream = (self._webm.add_stream(stream, rate=30) if container == "webm"
                            else self._webm.add_mux_stream(stream, rate=30))
            self._stream.time_base = fractions.Fraction(1, 90_000)
            self._codec = codec
            self._first_ts = timestamp
        assert self._stream is not None and self._first_ts is not None
        packet = av.Packet(data)
        packet.pts = packet.dts = (timestamp - self._first_ts) % (1 << 32)
        packet.time_base = fractions.Fraction(1, 90_000)
        packet.is_keyframe = key
        packet.stream = self._stream
        try:
            self._webm.mux(packet)
        except av.FFmpegError:
            pass  # an out-of-order timestamp: drop the frame, keep the file

    def close(self) -> None:
        if self._ogg is not None:
            self._ogg.flush(last=True)
            self._ogg = None
        if self._file is not None:
            _DISK.submit(_close_durably, self._file)
            self._file = None
        if self._webm is not None:
            self._webm.close()
            self._webm = None
            assert self.path is not None
            _DISK.submit(fsync_path, self.path)
        self._first_ts = self._last_ts = None
        self._codec = None
        self.path = None


def _fsync(fd: int) -> None:
    try:
        os.fsync(fd)
    except OSError:
        pass  # closed meanwhile: _close_durably syncs it


def _close_durably(file: BinaryIO) -> None:
    file.flush()
    os.fsync(file.fileno())
    file.close()


