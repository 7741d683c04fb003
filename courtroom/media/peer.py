"""One participant's peer connection with the hub.

The hub always makes the offers, so two offers never cross (no glare): the
participant asks to join with what it will publish (its ``Source`` list:
a browser's microphone and camera, or a courtroom PC's seat microphones and
cameras, each tagged with the participant it belongs to), the hub offers
one receive-only section per source and one send-only section per track of
the others it receives, and renegotiates whenever those change, one offer
at a time. The participant answers, attaching each source to the section
named for it in ``publish``.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Callable

from aiortc import (RTCConfiguration, RTCIceCandidate, RTCPeerConnection, RTCRtpSender, RTCRtpTransceiver,
                    RTCSessionDescription)
from aiortc.rtcconfiguration import RTCBundlePolicy
from aiortc.sdp import candidate_from_sdp

from protocol.publish import Source

from .forwarding import ForwardedTrack, Publication, TranscodedTrack
from . import rtpsender

log = logging.getLogger(__name__)

#: The codecs the hub forwards, best first; anything else is not negotiated.
CODECS = {"audio": ("audio/opus",), "video": ("video/VP8", "video/H264", "video/rtx")}
ANSWER_TIMEOUT = 15.0
MAX_CANDIDATES = 64
MAX_SDP = 64 * 1024
#: Characters of an underlying error quoted back (never the whole input).
MAX_REASON = 200
_LOCAL_RTP = "_RTCPeerConnection__localRtp"
_SENDER_STARTED = "_RTCRtpSender__started"


class SignallingError(Exception):
    """A peer's signalling message cannot be used; the message says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def preferences(kind: str, only: str | None = None) -> list[Any]:
    """Codec capabilities for a transceiver, in the hub's order; ``only``
    pins one codec (and its retransmission)."""
    caps = RTCRtpSender.getCapabilities(kind).codecs
    wanted = CODECS[kind] if only is None else (only, f"{kind}/rtx")
    return [c for name in wanted for c in caps if c.mimeType.lower() == name.lower()]


@dataclass(slots=True)
class Subscription:
    publication: Publication
    transceiver: RTCRtpTransceiver
    track: ForwardedTrack


class Peer:
    def __init__(self, participant_id: str, signal: Callable[[dict[str, Any]], None],
                 config: RTCConfiguration, on_publish: Callable[[Peer, Publication], None],
                 on_closed: Callable[[Peer], None], on_state: Callable[[], None]) -> None:
        self.participant_id = participant_id
        self.signal = signal
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=config.iceServers,
                                                     bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))
        self._ice_servers = [{"urls": s.urls, **({"username": s.username, "credential": s.credential}
                                                 if s.username else {})} for s in config.iceServers or []]
        #: What this connection publishes, by source name; each source's
        #: ``participant_id`` is set (the speaker).
        self.sources: dict[str, Source] = {}
        self.publish: dict[str, RTCRtpTransceiver] = {}
        self.publications: dict[str, Publication] = {}
        #: By the publication's (connection, source name).
        self.subscriptions: dict[tuple[str, str], Subscription] = {}
        self._spare: list[RTCRtpTransceiver] = []
        self._on_publish = on_publish
        self._on_closed = on_closed
        self._on_state_change = on_state
        self._dirty = asyncio.Event()
        self._answer: asyncio.Future[None] | None = None
        self._candidates = 0
        self._closed = False
        #: A courtroom PC playing into the courtroom (see MediaRoom._wants).
        self.in_courtroom = False
        #: The participant (or device) this connection is of: its id, but
        #: for a watching-only screen (see Session).
        self.member = participant_id
        #: The kinds of the others' media it takes.
        self.receives: frozenset[str] = frozenset({"audio", "video"})
        self._negotiator = asyncio.ensure_future(self._negotiate_loop())
        self.pc.on("track", self._on_track)
        self.pc.on("connectionstatechange", self._on_state)

    def start(self, sources: list[Source]) -> None:
        """Receive these sources (each with its speaker set)."""
        for source in sources:
            t = self.pc.addTransceiver(source.kind, direction="recvonly")
            t.setCodecPreferences(preferences(source.kind))
            self.sources[source.name] = source
            self.publish[source.name] = t
        self.renegotiate()

    def speakers(self) -> set[str]:
        """The participants whose media this connection publishes."""
        return {s.participant_id for s in self.sources.values() if s.participant_id is not None}

    def renegotiate(self) -> None:
        self._dirty.set()

    # -- subscriptions ------------------------------------------------------------

    def subscribe(self, publication: Publication) -> None:
        key = publication.key
        if key in self.subscriptions or self._closed:
            return
        assert publication.codec is not None
        transceiver = next((t for t in self._spare if t.kind == publication.kind), None)
        if transceiver is None:
            transceiver = self.pc.addTransceiver(publication.kind, direction="sendonly")
        else:
            self._spare.remove(transceiver)
            transceiver.direction = "sendonly"
        transceiver.setCodecPreferences(preferences(publication.kind, publication.codec.mimeType)
                                        + [c for c in preferences(publication.kind)
                                           if c.mimeType != publication.codec.mimeType])
        track = publication.subscribe()
        transceiver.sender.replaceTrack(track)
        rtpsender.install(transceiver.sender)
        # A subscriber's picture-loss report (PLI/FIR) goes to the publisher.
        transceiver.sender._send_keyframe = track.keyframe_wanted  # type: ignore[method-assign]
        self.subscriptions[key] = Subscription(publication, transceiver, track)
        self.renegotiate()

    def unsubscribe(self, key: tuple[str, str]) -> None:
        """Stop receiving a publication, by its (connection, source name)."""
        sub = self.subscriptions.pop(key, None)
        if sub is None:
            return
        sub.publication.unsubscribe(sub.track)
        sub.transceiver.sender.replaceTrack(None)
        sub.transceiver.direction = "inactive"
        self._spare.append(sub.transceiver)
        self.renegotiate()

    def _check_codecs(self) -> None:
        """After an answer: a subscriber that could not take the publisher's
        codec gets a transcoded copy instead of forwarded frames."""
        for sub in self.subscriptions.values():
            codecs = sub.transceiver._codecs
            pub_codec = sub.publication.codec
            if not codecs or pub_codec is None:
                continue
            transcode = codecs[0].mimeType.lower() != pub_codec.mimeType.lower()
            if transcode != isinstance(sub.track, TranscodedTrack):
                if transcode:
                    log.warning("%s cannot take %s from %s: transcoding (costs CPU)", self.participant_id,
                                pub_codec.mimeType, sub.publication.participant_id)
                sub.publication.unsubscribe(sub.track)
                sub.track = sub.publication.subscribe(transcode=transcode)
                sub.transceiver.sender.replaceTrack(sub.track)

    # -- signalling ---------------------------------------------------------------

    async def _negotiate_loop(self) -> None:
        try:
            while not self._closed:
                await self._dirty.wait()
                self._dirty.clear()
                await self._negotiate()
        except asyncio.CancelledError:
            pass
        except Exception as err:  # a broken negotiation ends this peer, never the hearing
            log.warning("negotiation with %s failed: %s", self.participant_id, err)
            self.signal({"type": "rtc.error", "error": {"code": "failed",
                                                        "message": f"媒体协商失败: {str(err)[:MAX_REASON]}"}})
            await self.close()

    async def _negotiate(self) -> None:
        offer = await self.pc.createOffer()
        await self.pc.setLocalDescription(offer)
        tracks = {s.transceiver.mid: {"participant_id": s.publication.participant_id, "kind": s.publication.kind,
                                      "name": s.publication.name}
                  for s in self.subscriptions.values()}
        self._answer = asyncio.get_running_loop().create_future()
        self._candidates = 0
        self.signal({"type": "rtc.offer", "sdp": self.pc.localDescription.sdp, "tracks": tracks,
                     "publish": {name: t.mid for name, t in self.publish.items()},
                     "ice_servers": self._ice_servers})
        try:
            await asyncio.wait_for(self._answer, ANSWER_TIMEOUT)
        except asyncio.TimeoutError:
            raise SignallingError("timeout", f"no answer within {ANSWER_TIMEOUT:.0f} s") from None
        finally:
            self._answer = None
        self._check_codecs()
        if self.pc.connectionState == "connected":
            await self._start_senders()

    async def answer(self, sdp: Any) -> None:
        """Apply the participant's answer. A bad one is refused and the offer
        stays open for a good one (aiortc checks a description before it
        applies any of it)."""
        if not isinstance(sdp, str) or not sdp.strip():
            raise SignallingError("invalid", "an answer needs its SDP as a string")
        if len(sdp) > MAX_SDP:
            raise SignallingError("too_large", f"SDP is limited to {MAX_SDP} bytes")
        waiting = self._answer
        if waiting is None or waiting.done():
            raise SignallingError("conflict", "no offer is waiting for an answer")
        try:
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp, "answer"))
        except Exception as err:  # aiortc raises ValueError, OperationError, InvalidStateError...
            raise SignallingError("invalid", f"bad SDP: {str(err)[:MAX_REASON] or type(err).__name__}") from None
        if not waiting.done():
            waiting.set_result(None)

    async def add_candidate(self, candidate: Any) -> None:
        if not isinstance(candidate, dict) or not isinstance(candidate.get("candidate"), str):
            raise SignallingError("invalid", "a candidate is {candidate, sdpMid?, sdpMLineIndex?}")
        text = candidate["candidate"].strip()
        if not text:
            return  # end of candidates
        self._candidates += 1
        if self._candidates > MAX_CANDIDATES:
            raise SignallingError("too_large", f"at most {MAX_CANDIDATES} candidates per negotiation")
        try:
            parsed: RTCIceCandidate = candidate_from_sdp(text.removeprefix("candidate:"))
        except (ValueError, IndexError) as err:
            raise SignallingError("invalid", f"bad candidate: {str(err)[:MAX_REASON]}") from None
        parsed.sdpMid = candidate.get("sdpMid")
        parsed.sdpMLineIndex = candidate.get("sdpMLineIndex")
        await self.pc.addIceCandidate(parsed)

    # -- events -------------------------------------------------------------------

    def _on_track(self, track: Any) -> None:
        transceiver = next(t for t in self.pc.getTransceivers() if t.receiver.track is track)
        name = next((n for n, t in self.publish.items() if t is transceiver), None)
        if name is None:
            return
        source = self.sources[name]
        assert source.participant_id is not None
        publication = Publication(source.participant_id, source.kind, transceiver.receiver,
                                  owner=self.participant_id, name=name)
        self.publications[name] = publication
        self._on_publish(self, publication)

    async def _on_state(self) -> None:
        if self.pc.connectionState in ("failed", "closed"):
            await self.close()
        else:
            if self.pc.connectionState == "connected":
                await self._start_senders()
            self._on_state_change()

    async def _start_senders(self) -> None:
        """Start every sender that should be forwarding. aiortc starts them
        in the connection set-ups that its descriptions schedule (one after
        the offer, one after the answer); when those interleave, a sender can
        be skipped and a subscriber never gets that track. ``send`` does
        nothing for a sender already started. Relies on aiortc internals;
        aiortc is pinned and tests/media/test_forwarding.py checks the names."""
        local_rtp = getattr(self.pc, _LOCAL_RTP)
        for t in self.pc.getTransceivers():
            if t.currentDirection in ("sendonly", "sendrecv") and t.sender.track is not None \
                    and not getattr(t.sender, _SENDER_STARTED):
                await t.sender.send(local_rtp(t))

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._negotiator.cancel()
        if self._answer is not None and not self._answer.done():
            self._answer.cancel()
        for sub in self.subscriptions.values():
            sub.publication.unsubscribe(sub.track)
        self.subscriptions.clear()
        for publication in self.publications.values():
            publication.close()
        self._on_closed(self)
        await self.pc.close()
