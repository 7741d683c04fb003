"""The case's pure state machine: who may do what, identity checks, the
conversation with the court, and replay of its log."""

from __future__ import annotations

from typing import Any

import pytest

from case.model import CaseRole
from case.state import OPS, CaseState, permissions_of
from case.visibility import STAFF, Viewer, shown, view
from transcript.actors import SYSTEM
from transcript.log import GENESIS_HASH, make_entry, replay

from .builders import (ADMIN, BODY, CLERK, JUDGE, MEDIATOR, OTHER_JUDGE, T0, new_case_state, party, refused,
                       verified)


def test_parties_get_ids_and_the_agent_acts_for_its_party() -> None:
    state = new_case_state()
    assert [(p.party_id, p.role.value, p.name) for p in state.parties.values()] == [
        ("P1", "plaintiff", "张三"), ("P2", "agent", "李律师"), ("P3", "defendant", "王五")]
    assert state.parties["P2"].represents == "P1" and state.parties["P2"].thread == "P1"
    assert state.info is not None and state.info.staff[CaseRole.JUDGE].name == "赵法官"


def test_a_party_must_prove_who_it_is_before_anything_else() -> None:
    state = new_case_state()
    zhang = party(state, "张三")
    err = refused(state, zhang, {"kind": "message.post", "text": "法官您好"})
    assert err.code == "forbidden" and err.details == {"needs": "entry"}
    err = refused(state, zhang, {"kind": "identity.check", "purpose": "entry", "name": "张三",
                                 "id_number": "320312199001011235"})
    assert err.code == "forbidden"
    err = refused(state, zhang, {"kind": "identity.check", "purpose": "entry", "name": "张四",
                                 "id_number": "320312199001011234"})
    assert err.code == "forbidden"
    event = state.apply(zhang, {"kind": "identity.check", "purpose": "entry", "name": "张三",
                                "id_number": "320312199001011234"}, T0 + 5)
    assert event == {"kind": "identity.verified", "thread": "P1", "party": zhang.label(), "purpose": "entry",
                     "ts_ms": T0 + 5}
    # An ID number with a lower-case x is the same number.
    wang = party(state, "王五")
    state.apply(wang, {"kind": "identity.check", "purpose": "entry", "name": "王五",
                       "id_number": "32031219850202222x"}, T0)


def test_messages_reads_replies_and_ratings() -> None:
    state = new_case_state()
    zhang = verified(state, "张三")
    posted = state.apply(zhang, {"kind": "message.post", "text": "请问何时开庭？"}, T0 + 1)
    mid = posted["message"]["id"]
    assert posted["thread"] == "P1" and not posted["message"]["from_court"]
    read = state.apply(JUDGE, {"kind": "message.read", "message_id": mid}, T0 + 2)
    assert read["reader"] == {"staff_id": "judge1", "name": "赵法官", "role": "judge"} and read["ts_ms"] == T0 + 2
    assert refused(state, JUDGE, {"kind": "message.read", "message_id": mid}).code == "conflict"
    assert refused(state, zhang, {"kind": "message.read", "message_id": mid}).code == "invalid"
    # The court writes in a named conversation; a party only in its own.
    assert refused(state, JUDGE, {"kind": "message.post", "text": "下周一"}).code == "invalid"
    reply = state.apply(JUDGE, {"kind": "message.post", "text": "下周一上午九时。", "thread": "P1",
                                "reply_to": mid}, T0 + 3)
    rid = reply["message"]["id"]
    assert reply["message"]["from_court"] and reply["message"]["reply_to"] == mid
    assert refused(state, zhang, {"kind": "message.rate", "message_id": mid, "rating": "satisfied"}).code == "invalid"
    # The agent answers in the party's conversation and may rate its replies.
    agent = verified(state, "李律师")
    rated = state.apply(agent, {"kind": "message.rate", "message_id": rid, "rating": "basically_satisfied",
                                "reason": "答复及时"}, T0 + 4)
    assert rated["rating"]["rating"] == "basically_satisfied" and rated["rating"]["reason"] == "答复及时"
    assert refused(state, zhang, {"kind": "message.rate", "message_id": rid, "rating": "unsatisfied"}).code == \
        "conflict"
    # The other side cannot see, read, rate or answer in it.
    wang = verified(state, "王五")
    assert refused(state, wang, {"kind": "message.read", "message_id": mid}).code == "not_found"
    assert refused(state, wang, {"kind": "message.post", "text": "x", "thread": "P1"}).code == "forbidden"
    assert [m["id"] for m in view(state, Viewer.of(wang))["messages"]] == []
    assert [m["id"] for m in view(state, Viewer.of(agent))["messages"]] == [mid, rid]


def test_a_party_never_sees_another_conversation_or_anyones_id_number() -> None:
    state = new_case_state()
    zhang, wang = verified(state, "张三"), verified(state, "王五")
    events = [state.apply(zhang, {"kind": "message.post", "text": "私下问法官"}, T0),
              state.apply(wang, {"kind": "message.post", "text": "被告的问题"}, T0)]
    assert shown(Viewer.of(wang), events[0]) is None and shown(Viewer.of(wang), events[1]) is not None
    assert shown(STAFF, events[0]) == events[0]
    assert "320312199001011234" not in str(view(state, Viewer.of(wang)))
    assert "13800000001" not in str(view(state, Viewer.of(zhang)))
    assert "320312199001011234" in str(view(state, STAFF))


@pytest.mark.parametrize("actor", [OTHER_JUDGE, JUDGE.__class__("judge1", "赵法官", "clerk")])
def test_staff_act_only_in_the_capacity_the_case_gives_them(actor: Any) -> None:
    state = new_case_state()
    assert refused(state, actor, {"kind": "message.post", "text": "x", "thread": "P1"}).code == "forbidden"


def test_closed_case_takes_reads_and_ratings_only() -> None:
    state = new_case_state()
    zhang = verified(state, "张三")
    state.apply(JUDGE, {"kind": "case.close"}, T0)
    assert refused(state, zhang, {"kind": "message.post", "text": "还在吗"}).code == "conflict"
    assert refused(state, ADMIN, {"kind": "party.add", "role": "defendant", "name": "赵六"}).code == "conflict"


# Every kind × every capacity: an op outside the table is refused as
# forbidden before it is looked at (the minimal valid op is not needed).
EXPECTED = {
    CaseRole.JUDGE: ["agreement.draft", "agreement.freeze", "case.close", "document.serve", "exchange.open",
                     "hearing.schedule", "mediation.close", "mediation.open", "mediation.session", "message.post",
                     "message.read", "party.add", "party.signout", "staff.assign"],
    CaseRole.CLERK: ["document.serve", "hearing.schedule", "message.post", "message.read", "party.add",
                     "party.signout"],
    CaseRole.MEDIATOR: ["agreement.draft", "agreement.freeze", "mediation.close", "mediation.open",
                        "mediation.session", "message.post", "message.read"],
    CaseRole.ADMIN: ["case.close", "hearing.schedule", "party.add", "party.signout", "staff.assign"],
    CaseRole.PARTY: ["agreement.sign", "document.acknowledge", "document.open", "evidence.file", "evidence.opinion",
                     "hearing.join", "identity.check", "mediation.join", "message.post", "message.rate",
                     "message.read", "service.consent"],
    CaseRole.AGENT: ["document.acknowledge", "document.open", "evidence.file", "evidence.opinion", "hearing.join",
                     "identity.check", "mediation.join", "message.post", "message.rate", "message.read"],
}


def test_permissions_are_pinned_per_capacity() -> None:
    assert {role: permissions_of(role) for role in CaseRole} == EXPECTED


@pytest.mark.parametrize("kind", sorted(OPS))
def test_every_forbidden_kind_is_refused_for_every_capacity(kind: str) -> None:
    state = new_case_state()
    actors = {CaseRole.JUDGE: JUDGE, CaseRole.CLERK: CLERK, CaseRole.MEDIATOR: MEDIATOR, CaseRole.ADMIN: ADMIN,
              CaseRole.PARTY: verified(state, "张三"), CaseRole.AGENT: verified(state, "李律师")}
    for role, actor in actors.items():
        if kind not in EXPECTED[role]:
            assert refused(state, actor, {"kind": kind}).code == "forbidden", (role, kind)


def test_replaying_the_log_rebuilds_the_state_and_its_events() -> None:
    state = CaseState()
    entries = []

    def log(actor_id: str, op: dict[str, Any], event: dict[str, Any], ts: int) -> None:
        prev = entries[-1].hash if entries else GENESIS_HASH
        entries.append(make_entry(prev, "c-test", len(entries) + 1, actor_id, f"o{len(entries)}", ts, op, event))

    from case.model import CaseInfo
    from case.ops import new_case
    from case.state import create_op
    body = new_case(BODY)
    op = create_op(CaseInfo("c-test", body.case_number, body.cause, body.court, "simple", T0), body.parties)
    log(SYSTEM, op, state.create(op, T0), T0)
    for i, (actor, op) in enumerate([
            (ADMIN, {"kind": "staff.assign", "role": "judge", "staff_id": "judge1", "name": "赵法官"}),
            (state.parties["P1"], {"kind": "identity.check", "purpose": "entry", "name": "张三",
                                   "id_number": "320312199001011234"}),
            (state.parties["P1"], {"kind": "message.post", "text": "您好"}),
            (JUDGE, {"kind": "message.read", "message_id": "M1"}),
            (JUDGE, {"kind": "message.post", "text": "您好，请讲。", "thread": "P1", "reply_to": "M1"}),
            (state.parties["P1"], {"kind": "message.rate", "message_id": "M2", "rating": "satisfied"}),
            (JUDGE, {"kind": "hearing.schedule", "hearing_id": "h-1", "start_ms": T0 + 86_400_000})]):
        log(actor.participant_id, op, state.apply(actor, op, T0 + i), T0 + i)
    replayed, _, seq = replay(entries, "c-test", CaseState())
    assert seq == len(entries) and replayed.snapshot() == state.snapshot()


@pytest.mark.parametrize("body, problem", [
    ({**BODY, "parties": []}, "non-empty"),
    ({**BODY, "parties": [{"role": "judge", "name": "x"}]}, "role"),
    ({**BODY, "parties": [{"role": "agent", "name": "x", "represents": "0"}]}, "represents"),
    ({**BODY, "parties": [{"role": "plaintiff", "name": "x", "id_number": "12"}]}, "id_number"),
    ({**BODY, "parties": [{"role": "plaintiff", "name": "x", "phone": "call me"}]}, "phone"),
    ({**BODY, "case_number": ""}, "case_number"),
    ({**BODY, "extra": 1}, "unknown"),
    ({**BODY, "procedure": "summary"}, "procedure"),
])
def test_a_bad_case_is_refused_with_the_reason(body: dict[str, Any], problem: str) -> None:
    from case.ops import new_case
    from transcript.errors import OpError
    with pytest.raises(OpError) as info:
        new_case(body)
    assert problem in info.value.message


def test_reading_a_message_reads_the_earlier_ones_of_the_other_side() -> None:
    state = new_case_state()
    zhang = verified(state, "张三")
    for text in ("一", "二"):
        state.apply(zhang, {"kind": "message.post", "text": text}, T0)
    state.apply(JUDGE, {"kind": "message.post", "text": "三", "thread": "P1"}, T0)
    state.apply(zhang, {"kind": "message.post", "text": "四"}, T0)
    read = state.apply(CLERK, {"kind": "message.read", "message_id": "M4"}, T0 + 9)
    assert read["message_ids"] == ["M1", "M2", "M4"]  # not the court's own M3
    assert refused(state, CLERK, {"kind": "message.read", "message_id": "M3"}).code == "invalid"
    assert refused(state, CLERK, {"kind": "message.read", "message_id": "M2"}).code == "conflict"
    assert state.apply(zhang, {"kind": "message.read", "message_id": "M3"}, T0)["message_ids"] == ["M3"]


def test_a_party_joins_only_a_hearing_it_is_seated_in_after_a_check() -> None:
    state = new_case_state()
    state.apply(JUDGE, {"kind": "hearing.schedule", "hearing_id": "h-1", "seats": {"P1": "p-a", "P3": "p-c"}}, T0)
    zhang = verified(state, "张三")
    assert refused(state, zhang, {"kind": "hearing.join", "hearing_id": "h-1"}).details == {"needs": "hearing"}
    zhang = verified(state, "张三", "hearing")
    joined = state.apply(zhang, {"kind": "hearing.join", "hearing_id": "h-1"}, T0 + 1)
    assert joined["participant_id"] == "p-a" and joined["thread"] == "P1"
    assert refused(state, zhang, {"kind": "hearing.join", "hearing_id": "h-2"}).code == "not_found"
    agent = verified(state, "李律师", "hearing")
    assert refused(state, agent, {"kind": "hearing.join", "hearing_id": "h-1"}).code == "not_found"  # not seated
