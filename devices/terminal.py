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

from aiortc import (MediaStreamTrack, RTCBundlePolicy, RTCConfiguration, RTCIceServer, RTCPeerConnection,
                    RTCSessionDescription)
from aiortc.exceptions import InvalidStateError

from protocol.publish import Source

#: At most this long, a renegotiation waits for the connection to be set up.
SETTLE_TIMEOUT = 10.0
_LOCAL_RTP = "_RTCPeerConnection__localRtp"
_SENDER_STARTED = "_RTCRtpSender__started"


class Terminal:
    def __init__(self, send: Callable[[dict[str, Any]], Awaitable[None]], *,
                 audio: MediaStreamTrack | None = None, video: MediaStreamTrack | None = None,
                 sources: list[tuple[Source, MediaStreamTrack]] | None = None,
                 on_track: Callable[[str, str, MediaStreamTrack], None] | None = None,
                 receive: tuple[str, ...] = ("audio", "video")) -> None:
        """Publishes ``audio`` and ``video`` as its participant's own, or
        else each of ``sources`` (a courtroom PC: a track per seat, each
        tagged with its participant, and its cameras). ``on_track(
        participant_id, kind, track)`` for every track received; ``receive``:
        the kinds it takes (a program with no screen: audio only)."""
        self.send = send
        self.sources: dict[str, tuple[Source, MediaStreamTrack]] = (
            {source.name: (source, track) for source, track in sources} if sources is not None else
            {kind: (Source(kind, kind), track) for kind, track in (("audio", audio), ("video", video))
             if track is not None})
        self._named = sources is not None
        self.receive = receive
        self.on_track = on_track
        self.pc: RTCPeerConnection | None = None
        self.tracks: dict[str, dict[str, str]] = {}  # mid → {participant_id, kind}
        self.negotiated = asyncio.Event()
        self.removed: dict[str, Any] | None = None  # the hub's rtc.closed, if it sent one
        self._closed = False
        self._state = asyncio.Event()

    async def join(self) -> None:
        join: dict[str, Any] = {"type": "rtc.join"}
        if self._named:
            join["publish"] = [s.to_dict() for s, _ in self.sources.values()]
        else:
            join.update(audio="audio" in self.sources, video="video" in self.sources)
        if set(self.receive) != {"audio", "video"}:
            join["receive"] = list(self.receive)
        await self.send(join)

    async def leave(self) -> None:
        await self.send({"type": "rtc.leave"})
        await self.close()

    async def handle(self, msg: dict[str, Any]) -> None:
        if msg["type"] == "rtc.offer":
            try:
                await self._offer(msg)
            except InvalidStateError:
                if not self._closed and (self.pc is None or self.pc.signalingState != "closed"):
                    raise
                # Otherwise an offer still on its way when we closed, or when
                # the connection failed and aiortc closed it: whoever owns
                # this terminal sees the closed connection and joins again.
        elif msg["type"] == "rtc.closed":
            self.removed = msg
            await self.close()

    async def _offer(self, msg: dict[str, Any]) -> None:
        if self.pc is None:
            # Max-bundle, as the hub and browsers do. With aiortc's default
            # (balanced), an offer with several video sections gives every
            # video section after the first the first one's transport, which
            # bundling then discards: that camera is never sent and those
            # pictures never arrive. The hub's ICE servers (TURN for a
            # party outside the court's network), and none other: aiortc's
            # default is a public STUN server a court network cannot reach.
            self.pc = RTCPeerConnection(RTCConfiguration(
                iceServers=[RTCIceServer(**server) for server in msg.get("ice_servers") or []],
                bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))
            self.pc.on("track", self._track)
            self.pc.on("connectionstatechange", self._state_changed)
        pc = self.pc
        # aiortc starts a sender only in the connection set-up that follows a
        # negotiation; a renegotiation applied while the first set-up still
        # runs finds DTLS "connecting" and starts nothing, so a track added by
        # it would never be sent. Renegotiate once the connection is up.
        try:
            await asyncio.wait_for(self._settled(), SETTLE_TIMEOUT)
        except asyncio.TimeoutError:
            pass  # answer anyway: the hub gives up on an offer after 15 s
        self.tracks.update(msg.get("tracks", {}))
        await pc.setRemoteDescription(RTCSessionDescription(msg["sdp"], "offer"))
        for name, mid in msg.get("publish", {}).items():
            track = self.sources[name][1] if name in self.sources else None
            transceiver = next(t for t in pc.getTransceivers() if t.mid == mid)
            if track is not None and transceiver.sender.track is None:
                transceiver.direction = "sendonly"
                transceiver.sender.replaceTrack(track)
        await pc.setLocalDescription(await pc.createAnswer())
        await self.send({"type": "rtc.answer", "sdp": pc.localDescription.sdp})
        self.negotiated.set()
        if pc.connectionState == "connected":
            await self._start_senders()

    async def _settled(self) -> None:
        """Until the set-up that followed the last answer is over (connected,
        failed or closed); at once if nothing was answered yet, or if what was
        answered had no media to connect (the first offer to someone who
        neither sends nor receives yet)."""
        assert self.pc is not None
        while self.negotiated.is_set() and self.pc.getTransceivers() \
                and self.pc.connectionState in ("new", "connecting"):
            self._state = asyncio.Event()
            await self._state.wait()

    def _state_changed(self) -> None:
        self._state.set()
        if self.pc is not None and self.pc.connectionState == "connected":
            asyncio.ensure_future(self._start_senders())

    async def _start_senders(self) -> None:
        """Start every sender that should be sending. aiortc starts them in
        the connection set-ups that its descriptions schedule, and when two
        of those interleave (one from the offer, one from the answer) a
        sender can be skipped: the microphone is heard, the camera never
        sent. ``send`` does nothing for a sender already started. Relies on
        aiortc internals; aiortc is pinned and tests/media/test_forwarding.py
        checks the names."""
        pc = self.pc
        if pc is None:
            return
        local_rtp = getattr(pc, _LOCAL_RTP)
        for t in pc.getTransceivers():
            if t.currentDirection in ("sendonly", "sendrecv") and t.sender.track is not None \
                    and not getattr(t.sender, _SENDER_STARTED):
                await t.sender.send(local_rtp(t))

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
