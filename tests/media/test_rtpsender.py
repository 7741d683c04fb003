"""The hub's RTP sending loop writes the RTP aiortc's would, and never
raises into the publisher's receiver."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from aioice.ice import Connection, StunProtocol
from aiortc import RTCPeerConnection, clock
from aiortc.rtcdtlstransport import RTCDtlsTransport, State
from aiortc.rtcrtpparameters import RTCRtpCodecParameters, RTCRtpHeaderExtensionParameters, RTCRtpParameters
from aiortc.rtp import HeaderExtensionsMap, RtpPacket

from courtroom.media import rtpsender

VP8 = RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90000, payloadType=96)


def sender_on_a_socket(sent: list[tuple[bytes, Any]]) -> Any:
    """A sender as the loop sees it, on a connected transport whose SRTP
    leaves packets as they are and whose UDP socket records them."""
    extensions = HeaderExtensionsMap()
    extensions.configure(RTCRtpParameters(headerExtensions=[
        RTCRtpHeaderExtensionParameters(id=1, uri="urn:ietf:params:rtp-hdrext:sdes:mid"),
        RTCRtpHeaderExtensionParameters(id=2, uri="http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time")]))
    protocol = StunProtocol.__new__(StunProtocol)  # its __init__ wants an event loop; only its type matters
    protocol.transport = SimpleNamespace(sendto=lambda data, addr: sent.append((data, addr)))
    pair = SimpleNamespace(protocol=protocol, remote_addr=("192.0.2.7", 5000))
    dtls = SimpleNamespace(_state=State.CONNECTED, _tx_srtp=SimpleNamespace(protect=lambda data: data),
                           transport=SimpleNamespace(_connection=SimpleNamespace(_nominated={1: pair})))
    sender = SimpleNamespace(transport=dtls, _enabled=True, _ssrc=0x1234ABCD)
    for name, value in (("rtp_header_extensions_map", extensions), ("mid", "3"), ("ntp_timestamp", 0),
                        ("rtp_timestamp", 0), ("octet_count", 0), ("packet_count", 0)):
        setattr(sender, rtpsender._P + name, value)
    return sender


def test_a_frame_goes_out_as_numbered_rtp_with_the_streams_extensions() -> None:
    sent: list[tuple[bytes, Any]] = []
    sender = sender_on_a_socket(sent)
    history: dict[int, bytes] = {}
    stream = rtpsender._Stream(sender, VP8, history)
    before = (clock.current_ntp_time() >> 14) & 0xFFFFFF
    stream.send([b"a" * 1000, b"b" * 300], 3000)
    stream.send([b"c" * 10], 6000)
    after = (clock.current_ntp_time() >> 14) & 0xFFFFFF
    extensions = getattr(sender, rtpsender._P + "rtp_header_extensions_map")
    packets = [RtpPacket.parse(data, extensions) for data, addr in sent]
    assert all(addr == ("192.0.2.7", 5000) for _, addr in sent)
    assert [p.payload for p in packets] == [b"a" * 1000, b"b" * 300, b"c" * 10]
    assert [p.marker for p in packets] == [0, 1, 1]  # the last packet of each frame
    first = packets[0].sequence_number
    assert [p.sequence_number for p in packets] == [first, first + 1, first + 2]
    assert packets[1].timestamp == packets[0].timestamp and packets[2].timestamp - packets[0].timestamp == 3000
    assert all(p.version == 2 and p.payload_type == 96 and p.ssrc == 0x1234ABCD for p in packets)
    assert all(p.extensions.mid == "3" and before <= p.extensions.abs_send_time <= after for p in packets)
    # Kept for NACKs, and counted for the sender reports.
    assert history[(first + 2) % rtpsender.HISTORY] == sent[2][0]
    assert getattr(sender, rtpsender._P + "packet_count") == 3
    assert getattr(sender, rtpsender._P + "octet_count") == 1310


def test_nothing_is_sent_before_the_connection_is_up_or_while_disabled() -> None:
    sent: list[tuple[bytes, Any]] = []
    sender = sender_on_a_socket(sent)
    stream = rtpsender._Stream(sender, VP8, {})
    sender.transport._state = State.CONNECTING
    stream.send([b"x"], 0)
    sender.transport._state, sender._enabled = State.CONNECTED, False
    stream.send([b"x"], 0)
    assert sent == []


def test_a_failure_is_logged_not_raised_into_the_publishers_receiver() -> None:
    sent: list[tuple[bytes, Any]] = []
    sender = sender_on_a_socket(sent)
    sender.transport._tx_srtp = SimpleNamespace(protect=lambda data: 1 / 0)
    stream = rtpsender._Stream(sender, VP8, {})
    publication = SimpleNamespace(payloads=lambda frame: [frame.data])
    frame = SimpleNamespace(data=b"x", timestamp=0)
    stream.offered(publication, frame)
    stream.offered(publication, frame)
    assert stream.failed and sent == []


def test_rtp_sender_hooks_are_where_the_forwarding_loop_expects_them() -> None:
    """courtroom.media.rtpsender keeps aiortc's sender state by these names."""
    async def main() -> None:
        pc = RTCPeerConnection()
        sender = pc.addTransceiver("video", direction="sendonly").sender
        for name in rtpsender.NAMES:
            assert hasattr(sender, rtpsender._P + name), name
        assert callable(sender._run_rtp) and callable(sender._retransmit) and hasattr(sender, "_rtx_ssrc")
        rtpsender.install(sender)
        assert sender._run_rtp.func is rtpsender.run and sender._retransmit.func is rtpsender.retransmit
        dtls = sender.transport
        assert isinstance(dtls, RTCDtlsTransport) and dtls._state is State.NEW
        assert "_tx_srtp" in RTCDtlsTransport._send_rtp.__code__.co_names
        assert isinstance(dtls.transport._connection, Connection) and dtls.transport._connection._nominated == {}
        assert "transport" in StunProtocol.send_data.__code__.co_names
        await pc.close()
    asyncio.run(main())


def test_packets_follow_the_pair_ice_settles_on() -> None:
    """A browser may settle on another candidate pair after the connection
    is up and then takes packets only from it: the loop must not keep
    writing to the first one."""
    sent: list[tuple[bytes, Any]] = []
    sender = sender_on_a_socket(sent)
    stream = rtpsender._Stream(sender, VP8, {})
    stream.send([b"a"], 0)
    nominated = sender.transport.transport._connection._nominated
    protocol = StunProtocol.__new__(StunProtocol)
    later: list[tuple[bytes, Any]] = []
    protocol.transport = SimpleNamespace(sendto=lambda data, addr: later.append((data, addr)))
    nominated[1] = SimpleNamespace(protocol=protocol, remote_addr=("192.0.2.8", 6000))
    stream.send([b"b"], 3000)
    assert [addr for _, addr in sent] == [("192.0.2.7", 5000)] and [addr for _, addr in later] == [("192.0.2.8", 6000)]
