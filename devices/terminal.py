"""The media side of a remote terminal (a detention-centre or procuratorate
terminal, or any program joining like a browser): it answers the hub's
offers with aiortc, publishing its microphone and camera on the sections
the hub names and receiving everyone else's tracks.

It speaks only the wire protocol (``rtc.*`` messages on the hearing
websocket); whatever carries those messages hands them to ``handle``.
"""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable

from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from aiortc.exceptions import InvalidStateError


class Terminal:
    def __init__(self, send: Callable[[dict[str, Any]], Awaitable[None]], *,
                 audio: MediaStreamTrack | None = None, video: MediaStreamTrack | None = None,
                 on_track: Callable[[str, str, MediaStreamTrack], None] | None = None) -> None:
        """``on_track(participant_id, kind, track)`` for every track received."""
        self.send = send
        self.audio = audio
        self.video = video
        self.on_track = on_track
        self.pc: RTCPeerConnection | None = None
        self.tracks: dict[str, dict[str, str]] = {}  # mid → {participant_id, kind}
        self.negotiated = asyncio.Event()
        self.removed: dict[str, Any] | None = None  # the hub's rtc.closed, if it sent one
        self._closed = False

    async def join(self) -> None:
        await self.send({"type": "rtc.join", "audio": self.audio is not None, "video": self.video is not None})

    async def leave(self) -> None:
        await self.send({"type": "rtc.leave"})
        await self.close()

    async def handle(self, msg: dict[str, Any]) -> None:
        if msg["type"] == "rtc.offer":
            try:
                await self._offer(msg)
            except InvalidStateError:
                if not self._closed:
                    raise  # otherwise: an offer still on its way when we closed
        elif msg["type"] == "rtc.closed":
            self.removed = msg
            await self.close()

    async def _offer(self, msg: dict[str, Any]) -> None:
        if self.pc is None:
            self.pc = RTCPeerConnection()
            self.pc.on("track", self._track)
        pc = self.pc
        self.tracks.update(msg.get("tracks", {}))
        await pc.setRemoteDescription(RTCSessionDescription(msg["sdp"], "offer"))
        for kind, mid in msg.get("publish", {}).items():
            track = self.audio if kind == "audio" else self.video
            transceiver = next(t for t in pc.getTransceivers() if t.mid == mid)
            if track is not None and transceiver.sender.track is None:
                transceiver.direction = "sendonly"
                transceiver.sender.replaceTrack(track)
        await pc.setLocalDescription(await pc.createAnswer())
        await self.send({"type": "rtc.answer", "sdp": pc.localDescription.sdp})
        self.negotiated.set()

    def _track(self, track: MediaStreamTrack) -> None:
        assert self.pc is not None
        mid = next(t.mid for t in self.pc.getTransceivers() if t.receiver.track is track)
        info = self.tracks.get(mid or "")
        if info is not None and self.on_track is not None:
            self.on_track(info["participant_id"], info["kind"], track)

    async def close(self) -> None:
        self._closed = True
        if self.pc is not None:
            await self.pc.close()
