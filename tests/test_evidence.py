"""Evidence in the core: filed by anyone who takes part, approved, shown and
pasted by the judge (pasting also by the clerk)."""

from __future__ import annotations

import pytest

from tests.corefixtures import PEOPLE, new_state, rejected
from transcript.roles import Role

J, C, P, D, O = (PEOPLE[r] for r in (Role.JUDGE, Role.CLERK, Role.PLAINTIFF, Role.DEFENDANT, Role.OBSERVER))
SHA = "a" * 64
PHOTO = {"kind": "evidence.add", "sha256": SHA, "name": "借条.jpg", "media_type": "image/jpeg", "size": 1234}




def test_evidence_goes_from_filed_to_approved_shown_and_pasted() -> None:
    state = new_state("原告出示借条")
    ev = state.apply(P, PHOTO)["evidence"]
    assert (ev["id"], ev["status"], ev["uploader"]["name"]) == ("E1", "submitted", "plaintiff-name")
    assert rejected(state, J, {"kind": "display.set", "view": "evidence", "evidence_id": "E1"}).code == "invalid"
    assert rejected(state, C, {"kind": "evidence.paste", "evidence_id": "E1"}).code == "invalid"
    assert state.apply(J, {"kind": "evidence.approve", "evidence_id": "E1"})["evidence"]["status"] == "approved"
    assert rejected(state, J, {"kind": "evidence.approve", "evidence_id": "E1"}).code == "conflict"
    shown = state.apply(J, {"kind": "display.set", "view": "evidence", "evidence_id": "E1"})
    assert shown["kind"] == "display.changed" and shown["display"] == {"view": "evidence", "evidence_id": "E1"}
    pasted = state.apply(C, {"kind": "evidence.paste", "evidence_id": "E1", "after": "S1"})
    seg = pasted["segment"]
    assert (seg["text"], seg["evidence_id"], pasted["after"], pasted["source"]) == \
        ("〔证据E1：借条.jpg〕", "E1", "S1", "evidence")
    assert state.apply(J, {"kind": "display.set", "view": "transcript"})["display"] == {"view": "transcript"}
    assert state.apply(J, {"kind": "display.set", "view": "video", "participant_id": "p-defendant"})[
        "display"]["participant_id"] == "p-defendant"


@pytest.mark.parametrize("actor, op", [
    (O, PHOTO),
    (P, {"kind": "evidence.approve", "evidence_id": "E1"}),
    (C, {"kind": "evidence.approve", "evidence_id": "E1"}),
    (P, {"kind": "evidence.paste", "evidence_id": "E1"}),
    (C, {"kind": "display.set", "view": "transcript"}),
    (D, {"kind": "display.set", "view": "transcript"}),
])
def test_who_may_do_what_with_evidence(actor, op) -> None:  # noqa: ANN001
    state = new_state("开庭")
    state.apply(P, PHOTO)
    state.apply(J, {"kind": "evidence.approve", "evidence_id": "E1"}) if op["kind"] == "evidence.paste" else None
    assert rejected(state, actor, op).code == "forbidden"


@pytest.mark.parametrize("op, code", [
    ({**PHOTO, "sha256": "xyz"}, "invalid"),
    ({**PHOTO, "sha256": "A" * 64}, "invalid"),
    ({**PHOTO, "media_type": "text/html"}, "invalid"),
    ({**PHOTO, "size": 0}, "invalid"),
    ({**PHOTO, "size": 30 * 1024 * 1024}, "too_large"),
    ({**PHOTO, "name": ""}, "invalid"),
    ({**PHOTO, "extra": 1}, "invalid"),
    ({"kind": "display.set", "view": "evidence"}, "invalid"),
    ({"kind": "display.set", "view": "transcript", "evidence_id": "E1"}, "invalid"),
    ({"kind": "display.set", "view": "wall"}, "invalid"),
    ({"kind": "display.set", "view": "video", "participant_id": "p-nobody"}, "not_found"),
    ({"kind": "evidence.approve", "evidence_id": "E9"}, "not_found"),
])
def test_bad_evidence_ops_change_nothing(op: dict, code: str) -> None:
    assert rejected(new_state(), J, op).code == code


def test_the_lock_stops_pasting_but_not_filing_or_showing() -> None:
    state = new_state("开庭")
    state.apply(P, PHOTO)
    state.apply(J, {"kind": "transcript.lock"})
    state.apply(J, {"kind": "evidence.approve", "evidence_id": "E1"})
    state.apply(J, {"kind": "display.set", "view": "evidence", "evidence_id": "E1"})
    assert state.apply(D, {**PHOTO, "sha256": "b" * 64})["evidence"]["id"] == "E2"
    assert rejected(state, C, {"kind": "evidence.paste", "evidence_id": "E1"}).code == "locked"
