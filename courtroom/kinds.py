"""The kinds of stream the hub keeps, by the prefix of their ids: a
hearing (``h-``, its transcript) or a case (``c-``, its space). Each kind
names the empty state machine that replays its log."""

from __future__ import annotations

from case.state import CaseState
from transcript.state import TranscriptState

MACHINES: dict[str, type[TranscriptState] | type[CaseState]] = {"h-": TranscriptState, "c-": CaseState}
NAMES = {"h-": "hearing", "c-": "case"}


def machine_for(stream_id: str) -> TranscriptState | CaseState | None:
    """The empty state machine of a stream's kind, or None for an id that
    names no kind of stream."""
    kind = MACHINES.get(stream_id[:2])
    return None if kind is None else kind()


def kind_name(stream_id: str) -> str:
    """``hearing`` or ``case``, as messages name a stream."""
    return NAMES.get(stream_id[:2], "stream")
