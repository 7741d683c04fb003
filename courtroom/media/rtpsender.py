"""Sending forwarded frames: aiortc's RTP sender, with fewer steps per frame.

An 8-party hearing sends some 7,000 RTP packets a second. aiortc's sender
reads each frame from its track in a task of its own (a queue and a task
switch per frame and subscriber), cuts it into payloads for every
subscriber again, and builds each packet as an ``RtpPacket`` whose header
extensions are packed anew, then awaits two calls down to the datagram.
``install`` gives a sender a loop that, for a forwarded track, sends each
frame as the publication offers it (``ForwardedTrack.sink``): the payloads
are cut once per publication, the frame's extension block (the stream's
``mid`` and the absolute send time) made once, each packet one
``struct.pack``, encrypted by the same SRTP session (called without
pylibsrtp's wrapper, ``srtpfast``) and written straight to the ICE pair's
UDP socket (through TURN it goes aiortc's way). The RTP is
the same as aiortc's; retransmission (NACK, RTX) and sender reports work
from the state aiortc's loop keeps. A transcoded copy is still read frame
by frame. Relies on aiortc internals; aiortc is pinned and
tests/media/test_forwarding.py checks the names.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import struct
from typing import Any

from aioice.ice import StunProtocol
from aiortc import RTCRtpSender
from aiortc.codecs import get_encoder
from aiortc.mediastreams import MediaStreamError
from aiortc.rtcdtlstransport import State
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import HeaderExtensions, RtpPacket, wrap_rtx
from aiortc.utils import random16, random32, uint16_add, uint32_add
from av.frame import Frame

from .forwarding import ForwardedTrack
from .srtpfast import ntp_now, protector

log = logging.getLogger(__name__)

_P = "_RTCRtpSender__"
#: aiortc's sender state this loop keeps as aiortc's own loop does.
NAMES = ("rtp_started", "rtp_exited", "rtp_header_extensions_map", "mid", "ntp_timestamp", "rtp_timestamp",
         "octet_count", "packet_count", "rtx_payload_type", "rtx_sequence_number", "track")
#: Packets kept for retransmission (as aiortc keeps).
HISTORY = 128

_HEADER = struct.Struct("!BBHII")
_UNSET = object()
_EXTENSIONS_MAP, _MID, _NTP_TIMESTAMP, _RTP_TIMESTAMP, _OCTET_COUNT, _PACKET_COUNT = (
    _P + name for name in ("rtp_header_extensions_map", "mid", "ntp_timestamp", "rtp_timestamp", "octet_count",
                           "packet_count"))


#: Set (to anything but "") to leave aiortc's own loop in place: the
#: benchmark's baseline, and a way out should this loop misbehave.
PLAIN_ENV = "COURTROOM_AIORTC_SENDER"


def install(sender: RTCRtpSender) -> None:
    """Before the sender starts: its RTP goes out through ``run`` below."""
    if os.environ.get(PLAIN_ENV):
        return
    history: dict[int, bytes] = {}
    sender._run_rtp = functools.partial(run, sender, history)  # type: ignore[method-assign]
    sender._retransmit = functools.partial(retransmit, sender, history=history)  # type: ignore[method-assign]


def _get(sender: RTCRtpSender, name: str) -> Any:
    return getattr(sender, _P + name)


def _set(sender: RTCRtpSender, name: str, value: Any) -> None:
    setattr(sender, _P + name, value)


def _pair(sender: RTCRtpSender) -> Any:
    """The ICE pair the sender's transport sends on now (None before one is
    nominated). It can change after the connection is up: a browser may
    settle on another pair, and then takes packets only from that one."""
    return sender.transport.transport._connection._nominated.get(1)


def _writer(pair: Any) -> Any:
    """The plain UDP socket and address ``pair`` sends on, or None (no pair
    yet, or TURN: aiortc's own path)."""
    if pair is None or type(pair.protocol) is not StunProtocol or pair.protocol.transport is None:
        return None
    return functools.partial(pair.protocol.transport.sendto, addr=pair.remote_addr)


class _Stream:
    """One sender's RTP numbering, as aiortc's loop keeps it in locals."""

    def __init__(self, sender: RTCRtpSender, codec: RTCRtpCodecParameters, history: dict[int, bytes]) -> None:
        self.sender = sender
        self.codec = codec
        #: Sent packets by sequence number (mod ``HISTORY``), for NACKs.
        self.history = history
        self.sequence_number = random16() % 32768  # as aiortc: no wraparound early on
        self.timestamp_origin = random32()
        self.failed = False
        #: The ICE pair the cached writer below sends on.
        self._pair: Any = None
        self._write: Any = None
        #: The header extension block for this sender's mid, and where its
        #: three bytes of absolute send time go (-1: not negotiated).
        self._mid: object = _UNSET
        self._extension = b""
        self._send_time_at = -1
        #: The SRTP session packets were last protected with, and its protector.
        self._srtp: Any = None
        self._protect: Any = None

    def offered(self, publication: Any, frame: Any) -> None:
        """A forwarded frame, sent now. Called from inside the publisher's
        receiver: nothing may be raised into it (a failure is logged once)."""
        try:
            self.send(publication.payloads(frame), frame.timestamp)
        except Exception:
            if not self.failed:
                self.failed = True
                log.exception("forwarding to a subscriber failed")

    def _template(self, mid: object) -> None:
        """Build the extension block once per mid; each frame then patches in
        its send time instead of packing every extension anew."""
        extensions_map = getattr(self.sender, _EXTENSIONS_MAP)
        blocks = []
        for send_time in (0, 0xFFFFFF):
            profile, value = extensions_map.set(HeaderExtensions(mid=mid, abs_send_time=send_time))
            blocks.append(struct.pack("!HH", profile, len(value) >> 2) + value if value else b"")
        self._mid, self._extension = mid, blocks[0]
        differ = [i for i, (a, b) in enumerate(zip(*blocks)) if a != b]
        self._send_time_at = differ[0] if differ else -1

    def send(self, payloads: list[bytes], timestamp: int) -> None:
        """One frame's packets, now (on the event loop, never waiting)."""
        sender = self.sender
        dtls = sender.transport  # looked up each time: bundling replaces it
        if not payloads or not sender._enabled or dtls._state is not State.CONNECTED:
            return
        pair = _pair(sender)  # looked up each frame: it may change
        if pair is not self._pair or self._write is None:
            self._pair, self._write = pair, _writer(pair)
        timestamp = uint32_add(self.timestamp_origin, timestamp)
        now = ntp_now()
        mid = getattr(sender, _MID)
        if mid != self._mid:
            self._template(mid)
        extension, at = self._extension, self._send_time_at
        if at >= 0:
            extension = extension[:at] + ((now >> 14) & 0x00FFFFFF).to_bytes(3, "big") + extension[at + 3:]
        first = 0x90 if extension else 0x80
        if dtls._tx_srtp is not self._srtp:
            self._srtp, self._protect = dtls._tx_srtp, protector(dtls._tx_srtp)
        protect = self._protect
        write = self._write
        last = len(payloads) - 1
        seq, pt, ssrc, octets = self.sequence_number, self.codec.payloadType, sender._ssrc, 0
        history = self.history
        for i, payload in enumerate(payloads):
            packet = _HEADER.pack(first, ((i == last) << 7) | pt, seq, timestamp, ssrc) + extension + payload
            history[seq % HISTORY] = packet
            if write is not None:
                write(protect(packet))
            else:  # through TURN: aiortc's own way
                asyncio.ensure_future(_send_quietly(dtls, packet))
            octets += len(payload)
            seq = (seq + 1) & 0xFFFF
        self.sequence_number = seq
        setattr(sender, _NTP_TIMESTAMP, now)
        setattr(sender, _RTP_TIMESTAMP, timestamp)
        setattr(sender, _OCTET_COUNT, getattr(sender, _OCTET_COUNT) + octets)
        setattr(sender, _PACKET_COUNT, getattr(sender, _PACKET_COUNT) + len(payloads))


async def _send_quietly(dtls: Any, packet: bytes) -> None:
    try:
        await dtls._send_rtp(packet)
    except ConnectionError:
        pass


async def run(sender: RTCRtpSender, history: dict[int, bytes], codec: RTCRtpCodecParameters) -> None:
    """The sender's RTP task. A forwarded track's frames are sent as the
    publication offers them (``ForwardedTrack.sink``): no queue and no task
    switch per frame and subscriber; this task only waits for the track to
    end or change. Any other track (a transcoded copy) is read frame by
    frame, as aiortc does."""
    _get(sender, "rtp_started").set()
    stream = _Stream(sender, codec, history)
    encoder = get_encoder(codec)
    loop = asyncio.get_running_loop()
    try:
        while True:
            track = _get(sender, "track")
            if track is None:
                await asyncio.sleep(0.02)
                continue
            if type(track) is ForwardedTrack:
                publication = track.publication
                track.sink = functools.partial(stream.offered, publication)
                try:
                    await track.finished.wait()
                finally:
                    track.sink = None
                if _get(sender, "track") is track:
                    raise MediaStreamError
                continue
            data = await track.recv()
            if isinstance(data, Frame):  # a transcoded copy: encoded for this subscriber
                payloads, timestamp = await loop.run_in_executor(None, encoder.encode, data, False)
            else:
                payloads, timestamp = encoder.pack(data)
            stream.send(payloads, timestamp)
    except (asyncio.CancelledError, MediaStreamError):
        pass
    except Exception:
        log.exception("forwarding RTP stopped")
    track = _get(sender, "track")
    if track is not None:
        track.stop()
        _set(sender, "track", None)
    _get(sender, "rtp_exited").set()


async def retransmit(sender: RTCRtpSender, sequence_number: int, *, history: dict[int, bytes]) -> None:
    """A packet the subscriber reported lost (NACK), again: on the RTX
    stream when one was negotiated, as aiortc does."""
    data = history.get(sequence_number % HISTORY)
    if data is None:
        return
    packet = RtpPacket.parse(data, _get(sender, "rtp_header_extensions_map"))
    if packet.sequence_number != sequence_number:
        return
    rtx_type = _get(sender, "rtx_payload_type")
    if rtx_type is not None:
        rtx_seq = _get(sender, "rtx_sequence_number")
        packet = wrap_rtx(packet, payload_type=rtx_type, sequence_number=rtx_seq, ssrc=sender._rtx_ssrc)
        _set(sender, "rtx_sequence_number", uint16_add(rtx_seq, 1))
    try:
        await sender.transport._send_rtp(packet.serialize(_get(sender, "rtp_header_extensions_map")))
    except ConnectionError:
        pass
