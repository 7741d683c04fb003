"""The append-only, hash-chained operation log, and replay from it.

Each entry's hash is SHA-256 over the canonical JSON of
``[prev_hash, hearing_id, seq, participant_id, op_id, ts_ms, op, event]``, so
altering any stored field, or removing or reordering rows, breaks the chain
at that seq. Replay re-applies every op through the state machine and checks
that it yields the stored event: the log is the truth, the state a cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from .canonical import canonical_json, sha256_hex
from .errors import OpError
from .model import HearingInfo, Staff
from .state import Event, TranscriptState

GENESIS_HASH = "0" * 64
SYSTEM = "system"
CREATE_KIND = "hearing.create"
#: Log actor of a participant's recognized speech: ``speech:<participant_id>``.
SPEECH_PREFIX = "speech:"
#: Log actor of court staff: ``staff:<staff_id>``.
STAFF_PREFIX = "staff:"
STAFF_NAMES = {"admin": "法院管理员"}


@dataclass(frozen=True, slots=True)
class LogEntry:
    hearing_id: str
    seq: int
    participant_id: str
    op_id: str
    ts_ms: int
    op: dict[str, Any]
    event: Event
    prev_hash: str
    hash: str


def entry_hash(prev_hash: str, hearing_id: str, seq: int, participant_id: str, op_id: str,
               ts_ms: int, op: Any, event: Any) -> str:
    return sha256_hex(canonical_json([prev_hash, hearing_id, seq, participant_id, op_id, ts_ms,
                                      op, event]))


def make_entry(prev_hash: str, hearing_id: str, seq: int, participant_id: str, op_id: str,
               ts_ms: int, op: dict[str, Any], event: Event) -> LogEntry:
    h = entry_hash(prev_hash, hearing_id, seq, participant_id, op_id, ts_ms, op, event)
    return LogEntry(hearing_id, seq, participant_id, op_id, ts_ms, op, event, prev_hash, h)


def create_op(hearing: HearingInfo) -> dict[str, Any]:
    return {"kind": CREATE_KIND, "hearing": hearing.to_dict()}


def staff(staff_id: str) -> Staff:
    return Staff(staff_id, STAFF_NAMES.get(staff_id, staff_id))


def speech_actor(participant_id: str) -> str:
    return SPEECH_PREFIX + participant_id


def apply_logged(state: TranscriptState, participant_id: str, op: dict[str, Any]) -> Event:
    """Apply one logged op: the system's ``hearing.create``, a participant's
    recognized speech, or a participant's own op."""
    if participant_id == SYSTEM and op.get("kind") == CREATE_KIND:
        return state.create(HearingInfo.from_dict(op["hearing"]))
    if participant_id.startswith(SPEECH_PREFIX):
        return state.apply_speech(state.participant(participant_id[len(SPEECH_PREFIX):]), op)
    if participant_id.startswith(STAFF_PREFIX):
        return state.apply(staff(participant_id[len(STAFF_PREFIX):]), op)
    return state.apply(state.participant(participant_id), op)


class ChainError(Exception):
    def __init__(self, seq: int, reason: str) -> None:
        super().__init__(f"seq {seq}: {reason}")
        self.seq = seq
        self.reason = reason


def replay(entries: Iterable[LogEntry], hearing_id: str) -> tuple[TranscriptState, str, int]:
    """Rebuild a hearing's state, checking the chain and every event.

    Returns (state, head hash, last seq); raises ``ChainError`` at the first
    entry that does not check out.
    """
    state = TranscriptState()
    prev, seq = GENESIS_HASH, 0
    for e in entries:
        seq += 1
        if e.seq != seq:
            raise ChainError(seq, f"missing entry (found seq {e.seq})")
        if e.hearing_id != hearing_id:
            raise ChainError(seq, "entry belongs to another hearing")
        if e.prev_hash != prev:
            raise ChainError(seq, "previous-hash link broken")
        if entry_hash(e.prev_hash, e.hearing_id, e.seq, e.participant_id, e.op_id, e.ts_ms,
                      e.op, e.event) != e.hash:
            raise ChainError(seq, "hash does not match the entry's content")
        try:
            event = apply_logged(state, e.participant_id, e.op)
        except OpError as err:
            raise ChainError(seq, f"op does not apply: {err.code}: {err.message}") from None
        except (KeyError, TypeError, ValueError) as err:
            raise ChainError(seq, f"malformed entry: {err!r}") from None
        if canonical_json(event) != canonical_json(e.event):
            raise ChainError(seq, "stored event differs from the replayed one")
        prev = e.hash
    return state, prev, seq
