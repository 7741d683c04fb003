"""Evidence exchange and 质证 before the hearing, electronic service with
its proof times, and online mediation with a signed agreement, in the
case's pure core."""

from __future__ import annotations

from typing import Any

from case.visibility import Viewer, view
from tests.corefixtures import PNG

from .builders import JUDGE, CLERK, MEDIATOR, T0, new_case_state, party, refused, verified

DAY = 24 * 3600 * 1000
FILE = {"sha256": "a" * 64, "name": "借条.jpg", "media_type": "image/jpeg", "size": 1234}
PDF = {"sha256": "b" * 64, "name": "传票.pdf", "media_type": "application/pdf", "size": 4321}
AGREE = {"agree": True}


def exhibit(**kw: Any) -> dict[str, Any]:
    return {"kind": "evidence.file", **FILE, "title": "借条", "source": "原告持有", "purpose": "证明借款事实",
            "pages": 1, **kw}


def test_evidence_is_filed_with_its_catalogue_and_the_other_side_gives_opinions() -> None:
    state = new_case_state()
    zhang = verified(state, "张三", "exchange")
    assert refused(state, party(state, "王五"), exhibit()).details == {"needs": "exchange"}
    filed = state.apply(zhang, exhibit(), T0 + 1)["evidence"]
    assert (filed["id"], filed["title"], filed["side"], filed["pages"]) == ("E1", "借条", "P1", 1)
    wang = verified(state, "王五", "exchange")
    opinion = {"kind": "evidence.opinion", "evidence_id": "E1", "authenticity": AGREE, "legality": AGREE,
               "relevance": {"agree": False, "reason": "借条与本案借款无关"}}
    # Not before the judge opens the exchange; not on one's own; never without a reason to disagree.
    assert refused(state, wang, opinion).code == "invalid"
    state.apply(JUDGE, {"kind": "exchange.open", "deadline_ms": T0 + 7 * DAY}, T0 + 2)
    assert refused(state, zhang, opinion).code == "invalid"
    assert refused(state, wang, {**opinion, "relevance": {"agree": False}}).code == "invalid"
    assert refused(state, wang, opinion, now_ms=T0 + 8 * DAY).code == "conflict"  # after the deadline
    event = state.apply(wang, opinion, T0 + 3)
    assert event["opinion"]["side"] == "P3" and event["opinion"]["aspects"]["relevance"]["reason"] == "借条与本案借款无关"
    assert refused(state, wang, opinion).code == "conflict"
    # Everyone in the case sees the exchange.
    assert view(state, Viewer.of(wang))["exhibits"][0]["opinions"][0]["side"] == "P3"


def test_service_completes_when_it_reaches_the_confirmed_address_or_is_acknowledged() -> None:
    state = new_case_state()
    zhang, wang = verified(state, "张三"), verified(state, "王五")
    state.apply(zhang, {"kind": "service.consent"}, T0 + 1)
    first = state.apply(CLERK, {"kind": "document.serve", "party_id": "P1", "title": "开庭传票", "doc_kind": "summons",
                                **PDF}, T0 + 2)["document"]
    assert first["delivered_ms"] == T0 + 2 and first["completed_ms"] == T0 + 2
    second = state.apply(CLERK, {"kind": "document.serve", "party_id": "P3", "title": "应诉通知书",
                                 "doc_kind": "notice", **PDF}, T0 + 3)["document"]
    assert second["delivered_ms"] is None and second["completed_ms"] is None
    # The other side sees neither, and cannot open the one not served on it.
    assert refused(state, wang, {"kind": "document.open", "document_id": "D1"}).code == "not_found"
    opened = state.apply(wang, {"kind": "document.open", "document_id": "D2"}, T0 + 4)["document"]
    assert opened["opened_ms"] == T0 + 4 and opened["completed_ms"] is None  # opened is not yet 已阅知
    acked = state.apply(wang, {"kind": "document.acknowledge", "document_id": "D2"}, T0 + 5)["document"]
    assert acked["completed_ms"] == T0 + 5
    # Consenting later delivers what was waiting; the earliest completion counts.
    consent = state.apply(wang, {"kind": "service.consent"}, T0 + 6)
    assert consent["delivered"] == ["D2"] and state.served["D2"].completed_ms == T0 + 5
    assert refused(state, CLERK, {"kind": "document.serve", "party_id": "P2", "title": "x", "doc_kind": "other",
                                  **PDF}).code == "invalid"  # an agent is not served
    assert refused(state, CLERK, {"kind": "document.serve", "party_id": "P1", "title": "x", "doc_kind": "other",
                                  **FILE}).code == "invalid"  # a PDF only


def test_mediation_agreement_takes_effect_when_every_party_has_signed() -> None:
    state = new_case_state()
    assert state.mediation_deadline_ms() == T0 + 15 * DAY
    opened = state.apply(MEDIATOR, {"kind": "mediation.open"}, T0 + 1)["mediation"]
    assert opened["deadline_ms"] == T0 + 15 * DAY and [s["name"] for s in opened["signers"]] == ["张三", "王五"]
    state.apply(MEDIATOR, {"kind": "agreement.draft", "text": "被告于2026年12月31日前归还借款五万元。", "base_rev": 0}, T0)
    assert refused(state, MEDIATOR, {"kind": "agreement.draft", "text": "x", "base_rev": 0}).code == "conflict"
    zhang = verified(state, "张三", "mediation")
    sign = {"kind": "agreement.sign", "image": PNG}
    assert refused(state, zhang, sign).code == "invalid"  # not yet out for signing
    frozen = state.apply(MEDIATOR, {"kind": "agreement.freeze", "base_rev": 1}, T0 + 2)
    assert len(frozen["hash"]) == 64
    assert refused(state, MEDIATOR, {"kind": "agreement.draft", "text": "改", "base_rev": 1}).code == "locked"
    assert refused(state, party(state, "王五"), sign).details == {"needs": "mediation"}
    assert refused(state, verified(state, "李律师", "mediation"), sign).code == "forbidden"  # agents do not sign
    first = state.apply(zhang, sign, T0 + 3)
    assert "effective_ms" not in first and first["signature"]["transcript_hash"] == frozen["hash"]
    assert refused(state, zhang, sign).code == "conflict"
    assert refused(state, MEDIATOR, {"kind": "mediation.close", "outcome": "agreed"}).code == "invalid"
    wang = verified(state, "王五", "mediation")
    last = state.apply(wang, {"kind": "agreement.sign", "fingerprint": PNG}, T0 + 4)
    assert last["effective_ms"] == T0 + 4
    closed = state.apply(MEDIATOR, {"kind": "mediation.close", "outcome": "agreed"}, T0 + 5)["mediation"]
    assert closed["closed"]["outcome"] == "agreed" and closed["effective_ms"] == T0 + 4


def test_a_simple_procedure_case_has_seven_days_to_mediate() -> None:
    from case.model import CaseInfo
    from case.ops import new_case
    from case.state import CaseState, create_op
    from .builders import BODY
    body = new_case({**BODY, "procedure": "simple"})
    state = CaseState()
    state.create(create_op(CaseInfo("c-x", body.case_number, body.cause, body.court, body.procedure, T0),
                           body.parties), T0)
    assert state.mediation_deadline_ms() == T0 + 7 * DAY


def test_the_whole_case_replays_from_its_log() -> None:
    from case.state import CaseState
    from transcript.log import GENESIS_HASH, make_entry, replay

    from .builders import logged_creation
    state, entries = logged_creation()

    def do(actor: Any, op: dict[str, Any], ts: int) -> None:
        event = state.apply(actor, op, ts)
        entries.append(make_entry(entries[-1].hash, "c-test", len(entries) + 1, actor.participant_id,
                                  f"o{len(entries)}", ts, op, event))
    p1, p3 = state.parties["P1"], state.parties["P3"]
    for who, purpose in ((p1, "exchange"), (p3, "exchange"), (p1, "mediation"), (p3, "mediation")):
        do(who, {"kind": "identity.check", "purpose": purpose, "name": who.name, "id_number": who.id_number}, T0)
    do(JUDGE, {"kind": "exchange.open", "deadline_ms": T0 + DAY}, T0 + 1)
    do(p1, exhibit(), T0 + 2)
    do(p3, {"kind": "evidence.opinion", "evidence_id": "E1", "authenticity": AGREE, "legality": AGREE,
            "relevance": AGREE}, T0 + 3)
    do(p3, {"kind": "service.consent"}, T0 + 4)
    do(CLERK, {"kind": "document.serve", "party_id": "P3", "title": "传票", "doc_kind": "summons", **PDF}, T0 + 5)
    do(p3, {"kind": "document.acknowledge", "document_id": "D1"}, T0 + 6)
    do(MEDIATOR, {"kind": "mediation.open"}, T0 + 7)
    do(MEDIATOR, {"kind": "agreement.draft", "text": "双方自愿达成协议。", "base_rev": 0}, T0 + 8)
    do(MEDIATOR, {"kind": "agreement.freeze", "base_rev": 1}, T0 + 9)
    do(p1, {"kind": "agreement.sign", "image": PNG}, T0 + 10)
    do(p3, {"kind": "agreement.sign", "image": PNG}, T0 + 11)
    do(MEDIATOR, {"kind": "mediation.close", "outcome": "agreed"}, T0 + 12)
    replayed, _, seq = replay(entries, "c-test", CaseState())
    assert seq == len(entries) and replayed.snapshot() == state.snapshot()
    assert entries[0].prev_hash == GENESIS_HASH
