"""Who may read a hearing, against a real hub: only admitted participants,
and only with a token that has not been revoked."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
import websockets

from tests.support import ADMIN, PARTIES, Client, HubProcess, invites_by_role, run

WITNESS = {"role": "witness", "name": "证人赵六", "site": "remote"}
READS = ("transcript", "export?format=txt", "vocabulary", "evidence/E1",
         "recording?participant_id={pid}&start=0&end=1")


def reads(hub: HubProcess, hid: str, token: str, pid: str) -> dict[str, int]:
    return {path: httpx.get(f"{hub.url}/api/hearings/{hid}/{path.format(pid=pid)}",
                            headers={"Authorization": f"Bearer {token}"}).status_code for path in READS}


def test_a_waiting_witness_reads_nothing_until_admitted(hub: HubProcess) -> None:
    h = hub.create_hearing(PARTIES + [WITNESS], waiting_room=True)
    hid, inv = h["hearing_id"], invites_by_role(h)
    witness = inv["witness"]

    async def main() -> None:
        judge = await Client.connect(hub.ws_url(hid, inv["judge"]["token"]))
        clerk = await Client.connect(hub.ws_url(hid, inv["clerk"]["token"]))
        assert (await clerk.op({"kind": "segment.add", "text": "原告陈述事实与理由。"}))["type"] == "ack"
        w = await Client.connect(hub.ws_url(hid, witness["token"]), sync=False)
        await w.send_json({"type": "sync", "since": 0})
        await w.wait_for(lambda: bool(w.of_type("waiting")))
        await clerk.send_json({"type": "partial", "text": "证人尚未作证"})
        assert (await clerk.op({"kind": "segment.add", "text": "被告答辩。"}))["type"] == "ack"
        await asyncio.sleep(0.3)
        assert w.events == [] and [m["type"] for m in w.others] == ["waiting"]
        assert set(reads(hub, hid, witness["token"], witness["participant_id"]).values()) == {403}
        # The upload is refused before a byte is stored.
        r = httpx.post(f"{hub.url}/api/hearings/{hid}/evidence?name=a.png", content=b"\x89PNG\r\n\x1a\n" + b"0" * 64,
                       headers={"Authorization": f"Bearer {witness['token']}"})
        assert r.status_code == 403 and not (hub.data / "evidence" / hid).exists()
        # Admitted: the waiting sync completes with everything, then live.
        assert (await judge.op({"kind": "participant.admit",
                                "participant_id": witness["participant_id"]}))["type"] == "ack"
        await w.wait_for(lambda: w.seq == judge.seq and bool(w.of_type("synced")))
        assert [e["event"]["kind"] for e in w.events][-1] == "participant.admitted"
        await clerk.send_json({"type": "partial", "text": "请证人作证"})
        await w.wait_for(lambda: bool(w.of_type("partial")))
        assert reads(hub, hid, witness["token"], witness["participant_id"])["transcript"] == 200
        for c in (judge, clerk, w):
            await c.close()

    run(main())


def test_a_removed_party_sees_nothing_after_the_removal_and_resumes_on_readmission(hub: HubProcess) -> None:
    h = hub.create_hearing()
    hid, inv = h["hearing_id"], invites_by_role(h)
    party = inv["plaintiff"]

    async def main() -> None:
        judge = await Client.connect(hub.ws_url(hid, inv["judge"]["token"]))
        p = await Client.connect(hub.ws_url(hid, party["token"]))
        removal = await judge.op({"kind": "participant.remove", "participant_id": party["participant_id"]})
        await p.wait_for(lambda: bool(p.of_type("waiting")))
        assert p.seq == removal["seq"]  # they saw their removal, and nothing after it
        assert (await judge.op({"kind": "segment.add", "text": "休庭期间的陈述。"}))["type"] == "ack"
        await judge.send_json({"type": "partial", "text": "不应被听到"})
        await asyncio.sleep(0.3)
        assert p.seq == removal["seq"] and not p.of_type("partial")
        assert set(reads(hub, hid, party["token"], party["participant_id"]).values()) == {403}
        assert (await judge.op({"kind": "participant.admit",
                                "participant_id": party["participant_id"]}))["type"] == "ack"
        await p.wait_for(lambda: p.seq == judge.seq)  # the Client asserts there is no gap
        await judge.close()
        await p.close()

    run(main())


def test_a_revoked_invite_is_refused_at_once_sockets_included(hub: HubProcess) -> None:
    h = hub.create_hearing()
    hid, inv = h["hearing_id"], invites_by_role(h)
    party = inv["plaintiff"]

    async def main() -> None:
        judge = await Client.connect(hub.ws_url(hid, inv["judge"]["token"]))
        p = await Client.connect(hub.ws_url(hid, party["token"]))
        second = await Client.connect(hub.ws_url(hid, party["token"]))
        r = await judge.op({"kind": "invite.revoke", "participant_id": party["participant_id"]})
        assert r["type"] == "ack"
        for c in (p, second):
            await asyncio.wait_for(c._reader, 5)
            assert c.ws.close_code == 4401
        assert httpx.get(f"{hub.url}/api/hearings/{hid}/transcript",
                         headers={"Authorization": f"Bearer {party['token']}"}).status_code == 401
        async with websockets.connect(hub.ws_url(hid, party["token"])) as ws:
            assert json.loads(await ws.recv())["error"]["code"] == "forbidden"
        event = judge.events[-1]["event"]
        assert event["kind"] == "invite.revoked" and event["participant"]["participant_id"] == party["participant_id"]
        # Nobody but the judge (and court staff) revokes; nobody re-issues over the socket.
        clerk = await Client.connect(hub.ws_url(hid, inv["clerk"]["token"]))
        no = await clerk.op({"kind": "invite.revoke", "participant_id": inv["defendant"]["participant_id"]})
        assert no["error"]["code"] == "forbidden"
        no = await judge.op({"kind": "invite.reissue", "participant_id": party["participant_id"],
                             "token_hash": "ab" * 32})
        assert no["error"]["code"] == "invalid" and "HTTP" in no["error"]["message"]
        for c in (judge, clerk):
            await c.close()

    run(main())
    hub.stop()
    hub.start()
    assert httpx.get(f"{hub.url}/api/hearings/{hid}/transcript",
                     headers={"Authorization": f"Bearer {party['token']}"}).status_code == 401


@pytest.mark.parametrize("who", ["admin", "judge"])
def test_reissuing_an_invite_replaces_the_token(hub: HubProcess, who: str) -> None:
    h = hub.create_hearing()
    hid, inv = h["hearing_id"], invites_by_role(h)
    party = inv["defendant"]
    token = ADMIN if who == "admin" else inv["judge"]["token"]
    url = f"{hub.url}/api/hearings/{hid}/participants/{party['participant_id']}/invite"
    r = httpx.post(url, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    new = r.json()
    assert new["participant_id"] == party["participant_id"] and new["token"] != party["token"]
    assert new["join_url"].endswith(new["token"])
    for old_or_new, status in ((party["token"], 401), (new["token"], 200)):
        assert httpx.get(f"{hub.url}/api/hearings/{hid}/transcript",
                         headers={"Authorization": f"Bearer {old_or_new}"}).status_code == status
    # The log records who re-issued whose invite, and never the token.
    t = hub.transcript(hid, new["token"])
    assert t["seq"] == new["seq"]
    for stored in hub.data.glob("courtroom.db*"):
        assert new["token"].encode() not in stored.read_bytes()
    assert hub.verify(hid).returncode == 0
    # The judge's own invite: only court staff may replace someone else's judge's,
    # the clerk never, and a participant who does not exist is not found.
    judge_url = f"{hub.url}/api/hearings/{hid}/participants/{inv['judge']['participant_id']}/invite"
    assert httpx.delete(judge_url, headers={"Authorization": f"Bearer {inv['judge']['token']}"}).status_code == 403
    assert httpx.post(url, headers={"Authorization": f"Bearer {inv['clerk']['token']}"}).status_code == 403
    assert httpx.post(url.replace(party["participant_id"], "p-nobody"),
                      headers={"Authorization": f"Bearer {ADMIN}"}).status_code == 404
    assert httpx.post(url).status_code == 401
