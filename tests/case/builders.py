"""Builders for case-core tests: a case with a judge, a clerk, a mediator,
a plaintiff with an agent, and a defendant."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from case.model import CaseInfo
from case.ops import new_case
from case.state import CaseActor, CaseState, create_op
from transcript.actors import SYSTEM
from transcript.errors import OpError
from transcript.log import GENESIS_HASH, LogEntry, make_entry
from transcript.model import Staff

T0 = 1_790_000_000_000
BODY: dict[str, Any] = {
    "case_number": "(2026)苏0312民初1234号", "cause": "民间借贷纠纷", "court": "徐州市铜山区人民法院",
    "parties": [{"role": "plaintiff", "name": "张三", "id_number": "320312199001011234", "phone": "13800000001"},
                {"role": "agent", "name": "李律师", "id_number": "320312198001011111", "represents": "0"},
                {"role": "defendant", "name": "王五", "id_number": "32031219850202222X", "phone": "13800000002"}],
}
JUDGE = Staff("judge1", "赵法官", "judge")
CLERK = Staff("clerk1", "钱书记员", "clerk")
MEDIATOR = Staff("med1", "孙调解员", "mediator")
ADMIN = Staff("admin", "法院管理员")
OTHER_JUDGE = Staff("judge2", "周法官", "judge")


def new_case_state() -> CaseState:
    return logged_creation()[0]


def logged_creation() -> tuple[CaseState, list[LogEntry]]:
    """A new case with its staff assigned, and the log entries that made it."""
    body = new_case(BODY)
    state = CaseState()
    op = create_op(CaseInfo("c-test", body.case_number, body.cause, body.court, body.procedure, T0), body.parties)
    entries = [make_entry(GENESIS_HASH, "c-test", 1, SYSTEM, "create", T0, op, state.create(op, T0))]
    for who in (JUDGE, CLERK, MEDIATOR):
        op = {"kind": "staff.assign", "role": who.role, "staff_id": who.staff_id, "name": who.name}
        entries.append(make_entry(entries[-1].hash, "c-test", len(entries) + 1, ADMIN.participant_id,
                                  f"assign-{who.role}", T0, op, state.apply(ADMIN, op, T0)))
    return state, entries


def party(state: CaseState, name: str) -> CaseActor:
    return next(p for p in state.parties.values() if p.name == name)


def verified(state: CaseState, name: str, purpose: str = "entry") -> CaseActor:
    p = party(state, name)
    state.apply(p, {"kind": "identity.check", "purpose": purpose, "name": p.name, "id_number": p.id_number}, T0)
    return p


def refused(state: CaseState, actor: CaseActor, op: Any, now_ms: int = T0) -> OpError:
    """Apply an op that must be refused; check that nothing changed."""
    before = copy.deepcopy(state.snapshot())
    with pytest.raises(OpError) as info:
        state.apply(actor, op, now_ms)
    assert state.snapshot() == before, "a refused op changed the state"
    return info.value
