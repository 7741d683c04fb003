"""The append-only, hash-chained operation log of a stream, and replay from it.

A stream is anything whose history is a log of ops applied by a pure state
machine: a hearing (``transcript.state.TranscriptState``) or a case
(``case.state.CaseState``). Each entry's hash is SHA-256 over the canonical
JSON of ``[prev_hash, stream_id, seq, actor, op_id, ts_ms, op, event]``, so
altering any stored field, or removing or reordering rows, breaks the chain
at that seq. Replay re-applies every op through the state machine and checks
that it yields the stored event: the log is the truth, the state a cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Protocol, TypeVar

from .canonical import canonical_json, sha256_hex
from .errors import OpError

Event = dict[str, Any]

GENESIS_HASH = "0" * 64


@dataclass(frozen=True, slots=True)
class LogEntry:
    #: The stream the entry belongs to: a hearing (``h-…``) or a case (``c-…``).
    stream_id: str
    seq: int
    #: The actor column (see ``actors``): a participant's or party's id,
    #: ``staff:…``, ``speech:…`` or ``system``.
    participant_id: str
    op_id: str
    ts_ms: int
    op: dict[str, Any]
    event: Event
    prev_hash: str
    hash: str


def entry_hash(prev_hash: str, stream_id: str, seq: int, participant_id: str, op_id: str,
               ts_ms: int, op: Any, event: Any) -> str:
    return sha256_hex(canonical_json([prev_hash, stream_id, seq, participant_id, op_id, ts_ms,
                                      op, event]))


def make_entry(prev_hash: str, stream_id: str, seq: int, participant_id: str, op_id: str,
               ts_ms: int, op: dict[str, Any], event: Event) -> LogEntry:
    h = entry_hash(prev_hash, stream_id, seq, participant_id, op_id, ts_ms, op, event)
    return LogEntry(stream_id, seq, participant_id, op_id, ts_ms, op, event, prev_hash, h)


class Machine(Protocol):
    """The pure state machine of one kind of stream. ``apply_logged`` applies
    one entry's op as its actor column names the author, at the entry's
    time, and returns the event, or raises ``OpError`` and changes nothing."""

    def apply_logged(self, actor_id: str, op: dict[str, Any], ts_ms: int) -> Event: ...


M = TypeVar("M", bound=Machine)


class ChainError(Exception):
    def __init__(self, seq: int, reason: str) -> None:
        super().__init__(f"seq {seq}: {reason}")
        self.seq = seq
        self.reason = reason


def extend(state: Machine, e: LogEntry, stream_id: str, seq: int, prev: str) -> None:
    """Apply one more entry to a stream's state, checking that it is the
    entry ``seq`` after the one hashed ``prev``, that its hash is its
    content's, and that it yields the event it stores. ``ChainError`` if
    not (the state may then be half-changed: discard it)."""
    if e.seq != seq:
        raise ChainError(seq, f"missing entry (found seq {e.seq})")
    if e.stream_id != stream_id:
        raise ChainError(seq, "entry belongs to another stream")
    if e.prev_hash != prev:
        raise ChainError(seq, "previous-hash link broken")
    # The stored event's canonical text, made once: it is the hash's last
    # element (a list's canonical JSON is its elements' joined by commas)
    # and what the replayed event must equal.
    stored = canonical_json(e.event)
    head = canonical_json([e.prev_hash, e.stream_id, e.seq, e.participant_id, e.op_id, e.ts_ms, e.op])
    if sha256_hex(f"{head[:-1]},{stored}]") != e.hash:
        raise ChainError(seq, "hash does not match the entry's content")
    try:
        event = state.apply_logged(e.participant_id, e.op, e.ts_ms)
    except OpError as err:
        raise ChainError(seq, f"op does not apply: {err.code}: {err.message}") from None
    except (KeyError, TypeError, ValueError) as err:
        raise ChainError(seq, f"malformed entry: {err!r}") from None
    if canonical_json(event) != stored:
        raise ChainError(seq, "stored event differs from the replayed one")


def replay(entries: Iterable[LogEntry], stream_id: str, state: M) -> tuple[M, str, int]:
    """Rebuild a stream's state in the empty ``state`` (the stream's kind of
    machine), checking the chain and every event.

    Returns (state, head hash, last seq); raises ``ChainError`` at the first
    entry that does not check out.
    """
    prev, seq = GENESIS_HASH, 0
    for e in entries:
        seq += 1
        extend(state, e, stream_id, seq, prev)
        prev = e.hash
    return state, prev, seq
