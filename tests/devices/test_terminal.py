"""The terminal's answers, and the aiortc internals it relies on (aiortc is
pinned)."""

from __future__ import annotations

import asyncio
from typing import Any

from aiortc import (AudioStreamTrack, RTCBundlePolicy, RTCConfiguration, RTCPeerConnection,
                    VideoStreamTrack)

from devices.terminal import _LOCAL_RTP, _SENDER_STARTED, Terminal


def test_sender_start_hooks_are_where_the_terminal_expects_them() -> None:
    async def main() -> None:
        pc = RTCPeerConnection()
        transceiver = pc.addTransceiver("video", direction="sendonly")
        assert getattr(transceiver.sender, _SENDER_STARTED) is False
        assert callable(getattr(pc, _LOCAL_RTP))
        await pc.close()
    asyncio.run(main())


def test_an_offer_with_many_video_sections_is_answered_on_one_transport() -> None:
    """The hub offers one section per subscription, several of them video,
    bundled. Every section the terminal answers must sit on the bundle's one
    transport: one left on a transport bundling discarded never sends or
    receives (aiortc's default bundle policy did that to every video
    section after the first)."""
    async def main() -> None:
        hub = RTCPeerConnection(RTCConfiguration(bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))
        for kind in ("audio", "video", "audio", "video", "video"):  # two subscriptions...
            hub.addTransceiver(kind, direction="sendonly")
        for kind in ("audio", "video"):  # ...and the terminal's own microphone and camera
            hub.addTransceiver(kind, direction="recvonly")
        await hub.setLocalDescription(await hub.createOffer())
        answers: list[dict[str, Any]] = []

        async def send(msg: dict[str, Any]) -> None:
            answers.append(msg)
        terminal = Terminal(send, audio=AudioStreamTrack(), video=VideoStreamTrack())
        mids = [t.mid for t in hub.getTransceivers()]
        await terminal.handle({"type": "rtc.offer", "sdp": hub.localDescription.sdp, "tracks": {},
                               "publish": {"audio": mids[5], "video": mids[6]}, "ice_servers": []})
        assert answers and answers[0]["type"] == "rtc.answer"
        assert terminal.pc is not None
        transports = {id(t.receiver.transport) for t in terminal.pc.getTransceivers()} | \
            {id(t.sender.transport) for t in terminal.pc.getTransceivers()}
        assert len(terminal.pc.getTransceivers()) == 7 and len(transports) == 1
        await terminal.close()
        await hub.close()
    asyncio.run(main())
