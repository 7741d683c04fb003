"""One stream's authority (a hearing's room, a case's space): the head of
its log, which op_ids have been answered, and who waits for an answer.

Ops are applied to the stream's state machine at once, in the order they
arrive, and handed to the hub's committer; acks and events go out only after
the log entry is durable. A client's resent op_id gets the first answer
again. What a committed entry means to the clients (a hearing's screens and
media, a case's parties) is each kind of stream's own: ``_published``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import TYPE_CHECKING, Any, Callable, Protocol

from protocol import wellformed
from protocol.limits import Close
from transcript.errors import OpError
from transcript.log import LogEntry, Machine, extend, make_entry
from transcript.model import Actor

from .ratelimit import TokenBucket
from .refusals import Refusals

if TYPE_CHECKING:
    from .hub import Hub

log = logging.getLogger(__name__)

Event = dict[str, Any]
#: Characters of a client's op_id that go into a server log line.
MAX_LOGGED_ID = 40


class Listener(Protocol):
    """A connected client, as a stream sees it. ``live`` once it has synced
    and may see the stream; ``waiting_since`` holds the ``since`` of a
    sync that waits for the participant to be admitted."""

    participant: Any
    live: bool
    waiting_since: int | None
    #: Asked for a snapshot of the state and the events after it, rather
    #: than every event from the start.
    wants_snapshot: bool

    def push(self, message: str) -> None: ...

    def push_replay(self, room: Any, since: int, upto: int, snapshot: str | None = None) -> None: ...

    def close_soon(self, code: int, reason: str) -> None: ...


class Upstream(Protocol):
    """Where a mirror's ops go: the node that is the stream's authority
    (``cluster``). The answer comes back through ``Stream.answer_forwarded``
    and the entry through ``Stream.follow_remote``."""

    def forward(self, stream: Stream, actor_id: str, op_id: str, op: Any) -> None: ...


class Reply:
    """The answer to one op submitted over HTTP: a listener that never goes
    live and hears only its own ack or nack."""

    live = False
    waiting_since = None
    wants_snapshot = False

    def __init__(self, participant: Actor | Any) -> None:
        self.participant = participant
        self.answer: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()

    def push(self, message: str) -> None:
        if not self.answer.done():
            self.answer.set_result(json.loads(message))

    def push_replay(self, room: Any, since: int, upto: int, snapshot: str | None = None) -> None:
        """Never asked: a reply does not sync."""

    def close_soon(self, code: int, reason: str) -> None:
        if not self.answer.done():
            self.answer.set_exception(ConnectionError(reason))


def encode(message: dict[str, Any]) -> str:
    """One message as the text of a websocket frame, encoded once for all
    the screens it goes to. Text that UTF-8 cannot carry (a lone surrogate;
    never expected, as text is checked where it enters) is sent escaped, so
    no screen's connection can fail on it."""
    text = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
    return text if wellformed.is_text(text) else json.dumps(message, separators=(",", ":"))


class Stream:
    """The part of an authority every kind of stream shares. ``state`` is
    the stream's machine; a subclass says how an op is applied to it
    (``_apply``) and what a committed entry means to its clients."""

    #: Why a client is sent away while the stream reloads from its log.
    RELOADING = "reloading"
    #: The clients connected (each kind keeps its own).
    listeners: set[Any]

    def __init__(self, hub: Hub, stream_id: str, state: Machine, entries: list[LogEntry]) -> None:
        self.hub = hub
        self.stream_id = stream_id
        self.state = state
        self._buckets: dict[str, TokenBucket] = {}
        self._acked: dict[tuple[str, str], int] = {}
        self._refused = Refusals()
        self._inflight: dict[tuple[str, str], list[Listener]] = {}
        self.seq = 0
        self.head = ""
        self.broken = False
        #: Set on a mirror: a stream served on this node but ordered by
        #: another, whose entries arrive through ``follow_remote``.
        self.upstream: Upstream | None = None
        for e in entries:
            self._record(e)
        if entries:
            self.seq, self.head = entries[-1].seq, entries[-1].hash
        self.committed_seq = self.seq

    def _record(self, entry: LogEntry) -> None:
        """Remember a durable entry. ``seq``/``head`` are not touched: they
        already run ahead to the last entry handed to the committer."""
        self._acked[(entry.participant_id, entry.op_id)] = entry.seq

    def admits(self, participant_id: str) -> float:
        """Whether a participant may send one more message (over any of
        their connections, or HTTP) now: 0, or the seconds to wait."""
        bucket = self._buckets.get(participant_id)
        if bucket is None:
            bucket = self._buckets[participant_id] = TokenBucket(self.hub.rate)
        return bucket.take()

    def _apply(self, actor: Any, op: Any, now_ms: int) -> Event:
        raise NotImplementedError

    def _published(self, entry: LogEntry) -> None:
        """A committed entry, after its sender's ack: tell the clients."""

    def idle(self) -> bool:
        """Whether nothing holds the stream in memory: no client connected,
        nothing on its way to the log. An idle stream can be evicted and
        loaded again from its log, or handed to another node."""
        return not self.listeners and not self._inflight and self.committed_seq == self.seq

    def awaits(self, actor_id: str, op_id: str) -> bool:
        """Whether an op of ``actor_id`` is on its way and not yet answered."""
        return (actor_id, op_id) in self._inflight

    def answered(self, actor_id: str, op_id: str) -> bool:
        """Whether an op of ``actor_id`` with ``op_id`` is logged or on its way."""
        return (actor_id, op_id) in self._acked or (actor_id, op_id) in self._inflight

    # -- ops ----------------------------------------------------------------

    def submit(self, sender: Listener, op_id: str, op: Any) -> None:
        """Apply a client's op; the answer reaches ``sender`` once known."""
        actor = sender.participant
        self._submit(sender, actor.participant_id, op_id, op, lambda now_ms: self._apply(actor, op, now_ms))

    def submit_logged(self, sender: Listener, actor_id: str, op_id: str, op: Any) -> None:
        """Apply an op another node forwarded, as its actor id names the
        author (as replay does)."""
        self._submit(sender, actor_id, op_id, op, lambda now_ms: self.state.apply_logged(actor_id, op, now_ms))

    def _submit(self, sender: Listener, actor_id: str, op_id: str, op: Any, apply: Callable[[int], Event]) -> None:
        if self.broken:
            sender.close_soon(Close.UNAVAILABLE, self.RELOADING)
            return
        key = (actor_id, op_id)
        if key in self._acked:
            sender.push(encode({"type": "ack", "op_id": op_id, "seq": self._acked[key]}))
            return
        refused = self._refused.get(actor_id, op_id)
        if refused is not None:
            sender.push(encode({"type": "nack", "op_id": op_id, "error": refused}))
            return
        if key in self._inflight:
            self._inflight[key].append(sender)
            return
        if self.upstream is not None:
            self._inflight[key] = [sender]
            self.upstream.forward(self, actor_id, op_id, op)
            return
        try:
            entry = self._seal(actor_id, op_id, op, apply)
        except OpError as err:
            self.reject(sender, op_id, err)
            return
        if entry is None:
            sender.close_soon(Close.UNAVAILABLE, self.RELOADING)
        else:
            self._append(entry, [sender])

    # -- a mirror ---------------------------------------------------------------

    def follow_remote(self, entry: LogEntry) -> None:
        """The authority committed ``entry``, the next after ours: apply it
        as replay would, checking it, and publish it here. ``ChainError``
        if it does not check out (the mirror must then be reloaded)."""
        extend(self.state, entry, self.stream_id, self.seq + 1, self.head)
        self.seq, self.head = entry.seq, entry.hash
        self.committed(entry)

    def answer_forwarded(self, actor_id: str, op_id: str, message: str) -> None:
        """The authority's answer to a forwarded op (an ack may come before
        or after the entry itself; whichever is first answers)."""
        for waiter in self._inflight.pop((actor_id, op_id), ()):
            waiter.push(message)

    def take_inflight(self) -> dict[tuple[str, str], list[Listener]]:
        """Every op on its way and who waits for it, handed over (a mirror
        becoming the authority submits its forwarded ops again)."""
        inflight, self._inflight = self._inflight, {}
        return inflight

    def abandon_forwarded(self, actor_id: str, op_id: str) -> None:
        """A forwarded op's authority is gone: its senders reconnect and resend."""
        for waiter in self._inflight.pop((actor_id, op_id), ()):
            waiter.close_soon(Close.UNAVAILABLE, self.RELOADING)

    def _seal(self, actor_id: str, op_id: str, op: Any, apply: Callable[[int], Event]) -> LogEntry | None:
        """Apply an op and build its log entry, as one step; the op is
        applied at the time its entry is stamped with.

        ``OpError`` means nothing changed. Anything else means the state may
        have changed without an entry to show for it (a bug, never a client's
        doing): the stream is discarded and loaded again from its log, so
        memory never holds a change the log does not."""
        try:
            now_ms = int(time.time() * 1000)
            event = apply(now_ms)
            return make_entry(self.head, self.stream_id, self.seq + 1, actor_id, op_id, now_ms, op, event)
        except OpError:
            raise
        except Exception:
            log.exception("%s: op %r of %s failed; reloading it from its log",
                          self.stream_id, op_id[:MAX_LOGGED_ID], actor_id)
            self.hub.discard(self, self.RELOADING)
            return None

    def hold(self, actor: Any, op_id: str, op: Any) -> LogEntry:
        """Apply an op whose entry the hub commits in another stream's
        transaction (a hearing and the case entry that schedules it, all or
        nothing); the hub then calls ``committed``, or discards this stream
        if that transaction failed. ``OpError`` if the op is refused."""
        if self.broken:
            raise OpError("conflict", self.RELOADING)
        if self.upstream is not None:
            raise OpError("conflict", "served by another node of the cluster at the moment; try again")
        entry = self._seal(actor.participant_id, op_id, op, lambda now_ms: self._apply(actor, op, now_ms))
        if entry is None:
            raise OpError("conflict", self.RELOADING)
        self.seq, self.head = entry.seq, entry.hash
        self._inflight[(entry.participant_id, entry.op_id)] = []
        return entry

    def _append(self, entry: LogEntry, waiters: list[Listener]) -> None:
        self.seq, self.head = entry.seq, entry.hash
        self._inflight[(entry.participant_id, entry.op_id)] = waiters
        self.hub.commit(self, entry)

    def reject(self, sender: Listener, op_id: str, err: OpError, remember: bool = True) -> None:
        """Refuse an op. A refusal that is not ``remember``ed (sending too
        fast) lets the same op_id be sent again later and judged then."""
        error = err.to_dict()
        if remember:
            self._refused.add(sender.participant.participant_id, op_id, error)
        sender.push(encode({"type": "nack", "op_id": op_id, "error": error}))

    def committed(self, entry: LogEntry) -> None:
        """Called by the hub once ``entry`` is durable: answer and publish."""
        self._record(entry)
        self.committed_seq = entry.seq
        ack = encode({"type": "ack", "op_id": entry.op_id, "seq": entry.seq})
        for waiter in self._inflight.pop((entry.participant_id, entry.op_id), ()):
            if not getattr(waiter, "hears_entries", False):
                waiter.push(ack)
        self._published(entry)

    def _waiting(self) -> set[Listener]:
        return {w for waiters in self._inflight.values() for w in waiters}

    def fail(self, reason: str) -> None:
        """The log could not be written: drop everything not durable, and
        make every client reconnect and resync from the log."""
        self.broken = True
        for listener in self._waiting():
            listener.close_soon(Close.UNAVAILABLE, reason)
        self._inflight.clear()

