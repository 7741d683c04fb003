"""The case space over HTTP, against a real hub process: filing a case,
entering by the entry link with an identity check, the conversation with
the court, and a hearing scheduled from the case."""

from __future__ import annotations

import sqlite3
import threading
import time
from typing import Any

import httpx

from tests.case.builders import BODY
from tests.support import ADMIN, HubProcess

STAFF = {"Authorization": f"Bearer {ADMIN}"}


def file_case(hub: HubProcess, body: dict[str, Any] = BODY) -> dict[str, Any]:
    r = httpx.post(hub.url + "/api/cases", headers=STAFF, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def signed_in(hub: HubProcess, staff_id: str = "judge1", name: str = "赵法官", role: str = "judge") -> httpx.Client:
    """A staff member's console: the account made by the administrator,
    then signed in (its session as a bearer token)."""
    r = httpx.post(hub.url + "/api/staff", headers=STAFF,
                   json={"staff_id": staff_id, "name": name, "role": role, "password": "correct horse 1"})
    assert r.status_code == 201, r.text
    r = httpx.post(hub.url + "/api/login", json={"staff_id": staff_id, "password": "correct horse 1"})
    assert r.status_code == 200, r.text
    return httpx.Client(base_url=hub.url, headers={"Authorization": f"Bearer {r.json()['session']}"})


def link_of(party: dict[str, Any]) -> str:
    return party["entry_url"].split("#k=", 1)[1]


def enter(hub: HubProcess, case: dict[str, Any], index: int) -> httpx.Client:
    """A party's phone, signed in to the case (its cookie kept)."""
    party = case["parties"][index]
    record = BODY["parties"][index]
    phone = httpx.Client(base_url=hub.url)
    r = phone.post(f"/api/cases/{case['case_id']}/enter",
                   json={"link": link_of(party), "name": record["name"], "id_number": record["id_number"]})
    assert r.status_code == 200, r.text
    assert r.json()["party"]["party_id"] == party["party_id"]
    return phone


def op(client: httpx.Client, case_id: str, op: dict[str, Any], **kw: Any) -> httpx.Response:
    return client.post(f"/api/cases/{case_id}/ops", json={"op": op}, **kw)


def test_filing_a_case_answers_each_partys_entry_link(hub: HubProcess) -> None:
    case = file_case(hub)
    assert case["case_id"].startswith("c-")
    assert [(p["party_id"], p["role"], p["name"]) for p in case["parties"]] == [
        ("P1", "plaintiff", "张三"), ("P2", "agent", "李律师"), ("P3", "defendant", "王五")]
    assert all(p["entry_url"].startswith(f"{hub.url}/c/{case['case_id']}#k=") for p in case["parties"])
    listed = httpx.get(hub.url + "/api/cases", headers=STAFF).json()["cases"]
    assert [c["case_id"] for c in listed] == [case["case_id"]] and listed[0]["case_number"] == BODY["case_number"]
    # Without the admin token: nothing filed, nothing listed.
    assert httpx.post(hub.url + "/api/cases", json=BODY).status_code == 401
    assert httpx.get(hub.url + "/api/cases").status_code == 401
    bad = httpx.post(hub.url + "/api/cases", headers=STAFF, json={**BODY, "parties": []})
    assert bad.status_code == 400 and "parties" in bad.json()["error"]["message"]


def test_entry_needs_the_link_and_the_identity_on_record(hub: HubProcess) -> None:
    case = file_case(hub)
    cid, party = case["case_id"], case["parties"][0]
    anon = httpx.Client(base_url=hub.url)
    assert anon.get(f"/api/cases/{cid}").status_code == 401
    wrong = anon.post(f"/api/cases/{cid}/enter", json={"link": link_of(party), "name": "张三",
                                                       "id_number": "320312199001019999"})
    assert wrong.status_code == 403 and not wrong.cookies
    guessed = anon.post(f"/api/cases/{cid}/enter", json={"link": "x" * 43, "name": "张三",
                                                         "id_number": "320312199001011234"})
    assert guessed.status_code == 404
    phone = enter(hub, case, 0)
    me = phone.get(f"/api/cases/{cid}").json()
    assert me["me"]["party"]["name"] == "张三" and me["verified"]["P1"]["entry"] > 0
    assert "id_number" not in str(me["parties"])


def test_guessing_identity_is_rate_limited_and_logged(hub: HubProcess) -> None:
    case = file_case(hub)
    cid, party = case["case_id"], case["parties"][2]
    anon = httpx.Client(base_url=hub.url)
    codes = [anon.post(f"/api/cases/{cid}/enter", json={"link": link_of(party), "name": "王五",
                                                        "id_number": f"32031219850202{i:04d}"}).status_code
             for i in range(7)]
    assert codes[:5] == [403] * 5 and codes[5:] == [429, 429]
    # Even the right answer waits now.
    right = anon.post(f"/api/cases/{cid}/enter", json={"link": link_of(party), "name": "王五",
                                                       "id_number": "32031219850202222X"})
    assert right.status_code == 429 and int(right.headers["Retry-After"]) > 0
    assert "case identity check failed" in (hub.data.parent / f"hub-{hub.port}.log").read_text()


def test_conversation_with_the_court_stays_between_the_party_and_the_court(hub: HubProcess) -> None:
    case = file_case(hub)
    cid = case["case_id"]
    zhang, wang = enter(hub, case, 0), enter(hub, case, 2)
    posted = op(zhang, cid, {"kind": "message.post", "text": "请问证据何时提交？"})
    assert posted.status_code == 200, posted.text
    # The administrator runs the case; the judge answers the parties.
    admin = httpx.Client(base_url=hub.url, headers=STAFF)
    assert op(admin, cid, {"kind": "message.read", "message_id": "M1"}).status_code == 403
    staff = signed_in(hub)
    assert staff.get(f"/api/cases/{cid}").status_code == 403  # not (yet) the judge of this case
    assert op(admin, cid, {"kind": "staff.assign", "role": "judge", "staff_id": "judge1",
                           "name": "赵法官"}).status_code == 200
    assert staff.get("/api/cases").json()["cases"][0]["unread"] == 1
    assert op(staff, cid, {"kind": "message.read", "message_id": "M1"}).status_code == 200
    assert op(staff, cid, {"kind": "message.post", "text": "请于十五日内提交。", "thread": "P1",
                           "reply_to": "M1"}).status_code == 200
    assert op(zhang, cid, {"kind": "message.rate", "message_id": "M2", "rating": "satisfied"}).status_code == 200
    mine = zhang.get(f"/api/cases/{cid}").json()["messages"]
    assert [(m["id"], bool(m["read"])) for m in mine] == [("M1", True), ("M2", False)]
    assert mine[1]["rating"]["rating"] == "satisfied"
    # The other side: no message, no event of that conversation, no reading it.
    assert wang.get(f"/api/cases/{cid}").json()["messages"] == []
    kinds = [e["event"]["kind"] for e in wang.get(f"/api/cases/{cid}/events").json()["events"]]
    assert "message.posted" not in kinds and "message.read" not in kinds
    assert op(wang, cid, {"kind": "message.read", "message_id": "M1"}).status_code == 404
    assert op(wang, cid, {"kind": "message.post", "text": "x", "thread": "P1"}).status_code == 403
    # A party cannot do the court's work, or reach another case.
    assert op(zhang, cid, {"kind": "case.close"}).status_code == 403
    other = file_case(hub)
    assert zhang.get(f"/api/cases/{other['case_id']}").status_code == 401


def test_events_wait_for_what_is_new(hub: HubProcess) -> None:
    case = file_case(hub)
    cid = case["case_id"]
    zhang = enter(hub, case, 0)
    seq = zhang.get(f"/api/cases/{cid}").json()["seq"]

    clerk = signed_in(hub, "clerk1", "钱书记员", "clerk")
    httpx.post(hub.url + f"/api/cases/{cid}/ops", headers=STAFF,
               json={"op": {"kind": "staff.assign", "role": "clerk", "staff_id": "clerk1", "name": "钱书记员"}})
    seq = zhang.get(f"/api/cases/{cid}").json()["seq"]

    def later() -> None:
        time.sleep(0.5)
        op(clerk, cid, {"kind": "message.post", "text": "您好", "thread": "P1"})
    threading.Thread(target=later).start()
    started = time.monotonic()
    got = zhang.get(f"/api/cases/{cid}/events", params={"since": seq, "wait": 10}).json()
    assert 0.3 < time.monotonic() - started < 5
    assert [e["event"]["kind"] for e in got["events"]] == ["message.posted"] and got["seq"] == seq + 1


def test_a_hearing_scheduled_from_the_case_seats_its_people(hub: HubProcess) -> None:
    case = file_case(hub)
    cid = case["case_id"]
    staff = httpx.Client(base_url=hub.url, headers=STAFF)
    assert op(staff, cid, {"kind": "staff.assign", "role": "judge", "staff_id": "judge1",
                           "name": "赵法官"}).status_code == 200
    r = staff.post(f"/api/cases/{cid}/hearings", json={})
    assert r.status_code == 201, r.text
    hearing = r.json()
    assert [(i["role"], i["name"]) for i in hearing["invites"]] == [
        ("judge", "赵法官"), ("clerk", "书记员"), ("plaintiff", "张三"), ("agent", "李律师"), ("defendant", "王五")]
    judge = next(i for i in hearing["invites"] if i["role"] == "judge")
    transcript = hub.transcript(hearing["hearing_id"], judge["token"])
    assert transcript["hearing_id"] == hearing["hearing_id"]
    scheduled = staff.get(f"/api/cases/{cid}").json()["hearings"]
    assert scheduled[0]["hearing_id"] == hearing["hearing_id"] and scheduled[0]["seats"]["P1"] == \
        hearing["invites"][2]["participant_id"]
    # A party may not schedule one.
    zhang = enter(hub, case, 0)
    assert zhang.post(f"/api/cases/{cid}/hearings", json={}).status_code == 403


def test_case_actions_survive_kill_9(hub: HubProcess) -> None:
    case = file_case(hub)
    cid = case["case_id"]
    zhang = enter(hub, case, 0)
    acked = [op(zhang, cid, {"kind": "message.post", "text": f"第{i}条"}).json()["seq"] for i in range(20)]
    hub.kill()
    hub.start()
    after = httpx.get(hub.url + f"/api/cases/{cid}", headers=STAFF).json()
    assert [m["text"] for m in after["messages"]] == [f"第{i}条" for i in range(20)]
    assert after["seq"] == acked[-1]
    # The device stays signed in.
    assert zhang.get(f"/api/cases/{cid}").status_code == 200


def test_courtroom_verify_checks_a_case_log(hub: HubProcess) -> None:
    from tests.test_cli import courtroom
    case = file_case(hub)
    cid = case["case_id"]
    zhang = enter(hub, case, 0)
    op(zhang, cid, {"kind": "message.post", "text": "原告的问题"})
    hub.stop()
    r = courtroom("verify", "--data", str(hub.data), "--key", str(hub.key), cid)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"case {cid}: 3 entries verified")
    conn = sqlite3.connect(hub.data / "courtroom.db")
    with conn:
        conn.execute("UPDATE log SET event = replace(event, '原告的问题', '被告的问题') WHERE hearing_id = ?", (cid,))
    conn.close()
    r = courtroom("verify", "--data", str(hub.data), "--key", str(hub.key), cid)
    assert r.returncode == 1 and "seq 3" in r.stderr and f"case {cid}" in r.stderr
    r = courtroom("export", "--data", str(hub.data), cid)
    assert r.returncode != 0


def test_a_party_enters_the_hearing_from_its_space(hub: HubProcess) -> None:
    case = file_case(hub)
    cid = case["case_id"]
    staff = httpx.Client(base_url=hub.url, headers=STAFF)
    hearing = staff.post(f"/api/cases/{cid}/hearings", json={}).json()
    hid = hearing["hearing_id"]
    zhang = enter(hub, case, 0)
    needs = zhang.post(f"/api/cases/{cid}/hearings/{hid}/join")
    assert needs.status_code == 403 and needs.json()["error"]["needs"] == "hearing"
    assert op(zhang, cid, {"kind": "identity.check", "purpose": "hearing", "name": "张三",
                           "id_number": "320312199001011234"}).status_code == 200
    joined = zhang.post(f"/api/cases/{cid}/hearings/{hid}/join")
    assert joined.status_code == 200, joined.text
    link = joined.json()
    assert link["name"] == "张三" and link["role"] == "plaintiff"
    assert hub.transcript(hid, link["token"])["hearing_id"] == hid
    # The seat's earlier link (the console's) no longer works; the hearing's log says who issued the new one.
    old = next(i for i in hearing["invites"] if i["name"] == "张三")
    assert httpx.get(hub.url + f"/api/hearings/{hid}/transcript",
                     headers={"Authorization": f"Bearer {old['token']}"}).status_code == 401
    hub.stop()
    r = hub.verify(hid)
    assert r.returncode == 0, r.stderr


def test_the_court_signs_a_partys_devices_out(hub: HubProcess) -> None:
    case = file_case(hub)
    cid = case["case_id"]
    zhang, wang = enter(hub, case, 0), enter(hub, case, 2)
    staff = httpx.Client(base_url=hub.url, headers=STAFF)
    assert op(staff, cid, {"kind": "party.signout", "party_id": "P1"}).status_code == 200
    assert zhang.get(f"/api/cases/{cid}").status_code == 401
    assert wang.get(f"/api/cases/{cid}").status_code == 200
    kinds = [e["event"]["kind"] for e in staff.get(f"/api/cases/{cid}/events").json()["events"]]
    assert "party.signed_out" in kinds
    # Entering again with the link and the identity works.
    assert enter(hub, case, 0).get(f"/api/cases/{cid}").status_code == 200
    # Closing the case signs everyone out.
    assert op(staff, cid, {"kind": "case.close"}).status_code == 200
    assert wang.get(f"/api/cases/{cid}").status_code == 401


def test_a_mediation_session_is_a_sitting_without_a_transcript(hub: HubProcess) -> None:
    case = file_case(hub)
    cid = case["case_id"]
    staff = httpx.Client(base_url=hub.url, headers=STAFF)
    mediator = signed_in(hub, "med1", "孙调解员", "mediator")
    op(staff, cid, {"kind": "staff.assign", "role": "mediator", "staff_id": "med1", "name": "孙调解员"})
    assert mediator.post(f"/api/cases/{cid}/mediation/sessions", json={}).status_code == 400  # none open
    assert op(mediator, cid, {"kind": "mediation.open"}).status_code == 200
    r = mediator.post(f"/api/cases/{cid}/mediation/sessions", json={})
    assert r.status_code == 201, r.text
    session = r.json()
    assert [(i["role"], i["name"]) for i in session["invites"]] == [
        ("mediator", "孙调解员"), ("plaintiff", "张三"), ("agent", "李律师"), ("defendant", "王五")]
    hid = session["hearing_id"]
    mine = session["invites"][0]
    view = hub.transcript(hid, mine["token"])
    assert view["proceedings"]["status"] == "not_started"
    zhang = enter(hub, case, 0)
    assert zhang.post(f"/api/cases/{cid}/hearings/{hid}/join").json()["error"]["needs"] == "mediation"
    op(zhang, cid, {"kind": "identity.check", "purpose": "mediation", "name": "张三", "id_number": "320312199001011234"})
    link = zhang.post(f"/api/cases/{cid}/hearings/{hid}/join").json()
    assert link["name"] == "张三" and link["role"] == "plaintiff"
    # The mediator runs it (and a plain hearing takes no mediator).
    async def run_it() -> None:
        from tests.support import Client
        client = await Client.connect(hub.ws_url(hid, mine["token"]))
        assert (await client.op({"kind": "hearing.start"}))["type"] == "ack"
        await client.close()
    from tests.support import run
    run(run_it())
    bad = httpx.post(hub.url + "/api/hearings", headers=STAFF, json={
        "case_number": "x", "title": "x", "court": "x", "participants": [{"role": "mediator", "name": "x"}]})
    assert bad.status_code == 400


def test_a_refused_scheduling_creates_no_hearing(hub: HubProcess) -> None:
    case = file_case(hub)
    cid = case["case_id"]
    staff = httpx.Client(base_url=hub.url, headers=STAFF)
    assert op(staff, cid, {"kind": "case.close"}).status_code == 200
    r = staff.post(f"/api/cases/{cid}/hearings", json={})
    assert r.status_code == 409 and "closed" in r.json()["error"]["message"]
    conn = sqlite3.connect(hub.data / "courtroom.db")
    (hearings,) = conn.execute("SELECT count(*) FROM log WHERE hearing_id LIKE 'h-%'").fetchone()
    conn.close()
    assert hearings == 0


def test_an_administrators_account_acting_on_a_case_replays_after_a_restart(hub: HubProcess) -> None:
    case = file_case(hub)
    cid = case["case_id"]
    admin = signed_in(hub, "admin2", "王管理员", "admin")
    assert op(admin, cid, {"kind": "staff.assign", "role": "judge", "staff_id": "judge1",
                           "name": "赵法官"}).status_code == 200
    hub.kill()
    hub.start()
    r = httpx.get(hub.url + f"/api/cases/{cid}", headers=STAFF)
    assert r.status_code == 200, r.text
    assert r.json()["case"]["staff"]["judge"]["name"] == "赵法官"
