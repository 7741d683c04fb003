"""The aiortc internals the terminal relies on (aiortc is pinned)."""

from __future__ import annotations

import asyncio

from aiortc import RTCPeerConnection

from devices.terminal import _LOCAL_RTP, _SENDER_STARTED


def test_sender_start_hooks_are_where_the_terminal_expects_them() -> None:
    async def main() -> None:
        pc = RTCPeerConnection()
        transceiver = pc.addTransceiver("video", direction="sendonly")
        assert getattr(transceiver.sender, _SENDER_STARTED) is False
        assert callable(getattr(pc, _LOCAL_RTP))
        await pc.close()
    asyncio.run(main())
