"""One websocket client of a hearing: a stream's socket (``socket``) that
also carries the hearing's own messages: media signalling, interim speech,
and the courtroom devices' captures and readers."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from starlette.websockets import WebSocket

from protocol import messages
from protocol.limits import MAX_PARTIAL, MESSAGE_LIMIT
from protocol.publish import KINDS, PublishError, Source, default_sources, parse_sources
from transcript.errors import OpError
from transcript.model import Participant
from transcript.ops import evidence_name
from transcript.roles import SPEAKING_ROLES, Site
from transcript.state import may, parse_op, permissions_of

from storage.equipment import Device
from .media.peer import Peer, SignallingError
from .room import Room
from .socket import Replay, StreamSocket

log = logging.getLogger(__name__)

#: A watching-only media connection's id: its participant's, and this.
WATCH_SUFFIX = "~watch"
#: Signalling messages waiting to be handled; beyond it they are refused.
RTC_QUEUE = 256
#: Where the ops that never come over the websocket are sent instead (the
#: evidence's file must be stored first; a re-issued token goes back to the
#: one who asked, never over a shared channel).
HTTP_ONLY = {"evidence.add": "evidence is filed by uploading it: POST /api/hearings/{hearing_id}/evidence",
             "invite.reissue": "invites are re-issued over HTTP: "
                               "POST /api/hearings/{hearing_id}/participants/PARTICIPANT_ID/invite"}


class Session(StreamSocket):
    stream: Room

    def __init__(self, ws: WebSocket, room: Room, participant: Participant, device: Device | None = None) -> None:
        """``device``: this is a courtroom's equipment (then ``participant``
        stands for it: an observer seated in the courtroom, named after it)."""
        super().__init__(ws, room, participant)
        self.room = room
        self.device = device
        self._rtc: asyncio.Queue[dict[str, Any]] = asyncio.Queue(RTC_QUEUE)
        self._signalling: asyncio.Task[None] | None = None
        self._peer: Peer | None = None

    # -- the hearing's side of the socket ---------------------------------------

    def push_replay(self, room: Room, since: int, upto: int, snapshot: str | None = None) -> None:
        """Queue a replay of committed events (after a snapshot, if given)."""
        self.push_catch_up(Replay(room, room.events, since, upto, upto, self.batch, snapshot))

    def _welcome(self) -> dict[str, Any]:
        welcome: dict[str, Any] = {
            "type": "welcome", "participant": self.participant.to_dict(),
            "permissions": permissions_of(self.participant.role), "seq": self.room.committed_seq,
            "hearing_id": self.room.hearing_id, "limits": {"max_message_bytes": MESSAGE_LIMIT}}
        if self.device is not None:
            welcome["device"] = self.device.to_dict()
        return welcome

    def _join(self) -> None:
        self.room.join(self)

    def _leave(self) -> None:
        self.room.leave(self)

    def _sync(self, since: int) -> None:
        self.room.sync(self, since)

    async def _finish(self) -> None:
        if self._signalling is not None:
            self._signalling.cancel()
        if self._peer is not None:
            await self._peer.close()

    def _other(self, kind: str, msg: dict[str, Any]) -> None:
        if kind == "partial":
            self._partial(msg)
        elif kind == messages.DEVICE_CAPTURE:
            self._capture(msg)
        elif kind in (messages.DEVICE_CAPTURE_DONE, messages.DEVICE_CAPTURE_FAILED):
            self._device_capture(msg)
        elif kind == messages.DEVICE_READERS:
            self._device_readers(msg)
        elif kind in messages.RTC_FROM_CLIENT:
            if self.room.media is None and self.room.upstream is not None:
                self._error("moved", "this hearing's media runs on the node that holds it now: "
                                     "open the page again to be sent there")
            elif self.room.media is None:
                self._error("unavailable", "this hub runs without media")
            elif self._rtc.full():
                self._error("too_large", "too many signalling messages at once")
            else:
                self._rtc.put_nowait(msg)
                if self._signalling is None:  # started with the first signalling message
                    self._signalling = asyncio.create_task(self._signal())
        else:
            super()._other(kind, msg)

    def _refuse(self, op: Any, size: int) -> OpError | None:
        if self.device is not None:
            return OpError("forbidden", "courtroom equipment sends no ops")
        refusal = super()._refuse(op, size)
        if refusal is None and isinstance(op, dict) and op.get("kind") in HTTP_ONLY:
            refusal = OpError("invalid", HTTP_ONLY[op["kind"]].format(hearing_id=self.room.hearing_id))
        return refusal

    async def _signal(self) -> None:
        """Signalling messages, one at a time and in order."""
        while True:
            msg = await self._rtc.get()
            try:
                await self._rtc_message(msg)
            except SignallingError as err:
                self._error(err.code, str(err))
            except asyncio.CancelledError:
                raise
            except Exception as err:
                # aiortc raises on some input it did not expect (a malformed
                # candidate): refuse the message, keep the session signalling.
                log.warning("%s: %s refused: %r", self.participant.participant_id, msg["type"], err)
                self._error("invalid", f"{msg['type']} could not be used")

    async def _rtc_message(self, msg: dict[str, Any]) -> None:
        media = self.room.media
        assert media is not None
        kind = msg["type"]
        if kind == "rtc.join":
            if self.device is None and self.participant.participant_id not in self.room.state.proceedings.admitted:
                raise SignallingError("forbidden", "waiting to be admitted by the judge")
            receive = msg.get("receive", list(KINDS))
            if not isinstance(receive, list) or not set(receive) <= set(KINDS):
                raise SignallingError("invalid", "receive must be a list of kinds: audio, video")
            sources = self._sources(msg)
            # A participant's screen that only watches (a terminal's kiosk
            # picture: it publishes nothing) is a connection of its own: it
            # does not replace the one that carries their microphone.
            watch = self.device is None and msg.get("publish") == []
            connection = self.participant.participant_id + (WATCH_SUFFIX if watch else "")
            self._peer = await media.join(self.participant, self.push_json, sources,
                                          in_courtroom=self.device is not None, receive=frozenset(receive),
                                          connection_id=connection)
            return
        peer = self._peer
        if peer is None or media.peers.get(peer.participant_id) is not peer:
            raise SignallingError("conflict", "not joined: send rtc.join first")
        if kind == "rtc.answer":
            await peer.answer(msg.get("sdp"))
        elif kind == "rtc.candidate":
            await peer.add_candidate(msg.get("candidate"))
        else:
            self._peer = None
            await peer.close()

    def _sources(self, msg: dict[str, Any]) -> list[Source]:
        """What an ``rtc.join`` may publish, each with its speaker: a
        participant publishes only their own media (observers none); a
        courtroom's equipment publishes only for participants seated in
        the courtroom who speak."""
        if "publish" in msg:
            try:
                sources = parse_sources(msg["publish"])
            except PublishError as err:
                raise SignallingError("invalid", str(err)) from None
        else:
            audio, video = msg.get("audio", True), msg.get("video", True)
            if not isinstance(audio, bool) or not isinstance(video, bool):
                raise SignallingError("invalid", "audio and video must be true or false")
            sources = default_sources(audio, video)
        me = self.participant.participant_id
        hearing = self.room.state.hearing
        assert hearing is not None
        checked = []
        for source in sources:
            pid = source.participant_id or me
            if self.device is None:
                if pid != me:
                    raise SignallingError("forbidden", "a participant publishes only their own media")
                if self.participant.role not in SPEAKING_ROLES:
                    continue  # observers publish nothing
            elif not (pid == me and source.kind == "video"):  # its own: the room's, the document camera
                seat = hearing.participants.get(pid)
                if seat is None or seat.site != Site.COURT or seat.role not in SPEAKING_ROLES:
                    raise SignallingError("forbidden", f"track {source.name}: courtroom equipment publishes "
                                                       "only for participants seated in the courtroom")
            checked.append(Source(source.name, source.kind, pid))
        return checked

    def _capture(self, msg: dict[str, Any]) -> None:
        """A participant asks a courtroom device for a photo from a camera
        (filed as their evidence) or for their print from the fingerprint
        reader at their seat (given back to them for their signature); see
        ``captures``."""
        if self.device is not None:
            self._error("forbidden", "devices take captures, they do not ask for them")
            return
        if not self.live:
            self._error("forbidden", "waiting to be admitted by the judge")
            return
        device_id, source = msg.get("device_id"), msg.get("source", "document")
        me = self.participant.participant_id
        if source == "fingerprint":
            if not may(self.participant.role, "signature.add"):
                self._error("forbidden", f"{self.participant.role.value} does not sign")
                return
            if not self.room.state.locked or me in self.room.state.signatures:
                self._error("conflict", "a print is taken to sign the locked transcript, once")
                return
            if not isinstance(device_id, str) or me not in self.room.readers.get(device_id, []) \
                    or not self.room.is_connected(device_id):
                self._error("not_found", "no fingerprint reader at this participant's seat")
                return
            name = "指纹"
        else:
            if not may(self.participant.role, "evidence.add"):
                self._error("forbidden", f"{self.participant.role.value} may not file evidence")
                return
            try:
                name = evidence_name(msg.get("name"))
            except OpError as err:
                self._error("invalid", str(err))
                return
            media = self.room.media
            peer = media.peers.get(device_id) if media is not None and isinstance(device_id, str) else None
            if peer is None or not isinstance(source, str) or source not in peer.sources \
                    or peer.sources[source].kind != "video":
                self._error("not_found", "that camera is not in this hearing")
                return
        assert isinstance(device_id, str) and isinstance(source, str)
        capture = self.room.captures.request(device_id, me, source, name)
        self.room.to_connection(device_id, {"type": messages.DEVICE_CAPTURE, "capture_id": capture.capture_id,
                                            "source": source, "name": name, "participant_id": me})
        self.push_json({"type": messages.DEVICE_CAPTURE, "capture_id": capture.capture_id, "source": source,
                        "status": "requested"})

    def _device_capture(self, msg: dict[str, Any]) -> None:
        """A device's answer to a capture: a print (done), or why it could
        not (failed); the participant who asked is told."""
        capture_id = msg.get("capture_id")
        capture = self.room.captures.peek(capture_id, self.participant.participant_id) \
            if self.device is not None and isinstance(capture_id, str) else None
        if capture is None:
            self._error("not_found", "no such capture waiting for this device")
            return
        answer: dict[str, Any] = {"type": messages.DEVICE_CAPTURE, "capture_id": capture_id, "source": capture.source}
        if msg["type"] == messages.DEVICE_CAPTURE_DONE:
            try:  # a print is what signature.add will take: a PNG or JPEG data URL
                parse_op({"kind": "signature.add", "fingerprint": msg.get("fingerprint")})
            except OpError as err:
                self._error("invalid", str(err))
                return
            if capture.source != "fingerprint":
                self._error("invalid", "photos are uploaded as evidence, not sent here")
                return
            answer.update(status="done", fingerprint=msg["fingerprint"])
        else:
            answer.update(status="failed", message=str(msg.get("message", ""))[:200] or "设备未能完成采集")
        self.room.captures.take(capture_id, self.participant.participant_id)
        self.room.to_connection(capture.requester_id, answer)

    def _device_readers(self, msg: dict[str, Any]) -> None:
        """A device's fingerprint readers, by the participant seated at each."""
        pids = msg.get("fingerprint", [])
        hearing = self.room.state.hearing
        assert hearing is not None
        if self.device is None:
            self._error("forbidden", "only courtroom equipment has readers")
        elif not isinstance(pids, list) or len(pids) > 64 or not all(
                isinstance(p, str) and p in hearing.participants and hearing.participants[p].site == Site.COURT
                for p in pids):
            self._error("invalid", "fingerprint must list participants seated in the courtroom")
        else:
            self.room.readers[self.participant.participant_id] = list(dict.fromkeys(pids))
            self.room.presence_changed()

    def _partial(self, msg: dict[str, Any]) -> None:
        text = msg.get("text")
        if self.participant.role not in SPEAKING_ROLES:
            self._error("forbidden", "observers do not speak")
        elif not isinstance(text, str) or len(text) > MAX_PARTIAL:
            self._error("invalid", f"partial text must be a string of at most {MAX_PARTIAL} characters")
        else:
            self.room.partial(self.participant.participant_id, text)
