"""A stream served on this node but ordered by another: what arrives on
its channel, applied in order.

Entries are applied strictly one after another, each checked as replay
checks it. One that comes early (an earlier one was missed: pub/sub
delivers at most once, and nothing while the connection to Redis is down)
makes the follower read the missing ones from the log, where the authority
committed them before publishing. Forwarded ops whose answer is overdue
make it look too (the answer may have been missed with its entry).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

from transcript.log import ChainError, LogEntry

from ..stream import Stream

if TYPE_CHECKING:
    from .node import Node

log = logging.getLogger(__name__)

#: Seconds a forwarded op may wait for its answer before the log is read.
OVERDUE = 1.0


def entry_to_wire(e: LogEntry) -> list[Any]:
    """A committed entry as the authority publishes it."""
    return [e.stream_id, e.seq, e.participant_id, e.op_id, e.ts_ms, e.op, e.event, e.prev_hash, e.hash]


def entry_from_wire(fields: list[Any]) -> LogEntry:
    return LogEntry(*fields)


class Follower:
    def __init__(self, node: Node, stream_id: str, authority: str) -> None:
        self.node = node
        self.stream_id = stream_id
        #: The node holding the stream's lease, where ops are forwarded.
        self.authority = authority
        self.stream: Stream | None = None
        self._early: dict[int, LogEntry] = {}
        self._reading = False
        #: Ops forwarded and not yet answered: when, and the op itself (sent
        #: again here if this node takes the stream over).
        self._sent: dict[tuple[str, str], tuple[float, Any]] = {}

    def attach(self, stream: Stream) -> None:
        """The stream as loaded from the log (after subscribing)."""
        self.stream = stream
        stream.upstream = self.node
        self._apply_ready()

    def on_message(self, message: dict[str, Any]) -> None:
        if message.get("t") == "entries":
            for fields in message["e"]:
                entry = entry_from_wire(fields)
                self._early[entry.seq] = entry
                self._sent.pop((entry.participant_id, entry.op_id), None)
            self._apply_ready()
        elif message.get("t") == "pass" and self.stream is not None:
            passing = getattr(self.stream, "passing", None)
            if passing is not None:
                passing(message["m"])

    def sent(self, actor_id: str, op_id: str, op: Any) -> None:
        self._sent[(actor_id, op_id)] = (time.monotonic(), op)

    def redirect(self, authority: str) -> None:
        """The stream's lease is held by ``authority`` now: the ops forwarded
        to the one before and not answered go there again (an authority
        that died took them with it). Sending one twice is harmless: the
        authority knows an op id it has committed or has in flight."""
        if authority == self.authority:
            return
        self.authority = authority
        self._resend(list(self._sent))

    def check_overdue(self) -> None:
        """Ops whose answer is overdue: the log may hold their entries (the
        published message was missed), or the authority never got them
        (its inbox message was lost): read the one, send the other again."""
        now = time.monotonic()
        stream = self.stream
        if stream is None:
            return
        overdue = []
        for key, (at, _) in list(self._sent.items()):
            if not stream.awaits(*key):
                del self._sent[key]
            elif now - at > OVERDUE:
                overdue.append(key)
        if overdue:
            self.catch_up()
            self._resend(overdue)

    def _resend(self, keys: list[tuple[str, str]]) -> None:
        now = time.monotonic()
        for key in keys:
            at_op = self._sent.get(key)
            if at_op is not None:
                self._sent[key] = (now, at_op[1])
                self.node.send_op(self, *key, at_op[1])

    def forwarded(self) -> dict[tuple[str, str], Any]:
        """The ops forwarded and not yet answered, by (actor, op id)."""
        return {key: op for key, (_, op) in self._sent.items()}

    def _apply_ready(self) -> None:
        stream = self.stream
        if stream is None or self._reading or stream.broken:
            return
        for seq in [s for s in self._early if s <= stream.committed_seq]:
            del self._early[seq]
        while (entry := self._early.pop(stream.committed_seq + 1, None)) is not None:
            if not self._apply(entry):
                return
        if self._early:
            self.catch_up()

    def _apply(self, entry: LogEntry) -> bool:
        assert self.stream is not None
        try:
            self.stream.follow_remote(entry)
            return True
        except ChainError as err:
            log.error("%s: a published entry does not follow the mirror (%s); reloading it", self.stream_id, err)
            self.node.hub.evict(self.stream_id)
            return False

    def catch_up(self) -> None:
        """Read what the log holds beyond the mirror, then go on."""
        if self._reading or self.stream is None:
            return
        self._reading = True
        asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        stream = self.stream
        assert stream is not None
        try:
            entries = await self.node.hub.store_call(
                lambda: list(self.node.hub.log.entries(self.stream_id, after=stream.committed_seq)))
        except Exception as err:
            log.warning("%s: mirror could not read the log: %s", self.stream_id, err)
            entries = []
        finally:
            self._reading = False
        before = stream.committed_seq
        for entry in entries:
            if entry.seq == stream.committed_seq + 1 and not stream.broken:
                if not self._apply(entry):
                    return
        if stream.committed_seq == before:
            # Nothing new in the log: what came early is not committed
            # history yet as far as the log shows; wait for more.
            self._early.clear()
        self._apply_ready()
