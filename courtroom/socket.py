"""One websocket client of a stream (a hearing's screen, a case's page):
reads its messages, and writes to it from a bounded queue so that a slow
or dead client never stalls the others.

What every stream's socket shares lives here: the send queue and its
limits, catch-up replays paced across the hub, ``sync``/``snapshot``,
ops answered by the stream, the rate limit. A kind of stream adds its own
messages (``_other``), its welcome, and what it refuses before the core
sees an op (``_refuse``): ``session.Session`` for a hearing,
``casesocket.CaseSocket`` for a case.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import Any, Sequence

from starlette.websockets import WebSocket, WebSocketDisconnect

from protocol import wellformed
from protocol.limits import MAX_OP_ID, MESSAGE_LIMIT, Close
from transcript.errors import OpError, shown

from .ratelimit import Pace
from .stream import Stream, encode

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


@dataclass(frozen=True, slots=True)
class Replay:
    """Committed events to catch a client up with: ``events[start:end]``
    (encoded ``event`` messages), then ``synced`` at ``upto``."""
    stream: Stream
    events: Sequence[str]
    start: int
    end: int
    upto: int
    batch: bool = False
    #: A ``snapshot`` message, sent before the events.
    snapshot: str | None = None


class StreamSocket:
    """``participant``: who the client is, as the stream's listeners name
    it (``participant_id``)."""

    def __init__(self, ws: WebSocket, stream: Stream, participant: Any) -> None:
        self.ws = ws
        self.stream = stream
        self.participant = participant
        self.live = False
        self.waiting_since: int | None = None
        self.wants_snapshot = False
        #: Whether catch-up events come batched (``sync`` with ``"batch": true``).
        self.batch = False
        self._queue: asyncio.Queue[str | Replay | None] = asyncio.Queue(QUEUE_LIMIT)
        self._closing: tuple[int, str] | None = None
        self._queued_chars = 0
        self._sending_since: float | None = None
        self._watching: asyncio.TimerHandle | None = None

    # -- what a kind of stream says --------------------------------------------

    def _welcome(self) -> dict[str, Any]:
        raise NotImplementedError

    def _join(self) -> None:
        """The client is in: the stream starts telling it things."""

    def _leave(self) -> None:
        """The client is going (called once)."""

    def _sync(self, since: int) -> None:
        """Catch the client up from ``since`` (or from a snapshot), then live."""
        raise NotImplementedError

    def _other(self, kind: str, msg: dict[str, Any]) -> None:
        """A message type of this kind of stream's own."""
        self._error("invalid", f"unknown message type: {shown(kind)}")

    def _refuse(self, op: Any, size: int) -> OpError | None:
        """A refusal the socket makes before the stream sees the op (of
        ``size`` bytes as sent)."""
        if size > MESSAGE_LIMIT:
            return OpError("too_large", f"messages are limited to {MESSAGE_LIMIT} bytes")
        return None

    async def _finish(self) -> None:
        """After the connection: release what the kind of stream holds."""

    # -- Listener -------------------------------------------------------------

    def push(self, message: str) -> None:
        self._enqueue(message, len(message))

    def push_json(self, message: dict[str, Any]) -> None:
        self.push(encode(message))

    def push_catch_up(self, replay: Replay) -> None:
        """Queue a catch-up; its events are read from the stream's list when
        sent, so a large catch-up costs no queue memory."""
        self._enqueue(replay, 0)

    def _enqueue(self, item: str | Replay, size: int) -> None:
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
        self._leave()
        # Wake the writer even if the queue is full.
        while True:
            try:
                self._queue.put_nowait(None)
                return
            except asyncio.QueueFull:
                self._queue.get_nowait()

    # -- the connection ------------------------------------------------------

    async def run(self) -> None:
        await self.ws.send_text(encode(self._welcome()))
        self._join()
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
            await self._finish()
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
                if isinstance(item, Replay):
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

    async def _replay(self, replay: Replay) -> None:
        """Catch-up events, paced so that they never hold up live traffic:
        all replays of the hub share one pace, and each yields between
        slices, so acks and live events of the screens already synced go out
        promptly however many screens are catching up. Batched, many events
        travel in one ``events`` message (one write instead of hundreds)."""
        hub = replay.stream.hub
        async with hub.replaying:
            await self._replay_paced(replay, hub.replay_pace)

    async def _replay_paced(self, replay: Replay, pace: Pace) -> None:
        events = replay.events
        at = replay.start
        if replay.snapshot is not None:
            await pace.take(max(1.0, len(replay.snapshot) / BATCH_CHARS_PER_UNIT))
            await self._send(replay.snapshot)
        while at < replay.end:
            if self._closing:
                return  # gone: nothing more to send, and the turn goes to the next
            if replay.batch:
                end, size = at, 0
                while end < replay.end and (end == at or size + len(events[end]) < BATCH_CHARS):
                    size += len(events[end]) + 1
                    end += 1
                await pace.take(max(1.0, size / BATCH_CHARS_PER_UNIT))
                await self._send('{"type":"events","events":[' + ",".join(events[at:end]) + "]}")
            else:
                end = min(replay.end, at + REPLAY_SLICE)
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
        wait = self.stream.admits(self.participant.participant_id)
        if wait:
            self._too_fast(msg, wait)
        elif kind == "op":
            self._op(msg, len(text.encode("utf-8")), problem)
        elif problem is not None:
            self._error("invalid", problem)
        elif len(text) > MESSAGE_LIMIT:
            self._error("too_large", f"messages are limited to {MESSAGE_LIMIT} bytes")
        elif kind in ("sync", "snapshot"):
            since, batch = msg.get("since", 0) if kind == "sync" else 0, msg.get("batch", False)
            if not isinstance(since, int) or isinstance(since, bool) or since < 0:
                self._error("invalid", "since must be a non-negative integer")
                return
            if not isinstance(batch, bool):
                self._error("invalid", "batch must be true or false")
                return
            self.batch, self.wants_snapshot = batch, kind == "snapshot"
            self._sync(since)
        else:
            self._other(kind, msg)

    def _too_fast(self, msg: dict[str, Any], wait: float) -> None:
        error = OpError("too_large", "too many messages; send again shortly", limit="rate",
                        retry_after=max(0.01, round(wait, 2)))
        op_id = msg.get("op_id")
        if msg["type"] == "op" and isinstance(op_id, str) and 0 < len(op_id) <= MAX_OP_ID \
                and wellformed.is_text(op_id):
            self.stream.reject(self, op_id, error, remember=False)
        else:
            self.push(encode({"type": "error", "error": error.to_dict()}))

    def _op(self, msg: dict[str, Any], size: int, problem: str | None) -> None:
        op_id = msg.get("op_id")
        if not isinstance(op_id, str) or not 0 < len(op_id) <= MAX_OP_ID or not wellformed.is_text(op_id):
            self._error("invalid", f"an op needs an op_id string of 1 to {MAX_OP_ID} characters")
            return
        if problem is not None:
            self.stream.reject(self, op_id, OpError("invalid", problem))
            return
        op = msg.get("op")
        refusal = self._refuse(op, size)
        if refusal is not None:
            self.stream.reject(self, op_id, refusal)
            return
        self.stream.submit(self, op_id, op)
