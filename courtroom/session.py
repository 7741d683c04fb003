"""One websocket client of a hearing: reads its messages, and writes to it
from a bounded queue so that a slow or dead screen never stalls the others."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from protocol import messages, wellformed
from protocol.limits import MAX_OP_ID, MAX_PARTIAL, MESSAGE_LIMIT, Close
from protocol.publish import KINDS, PublishError, Source, default_sources, parse_sources
from transcript.errors import OpError, shown
from transcript.model import Participant
from transcript.ops import evidence_name
from transcript.roles import SPEAKING_ROLES, Site
from transcript.state import may, parse_op, permissions_of

from .equipment import Device
from .media.peer import Peer, SignallingError
from .ratelimit import Pace
from .room import Room
from .stream import encode

log = logging.getLogger(__name__)

#: A client is dropped as too slow when one message has waited this long to
#: be written to its socket (it is not reading), or when more than this many
#: messages, or characters of them, wait for it (bounding memory in bursts).
SEND_TIMEOUT = 10.0
QUEUE_LIMIT = 10_000
QUEUE_CHARS_LIMIT = 16 * 1024 * 1024
CLOSE_TOO_SLOW = Close.TOO_SLOW
#: Seconds between looks at whether a screen still reads its messages.
WATCH_EVERY = 1.0
#: Replayed events sent between two yields to the event loop.
REPLAY_SLICE = 32
#: Characters of events in one batched catch-up message.
BATCH_CHARS = 256 * 1024
#: A batch costs the hub about as much as one event message per this many
#: characters (measured: 600 events in one 240 KB batch, 1.3 ms; one event
#: message, 16 µs), which is what it takes from the replay pace.
BATCH_CHARS_PER_UNIT = 3_000
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


@dataclass(frozen=True, slots=True)
class _Replay:
    room: Room
    since: int
    upto: int
    batch: bool = False
    #: A ``snapshot`` message at ``since``, sent before the events after it.
    snapshot: str | None = None


class Session:
    def __init__(self, ws: WebSocket, room: Room, participant: Participant, device: Device | None = None) -> None:
        """``device``: this is a courtroom's equipment (then ``participant``
        stands for it: an observer seated in the courtroom, named after it)."""
        self.ws = ws
        self.room = room
        self.participant = participant
        self.device = device
        self.live = False
        self.waiting_since: int | None = None
        self.wants_snapshot = False
        #: Whether catch-up events come batched (``sync`` with ``"batch": true``).
        self.batch = False
        self._queue: asyncio.Queue[str | _Replay | None] = asyncio.Queue(QUEUE_LIMIT)
        self._closing: tuple[int, str] | None = None
        self._queued_chars = 0
        self._sending_since: float | None = None
        self._rtc: asyncio.Queue[dict[str, Any]] = asyncio.Queue(RTC_QUEUE)
        self._signalling: asyncio.Task[None] | None = None
        self._watching: asyncio.TimerHandle | None = None
        self._peer: Peer | None = None

    # -- Listener -------------------------------------------------------------

    def push(self, message: str) -> None:
        self._enqueue(message, len(message))

    def push_replay(self, room: Room, since: int, upto: int, snapshot: str | None = None) -> None:
        """Queue a replay of committed events (after a snapshot, if given);
        they are read from the room's list when sent, so a large catch-up
        costs no queue memory."""
        self._enqueue(_Replay(room, since, upto, self.batch, snapshot), 0)

    def _enqueue(self, item: str | _Replay, size: int) -> None:
        if self._closing:
            return
        if self._queue.full() or self._queued_chars + size > QUEUE_CHARS_LIMIT:
            log.warning("dropping %s: %d messages (%d characters) unsent", self.participant.participant_id,
                        self._queue.qsize(), self._queued_chars)
            self.close_soon(CLOSE_TOO_SLOW, "client too slow")
            return
        self._queued_chars += size
        self._queue.put_nowait(item)

    def close_soon(self, code: int, reason: str) -> None:
        if self._closing:
            return
        self._closing = (code, reason)
        self.room.leave(self)
        # Wake the writer even if the queue is full.
        while True:
            try:
                self._queue.put_nowait(None)
                return
            except asyncio.QueueFull:
                self._queue.get_nowait()

    # -- the connection ------------------------------------------------------

    async def run(self) -> None:
        room = self.room
        welcome: dict[str, Any] = {
            "type": "welcome", "participant": self.participant.to_dict(),
            "permissions": permissions_of(self.participant.role), "seq": room.committed_seq,
            "hearing_id": room.hearing_id, "limits": {"max_message_bytes": MESSAGE_LIMIT}}
        if self.device is not None:
            welcome["device"] = self.device.to_dict()
        await self.ws.send_text(encode(welcome))
        room.join(self)
        reader = asyncio.create_task(self._read())
        writer = asyncio.create_task(self._write())
        loop = asyncio.get_running_loop()
        stalled: asyncio.Future[None] = loop.create_future()
        self._watching = loop.call_later(WATCH_EVERY, self._watch, stalled)
        try:
            await asyncio.wait({reader, writer, stalled}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.close_soon(1000, "bye")
            reader.cancel()
            self._watching.cancel()
            if self._signalling is not None:
                self._signalling.cancel()
            if self._peer is not None:
                await self._peer.close()
            if stalled.done() or reader.done():
                # The peer does not read, or is gone: there is nobody to
                # flush to or close politely. Stop writing at once (a writer
                # waiting its turn for a catch-up would otherwise keep the
                # whole session alive for seconds), and let the server close
                # the transport.
                writer.cancel()
            try:
                await asyncio.wait_for(writer, 5)
            except (asyncio.TimeoutError, asyncio.CancelledError, Exception):
                writer.cancel()

    def _watch(self, stalled: asyncio.Future[None]) -> None:
        """Every second (a timer, not a task: thousands of screens cost the
        collector less): is one message waiting too long to be written?"""
        since = self._sending_since
        if since is not None and time.monotonic() - since > SEND_TIMEOUT:
            log.warning("dropping %s: not reading for %.0f s", self.participant.participant_id, SEND_TIMEOUT)
            self.close_soon(CLOSE_TOO_SLOW, "client too slow")
            if not stalled.done():
                stalled.set_result(None)
            return
        self._watching = asyncio.get_running_loop().call_later(WATCH_EVERY, self._watch, stalled)

    async def _read(self) -> None:
        try:
            while not self._closing:
                message = await self.ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                text = message.get("text")
                if text is None:
                    self._error("invalid", "messages must be JSON text frames")
                    continue
                self.handle(text)
        except (WebSocketDisconnect, RuntimeError):
            pass

    async def _write(self) -> None:
        ws = self.ws
        try:
            while True:
                item = await self._queue.get()
                if item is None:
                    break
                if isinstance(item, _Replay):
                    await self._replay(item)
                else:
                    self._queued_chars -= len(item)
                    await self._send(item)
            code, reason = self._closing or (1000, "bye")
            # A close frame's reason is at most 123 bytes of UTF-8.
            reason = reason.encode("utf-8")[:123].decode("utf-8", "ignore")
            await asyncio.wait_for(ws.close(code, reason), 2)
        except Exception:  # the peer is gone; nothing more to tell it
            pass

    async def _replay(self, replay: _Replay) -> None:
        """Catch-up events, paced so that they never hold up live traffic:
        all replays of the hub share one pace, and each yields between
        slices, so acks and live events of the screens already synced go out
        promptly however many screens are catching up. Batched, many events
        travel in one ``events`` message (one write instead of hundreds)."""
        hub = replay.room.hub
        async with hub.replaying:
            await self._replay_paced(replay, hub.replay_pace)

    async def _replay_paced(self, replay: _Replay, pace: Pace) -> None:
        events = replay.room.events
        at = replay.since
        if replay.snapshot is not None:
            await pace.take(max(1.0, len(replay.snapshot) / BATCH_CHARS_PER_UNIT))
            await self._send(replay.snapshot)
        while at < replay.upto:
            if self._closing:
                return  # gone: nothing more to send, and the turn goes to the next
            if replay.batch:
                end, size = at, 0
                while end < replay.upto and (end == at or size + len(events[end]) < BATCH_CHARS):
                    size += len(events[end]) + 1
                    end += 1
                await pace.take(max(1.0, size / BATCH_CHARS_PER_UNIT))
                await self._send('{"type":"events","events":[' + ",".join(events[at:end]) + "]}")
            else:
                end = min(replay.upto, at + REPLAY_SLICE)
                await pace.take(end - at)
                for message in events[at:end]:
                    await self._send(message)
            at = end
        await self._send(encode({"type": "synced", "seq": replay.upto}))

    async def _send(self, message: str) -> None:
        self._sending_since = time.monotonic()
        await self.ws.send_text(message)
        self._sending_since = None

    # -- messages ------------------------------------------------------------

    def _error(self, code: str, message: str) -> None:
        self.push(encode({"type": "error", "error": {"code": code, "message": message}}))

    def handle(self, text: str) -> None:
        try:
            msg: Any = json.loads(text)
        except (ValueError, RecursionError):
            self._error("invalid", "malformed JSON")
            return
        if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
            self._error("invalid", "a message must be an object with a string \"type\"")
            return
        # Checked before anything reads the message: a string that cannot be
        # encoded must never reach the state, the log or another screen.
        problem = wellformed.problem(text, msg)
        kind = msg["type"]
        wait = self.room.admits(self.participant.participant_id)
        if wait:
            self._too_fast(msg, wait)
        elif kind == "op":
            self._op(msg, len(text.encode("utf-8")), problem)
        elif problem is not None:
            self._error("invalid", problem)
        elif len(text) > MESSAGE_LIMIT:
            self._error("too_large", f"messages are limited to {MESSAGE_LIMIT} bytes")
        elif kind == "sync":
            since, batch = msg.get("since", 0), msg.get("batch", False)
            if not isinstance(since, int) or isinstance(since, bool) or since < 0:
                self._error("invalid", "since must be a non-negative integer")
                return
            if not isinstance(batch, bool):
                self._error("invalid", "batch must be true or false")
                return
            self.batch, self.wants_snapshot = batch, False
            self.room.sync(self, since)
        elif kind == "snapshot":
            batch = msg.get("batch", False)
            if not isinstance(batch, bool):
                self._error("invalid", "batch must be true or false")
                return
            self.batch, self.wants_snapshot = batch, True
            self.room.sync(self, 0)
        elif kind == "partial":
            self._partial(msg)
        elif kind == messages.DEVICE_CAPTURE:
            self._capture(msg)
        elif kind in (messages.DEVICE_CAPTURE_DONE, messages.DEVICE_CAPTURE_FAILED):
            self._device_capture(msg)
        elif kind == messages.DEVICE_READERS:
            self._device_readers(msg)
        elif kind in messages.RTC_FROM_CLIENT:
            if self.room.media is None:
                self._error("unavailable", "this hub runs without media")
            elif self._rtc.full():
                self._error("too_large", "too many signalling messages at once")
            else:
                self._rtc.put_nowait(msg)
                if self._signalling is None:  # started with the first signalling message
                    self._signalling = asyncio.create_task(self._signal())
        else:
            self._error("invalid", f"unknown message type: {shown(kind)}")

    def _too_fast(self, msg: dict[str, Any], wait: float) -> None:
        error = OpError("too_large", "too many messages; send again shortly", limit="rate",
                        retry_after=max(0.01, round(wait, 2)))
        op_id = msg.get("op_id")
        if msg["type"] == "op" and isinstance(op_id, str) and 0 < len(op_id) <= MAX_OP_ID \
                and wellformed.is_text(op_id):
            self.room.reject(self, op_id, error, remember=False)
        else:
            self.push(encode({"type": "error", "error": error.to_dict()}))

    def _op(self, msg: dict[str, Any], size: int, problem: str | None) -> None:
        op_id = msg.get("op_id")
        if not isinstance(op_id, str) or not 0 < len(op_id) <= MAX_OP_ID or not wellformed.is_text(op_id):
            self._error("invalid", f"an op needs an op_id string of 1 to {MAX_OP_ID} characters")
            return
        if problem is not None:
            self.room.reject(self, op_id, OpError("invalid", problem))
            return
        if self.device is not None:
            self.room.reject(self, op_id, OpError("forbidden", "courtroom equipment sends no ops"))
            return
        if size > MESSAGE_LIMIT:
            self.room.reject(self, op_id, OpError("too_large", f"messages are limited to {MESSAGE_LIMIT} bytes"))
            return
        op = msg.get("op")
        if isinstance(op, dict) and op.get("kind") in HTTP_ONLY:
            self.room.reject(self, op_id, OpError("invalid", HTTP_ONLY[op["kind"]].format(hearing_id=self.room.hearing_id)))
            return
        self.room.submit(self, op_id, op)

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

    def push_json(self, message: dict[str, Any]) -> None:
        self.push(encode(message))

    def _partial(self, msg: dict[str, Any]) -> None:
        text = msg.get("text")
        if self.participant.role not in SPEAKING_ROLES:
            self._error("forbidden", "observers do not speak")
        elif not isinstance(text, str) or len(text) > MAX_PARTIAL:
            self._error("invalid", f"partial text must be a string of at most {MAX_PARTIAL} characters")
        else:
            self.room.partial(self.participant.participant_id, text)
