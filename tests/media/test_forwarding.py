"""The aiortc and aioice internals the media hub relies on (both pinned),
and the pure parts of forwarding."""

from __future__ import annotations

import asyncio

import aioice.ice
import av
import pytest
from aiortc import RTCPeerConnection
from aiortc.codecs import get_encoder
from aiortc.jitterbuffer import JitterFrame
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtcrtpreceiver import RemoteStreamTrack
from aiortc.rtp import RtpPacket

from courtroom.media.forwarding import TIME_BASES, AudioPassThrough, is_keyframe, packetize, tap
from courtroom.media.peer import _LOCAL_RTP, _SENDER_STARTED
from courtroom.media.network import Network, use_networks

VP8 = RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90000, payloadType=97)
H264 = RTCRtpCodecParameters(mimeType="video/H264", clockRate=90000, payloadType=99)
OPUS = RTCRtpCodecParameters(mimeType="audio/opus", clockRate=48000, channels=2, payloadType=96)


def test_receiver_hooks_are_where_the_hub_expects_them() -> None:
    async def main() -> None:
        pc = RTCPeerConnection()
        for kind in ("audio", "video"):
            receiver = pc.addTransceiver(kind, direction="recvonly").receiver
            receiver._track = RemoteStreamTrack(kind=kind)  # as aiortc sets it before the track event
            seen: list[tuple[str, bytes]] = []
            t = tap(receiver, lambda codec, frame: seen.append((codec.mimeType, frame.data)))
            assert receiver._RTCRtpReceiver__decoder_queue is t
            buffer = receiver._RTCRtpReceiver__jitter_buffer
            assert isinstance(buffer, AudioPassThrough) == (kind == "audio")
            t.put((OPUS, JitterFrame(b"x", 0)))
            assert seen == [("audio/opus", b"x")] and t.empty()  # not decoded unless asked
            t.decode = True
            t.put((OPUS, JitterFrame(b"y", 960)))
            assert t.qsize() == 1
            t.put(None)  # the stop signal always reaches the decoder thread
            assert t.qsize() == 2
        await pc.close()
    asyncio.run(main())


def test_audio_pass_through_hands_each_packet_on_at_once() -> None:
    packet = RtpPacket(payload_type=96, sequence_number=7, timestamp=960)
    packet._data = b"opus"  # type: ignore[attr-defined]
    pli, frame = AudioPassThrough().add(packet)
    assert not pli and frame is not None and (frame.data, frame.timestamp) == (b"opus", 960)


@pytest.mark.parametrize("codec, data, key", [
    (VP8, bytes([0b10010000]), True), (VP8, bytes([0b10010001]), False), (VP8, b"", False),
    (H264, b"\x00\x00\x00\x01\x67\x42" + b"\x00\x00\x01\x65", True),
    (H264, b"\x00\x00\x00\x01\x41\x9a", False), (OPUS, b"\x01", True)])
def test_keyframes_are_recognized(codec: RTCRtpCodecParameters, data: bytes, key: bool) -> None:
    assert is_keyframe(codec, data) is key


@pytest.mark.parametrize("codec, kind, data", [
    (VP8, "video", bytes([0b10010000]) + bytes(range(256)) * 12),  # more than one packet's worth
    (H264, "video", b"\x00\x00\x00\x01\x67\x42\x00\x1f" + b"\x00\x00\x01\x65" + bytes(3000)),
    (OPUS, "audio", b"\xfc\x01\x02")], ids=["vp8", "h264", "opus"])
def test_a_frame_is_cut_as_aiortcs_packetizer_cuts_it(codec: RTCRtpCodecParameters, kind: str, data: bytes) -> None:
    ours, theirs = get_encoder(codec), get_encoder(codec)
    if hasattr(theirs, "picture_id"):
        ours.picture_id = theirs.picture_id  # each starts at a random one
    for n in range(3):  # VP8's picture id advances per frame in both
        packet = av.Packet(data)
        packet.pts, packet.time_base = 3000 * n, TIME_BASES[kind]
        expected = theirs.pack(packet)[0]
        assert packetize(ours, data, 3000 * n, TIME_BASES[kind]) == expected
        assert len(expected) > (1 if kind == "video" else 0)


def test_networks_name_the_addresses_candidates_are_gathered_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aioice.ice, "get_host_addresses", aioice.ice.get_host_addresses)
    use_networks([Network.parse("court=10.1.2.3"), Network.parse("internet= 203.0.113.5"),
                  Network.parse("lo=127.0.0.1"), Network.parse("v6=fd00::2")])
    assert aioice.ice.get_host_addresses(True, False) == ["10.1.2.3", "203.0.113.5", "127.0.0.1"]
    assert aioice.ice.get_host_addresses(True, True)[-1] == "fd00::2"
    for bad in ("court", "=10.0.0.1", "court=hub.example"):
        with pytest.raises(ValueError):
            Network.parse(bad)


def test_a_subscribers_picture_loss_report_reaches_the_override() -> None:
    """peer.py routes a subscriber's PLI/FIR to the publisher by replacing
    the sender's ``_send_keyframe``; aiortc must still call it on PLI."""
    from aiortc.rtp import RTCP_PSFB_FIR, RTCP_PSFB_PLI, RtcpPsfbPacket

    async def main() -> None:
        pc = RTCPeerConnection()
        sender = pc.addTransceiver("video", direction="sendonly").sender
        asked: list[int] = []
        sender._send_keyframe = lambda: asked.append(1)  # type: ignore[method-assign]
        for fmt in (RTCP_PSFB_PLI, RTCP_PSFB_FIR):
            await sender._handle_rtcp_packet(RtcpPsfbPacket(fmt=fmt, ssrc=1, media_ssrc=sender._ssrc))
        assert asked == [1, 1]
        await pc.close()
    asyncio.run(main())


def test_sender_start_hooks_are_where_the_peer_expects_them() -> None:
    async def main() -> None:
        pc = RTCPeerConnection()
        transceiver = pc.addTransceiver("audio", direction="sendonly")
        assert getattr(transceiver.sender, _SENDER_STARTED) is False
        assert callable(getattr(pc, _LOCAL_RTP))
        await pc.close()
    asyncio.run(main())

