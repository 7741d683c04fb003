"""Quotas in the core: what each participant may add, checked when an op is
applied, never when a log is replayed."""

from __future__ import annotations

import pytest

from tests.corefixtures import PEOPLE, hearing, new_state, rejected
from transcript.log import GENESIS_HASH, make_entry, replay
from transcript.state import create_op
from transcript.quotas import Quotas
from transcript.roles import Role
from transcript.state import TranscriptState

P = PEOPLE[Role.PLAINTIFF]
D = PEOPLE[Role.DEFENDANT]


def mark(body: str = "") -> dict:
    return {"kind": "annotation.add", "segment_id": "S1", "start": 0, "end": 2,
            "style": "comment" if body else "highlight", "body": body}




def test_annotation_count_and_bytes_per_participant() -> None:
    state = new_state("原告陈述事实。")
    state.quotas = Quotas(annotations=2, annotation_bytes=9)
    state.apply(P, mark())
    state.apply(P, mark("三个字"))  # 9 bytes of UTF-8
    err = rejected(state, P, mark())
    assert err.code == "too_large" and err.details == {"quota": "annotations", "limit": 2}
    state.apply(D, mark("一"))  # another participant's own budget
    assert rejected(state, D, mark("一二三")).details["quota"] == "annotation_bytes"
    # Removing does not give the budget back: the log keeps what was added.
    state.apply(P, {"kind": "annotation.remove", "annotation_id": "A1"})
    assert rejected(state, P, mark()).details["quota"] == "annotations"


def test_evidence_items_and_bytes() -> None:
    state = new_state("x")
    state.quotas = Quotas(evidence_items=2, evidence_bytes=1000)
    op = {"kind": "evidence.add", "sha256": "a" * 64, "name": "借条.jpg", "media_type": "image/jpeg", "size": 600}
    state.apply(P, op)
    assert rejected(state, P, op).details["quota"] == "evidence_bytes"
    state.apply(P, {**op, "size": 400})
    assert rejected(state, P, {**op, "size": 1}).details["quota"] == "evidence_items"


def test_replay_ignores_quotas_so_lowering_one_breaks_no_log() -> None:
    state = TranscriptState()
    info = hearing()
    entries = [make_entry(GENESIS_HASH, info.hearing_id, 1, "system", "c", 0, create_op(info), state.create(info))]
    ops = [(PEOPLE[Role.CLERK], {"kind": "segment.add", "text": "原告陈述。"})] + [(P, mark())] * 5
    for actor, op in ops:
        entries.append(make_entry(entries[-1].hash, info.hearing_id, len(entries) + 1, actor.participant_id,
                                  f"o{len(entries)}", 0, op, state.apply(actor, op)))
    replayed, _, _ = replay(entries, info.hearing_id, TranscriptState())
    assert replayed.snapshot() == state.snapshot() and replayed.usage[P.participant_id].annotations == 5


def test_quotas_from_the_command_line() -> None:
    assert Quotas.parse(["annotations=3", "evidence_bytes=0"]) == Quotas(annotations=3, evidence_bytes=0)
    for bad in (["annotation=3"], ["annotations=-1"], ["annotations"]):
        with pytest.raises(ValueError):
            Quotas.parse(bad)
