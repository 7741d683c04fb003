"""Every case op kind, sent over HTTP by every kind of caller, against a
real hub: none that the capacity may not send is accepted, and no one
outside the case gets anything from it."""

from __future__ import annotations

import httpx

from case.model import CaseRole
from case.state import OPS
from tests.case.test_state import EXPECTED
from tests.support import HubProcess
from tests.test_case_api import STAFF, enter, file_case, signed_in

#: Fields that make each kind well-formed enough to get past its parser,
#: so that a refusal is the capacity's, not the op's shape.
SAMPLE = {
    "party.add": {"role": "defendant", "name": "赵六"},
    "party.signout": {"party_id": "P9"},
    "staff.assign": {"role": "mediator", "staff_id": "med9", "name": "某调解员"},
    "identity.check": {"purpose": "entry", "name": "张三", "id_number": "320312199001011234"},
    "message.post": {"text": "测试", "thread": "P1"},
    "message.read": {"message_id": "M1"},
    "message.rate": {"message_id": "M2", "rating": "satisfied"},
    "exchange.open": {},
    "evidence.file": {"sha256": "a" * 64, "name": "x.jpg", "media_type": "image/jpeg", "size": 10, "title": "x",
                      "source": "x", "purpose": "x", "pages": 1},
    "evidence.opinion": {"evidence_id": "E1", "authenticity": {"agree": True}, "legality": {"agree": True},
                         "relevance": {"agree": True}},
    "service.consent": {},
    "document.serve": {"party_id": "P1", "title": "x", "doc_kind": "other", "sha256": "b" * 64, "name": "x.pdf",
                       "media_type": "application/pdf", "size": 10},
    "document.open": {"document_id": "D1"},
    "document.acknowledge": {"document_id": "D1"},
    "mediation.open": {},
    "agreement.draft": {"text": "x", "base_rev": 0},
    "agreement.freeze": {"base_rev": 1},
    "agreement.sign": {"fingerprint": "data:image/png;base64,iVBORw0KGgo="},
    "mediation.close": {"outcome": "failed"},
    "mediation.session": {"hearing_id": "h-0000000000000000", "seats": {}},
    "mediation.join": {"hearing_id": "h-0000000000000000"},
    "hearing.schedule": {"hearing_id": "h-0000000000000000"},
    "hearing.join": {"hearing_id": "h-0000000000000000"},
    "case.close": {},
}


def test_no_forbidden_case_action_is_accepted(hub: HubProcess) -> None:
    assert set(SAMPLE) == set(OPS)
    case = file_case(hub)
    cid = case["case_id"]
    admin = httpx.Client(base_url=hub.url, headers=STAFF)
    callers: dict[str, tuple[httpx.Client, CaseRole | None]] = {"admin": (admin, CaseRole.ADMIN)}
    for role, staff_id, name in (("judge", "judge1", "赵法官"), ("clerk", "clerk1", "钱书记员"),
                                 ("mediator", "med1", "孙调解员")):
        client = signed_in(hub, staff_id, name, role)
        admin.post(f"/api/cases/{cid}/ops", json={"op": {"kind": "staff.assign", "role": role, "staff_id": staff_id,
                                                         "name": name}})
        callers[role] = (client, CaseRole(role))
    callers["judge of another case"] = (signed_in(hub, "judge2", "周法官", "judge"), None)
    callers["plaintiff"] = (enter(hub, case, 0), CaseRole.PARTY)
    callers["agent"] = (enter(hub, case, 1), CaseRole.AGENT)
    callers["defendant"] = (enter(hub, case, 2), CaseRole.PARTY)
    other = file_case(hub)
    callers["a party of another case"] = (enter(hub, other, 0), None)
    callers["anyone"] = (httpx.Client(base_url=hub.url), None)
    accepted, refused = [], 0
    # case.close last: it ends everything else.
    for kind in sorted(OPS, key=lambda k: k == "case.close"):
        for who, (client, role) in callers.items():
            if role is not None and kind in EXPECTED[role]:
                continue
            r = client.post(f"/api/cases/{cid}/ops", json={"op": {"kind": kind, **SAMPLE[kind]}})
            if r.status_code < 400:
                accepted.append((who, kind))
            else:
                assert r.status_code in (401, 403), (who, kind, r.status_code, r.text)
                refused += 1
    assert not accepted, accepted
    assert refused > 100
    # Outsiders read nothing of the case either.
    for who in ("judge of another case", "a party of another case", "anyone"):
        client = callers[who][0]
        for path in ("", "/events", f"/files/{'a' * 64}", "/agreement", "/documents/D1/proof"):
            assert client.get(f"/api/cases/{cid}{path}").status_code in (401, 403), (who, path)
