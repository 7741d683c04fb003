"""Any interleaving of valid and invalid ops from several clients leaves the
state equal to a replay of its log, with every annotation anchored or flagged."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.corefixtures import PEOPLE, PNG, hearing
from transcript.canonical import canonical_json
from transcript.errors import OpError
from transcript.actors import SYSTEM
from transcript.log import GENESIS_HASH, LogEntry, make_entry, replay
from transcript.state import create_op
from transcript.roles import Role
from transcript.state import TranscriptState
from storage.log import LogStore
from storage.sqlite import SqliteDatabase

ACTORS = [PEOPLE[r] for r in (Role.JUDGE, Role.CLERK, Role.PLAINTIFF, Role.DEFENDANT, Role.OBSERVER)]
ALPHABET = "原告被告支付货款三十万元。，ab "
# Weighted so that most ops are valid and the lock (which freezes everything)
# comes late, if at all.
KINDS = {"segment.add": 6, "segment.edit": 6, "segment.relabel": 1, "segment.split": 2,
         "segment.merge": 2, "annotation.add": 8, "annotation.remove": 2, "signature.add": 1,
         "garbage": 1, "transcript.lock": 0.3}


def draw_op(rnd: random.Random, state: TranscriptState) -> Any:
    """One op, drawn from a hypothesis-seeded Random so coverage is even."""
    words = lambda: "".join(rnd.choices(ALPHABET, k=rnd.randint(0, 24)))  # noqa: E731
    kind = rnd.choices(list(KINDS), weights=list(KINDS.values()))[0]
    seg_ids = [s.id for s in state.segments] + ["S999"]
    seg = rnd.choice(seg_ids[-4:] if rnd.random() < 0.5 else seg_ids)
    current = state._segments_by_id.get(seg)
    length = len(current.text) if current else 3
    rev = (current.rev if current else 1) + rnd.choice([0, 0, 0, -1, 1])
    pid = rnd.choice([a.participant_id for a in ACTORS] + ["p-nobody"])
    start = rnd.randint(-1, length)
    end = rnd.randint(start + 1, length + 1) if rnd.random() < 0.9 else start
    if kind == "segment.add":
        op: Any = {"kind": kind, "text": words()}
        if rnd.random() < 0.3:
            op["after"] = seg
        if rnd.random() < 0.2:
            op["speaker"] = pid
    elif kind == "segment.edit":
        text = words()
        if current and rnd.random() < 0.6:  # a small correction, as a clerk makes
            at = rnd.randint(0, length)
            text = current.text[:at] + text[:3] + current.text[at + rnd.randint(0, 3):]
        op = {"kind": kind, "segment_id": seg, "base_rev": rev, "text": text}
    elif kind == "segment.relabel":
        op = {"kind": kind, "segment_id": seg, "base_rev": rev, "speaker": pid}
    elif kind == "segment.split":
        op = {"kind": kind, "segment_id": seg, "base_rev": rev, "offset": rnd.randint(0, length)}
    elif kind == "segment.merge":
        first = rnd.choice(seg_ids[-3:-1] or seg_ids)
        merged = state._segments_by_id.get(first)
        op = {"kind": kind, "segment_id": first, "base_rev": merged.rev if merged else 1}
    elif kind == "annotation.add":
        op = {"kind": kind, "segment_id": seg, "start": start, "end": end,
              "style": rnd.choice(["highlight", "comment", "issue", "ink", "bold"]),
              "body": rnd.choice(["", "有异议", "M0 0 L5 5"])}
    elif kind == "annotation.remove":
        op = {"kind": kind, "annotation_id": rnd.choice(list(state.annotations) + ["A999"])}
    elif kind == "transcript.lock":
        op = {"kind": kind}
    elif kind == "signature.add":
        op = {"kind": kind, "image": rnd.choice([PNG, "data:image/png;base64,AAAA"])}
    else:
        op = rnd.choice([None, [], {"kind": 3}, {"kind": "segment.add", "text": 5}])
    return op


def check_anchors(state: TranscriptState) -> None:
    texts = {s.id: s.text for s in state.segments}
    for a in state.annotations.values():
        assert a.segment_id in texts, f"{a.id} lost its segment"
        text = texts[a.segment_id]
        if a.orphaned:
            assert 0 <= a.start <= a.end <= len(text)
        else:
            assert text[a.start:a.end] == a.quote, f"{a.id} is neither anchored nor flagged"


def run(data: st.DataObject) -> tuple[TranscriptState, list[LogEntry]]:
    state = TranscriptState()
    info = hearing()
    entries = [make_entry(GENESIS_HASH, info.hearing_id, 1, SYSTEM, "create", 0, create_op(info),
                          state.create(info))]
    rnd = random.Random(data.draw(st.integers(0, 2**32)))
    for n in range(data.draw(st.integers(1, 80))):
        actor = rnd.choice(ACTORS)
        op = draw_op(rnd, state)
        before = canonical_json(state.snapshot())
        try:
            event = state.apply(actor, op)
        except OpError:
            assert canonical_json(state.snapshot()) == before
            continue
        prev = entries[-1]
        entries.append(make_entry(prev.hash, prev.stream_id, prev.seq + 1, actor.participant_id,
                                  f"op{n}", n, op, event))
        check_anchors(state)
    return state, entries


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_state_equals_replay_of_its_log(data: st.DataObject) -> None:
    state, entries = run(data)
    replayed, head, seq = replay(entries, "h-test", TranscriptState())
    assert replayed.snapshot() == state.snapshot()
    assert (head, seq) == (entries[-1].hash, len(entries))
    check_anchors(replayed)


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_replay_through_sqlite(data: st.DataObject) -> None:
    state, entries = run(data)
    with tempfile.TemporaryDirectory() as tmp:
        db = SqliteDatabase(Path(tmp) / "db.sqlite")
        store = LogStore(db)
        store.append(entries[:1])
        store.append(entries[1:])
        replayed, _, _ = replay(list(store.entries("h-test")), "h-test", TranscriptState())
        db.close()
    assert replayed.snapshot() == state.snapshot()
