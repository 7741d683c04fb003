"""Device credentials: only court staff issue and revoke them (logged); a
device joins only its courtroom's hearings, reads as an observer, sends no
ops, publishes only for participants seated in the courtroom; a revoked
credential is refused at once, its open connection closed with 4401."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import websockets

from tests.support import ADMIN, Client, HubProcess, invites_by_role, run

ROOM = "第一法庭"
PEOPLE = [{"role": "judge", "name": "王法官"}, {"role": "clerk", "name": "赵书记员"},
          {"role": "plaintiff", "name": "张三"}, {"role": "defendant", "name": "李四", "site": "remote"}]
STAFF = {"Authorization": f"Bearer {ADMIN}"}


def issue(hub: HubProcess, courtroom: str = ROOM, name: str = "第一法庭主机") -> dict[str, Any]:
    r = httpx.post(hub.url + "/api/devices", headers=STAFF, json={"courtroom": courtroom, "name": name})
    assert r.status_code == 201, r.text
    return r.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_only_staff_issue_list_and_revoke(hub: HubProcess) -> None:
    hearing = hub.create_hearing(PEOPLE, courtroom=ROOM)
    judge = invites_by_role(hearing)["judge"]["token"]
    body = {"courtroom": ROOM, "name": "主机"}
    for headers in ({}, bearer(judge), bearer("x" * 43)):
        assert httpx.post(hub.url + "/api/devices", headers=headers, json=body).status_code == 401
        assert httpx.get(hub.url + "/api/devices", headers=headers).status_code == 401
    device = issue(hub)
    assert httpx.delete(f"{hub.url}/api/devices/{device['device_id']}", headers=bearer(judge)).status_code == 401
    # Bad input: a clear error, nothing issued.
    for bad in ({"courtroom": "", "name": "x"}, {"courtroom": ROOM}, {"courtroom": "a\x01", "name": "x"},
                {"courtroom": ROOM, "name": "x", "extra": 1}):
        assert httpx.post(hub.url + "/api/devices", headers=STAFF, json=bad).status_code == 400
    listing = httpx.get(hub.url + "/api/devices", headers=STAFF).json()
    assert [d["device_id"] for d in listing["devices"]] == [device["device_id"]]
    assert "credential" not in listing["devices"][0]
    r = httpx.delete(f"{hub.url}/api/devices/{device['device_id']}", headers=STAFF)
    assert r.status_code == 200 and r.json()["revoked_ms"] >= device["issued_ms"]
    assert httpx.delete(f"{hub.url}/api/devices/d-000000000000", headers=STAFF).status_code == 404
    log = httpx.get(hub.url + "/api/devices", headers=STAFF).json()["log"]
    assert [(e["device_id"], e["action"], e["actor"]) for e in log] == [
        (device["device_id"], "issued", "staff:admin"), (device["device_id"], "revoked", "staff:admin")]


def test_a_device_finds_its_courtrooms_hearing_and_nothing_else(hub: HubProcess) -> None:
    device = issue(hub)
    current = hub.url + "/api/devices/current"
    assert httpx.get(current, headers=bearer(device["credential"])).status_code == 404  # no hearing yet
    assert httpx.get(current, headers=bearer("nonsense")).status_code == 401
    other = hub.create_hearing(PEOPLE, courtroom="第二法庭")
    hearing = hub.create_hearing(PEOPLE, courtroom=ROOM)
    found = httpx.get(current, headers=bearer(device["credential"])).json()
    assert found["hearing_id"] == hearing["hearing_id"]
    assert found["ws_url"] == f"ws://127.0.0.1:{hub.port}/ws/hearings/{hearing['hearing_id']}"
    # Its credential opens nothing over HTTP: not the transcript, not exports.
    for path in ("transcript", "export?format=txt"):
        r = httpx.get(f"{hub.url}/api/hearings/{hearing['hearing_id']}/{path}", headers=bearer(device["credential"]))
        assert r.status_code == 401

    async def main() -> None:
        # Another courtroom's hearing is refused.
        ws = await websockets.connect(hub.ws_url(other["hearing_id"], device["credential"]))
        assert json.loads(await ws.recv())["error"]["code"] == "forbidden"
        await ws.wait_closed()
        assert ws.close_code == 4401
        # Its own courtroom's hearing: read as an observer seated there.
        c = await Client.connect(hub.ws_url(hearing["hearing_id"], device["credential"]))
        assert c.welcome["device"]["device_id"] == device["device_id"]
        assert c.welcome["participant"]["role"] == "observer" and c.welcome["permissions"] == []
        assert c.events[0]["event"]["hearing"]["courtroom"] == ROOM
        answer = await c.answer({"kind": "annotation.add", "segment_id": "s1", "start": 0, "end": 1,
                                 "type": "comment", "text": "x"})
        assert answer["type"] == "nack" and answer["error"]["code"] == "forbidden"
        await c.send_json({"type": "partial", "text": "我说"})
        await c.wait_for(lambda: any(m["error"]["code"] == "forbidden" for m in c.of_type("error")))
        await c.close()
    run(main())

    # Ended, it is still the courtroom's (its parties sign) until another is held there.
    judge = invites_by_role(hearing)["judge"]["token"]

    async def end() -> None:
        c = await Client.connect(hub.ws_url(hearing["hearing_id"], judge))
        assert (await c.op({"kind": "hearing.end"}))["type"] == "ack"
        await c.close()
    run(end())
    assert httpx.get(current, headers=bearer(device["credential"])).json()["hearing_id"] == hearing["hearing_id"]
    later = hub.create_hearing(PEOPLE, courtroom=ROOM)
    assert httpx.get(current, headers=bearer(device["credential"])).json()["hearing_id"] == later["hearing_id"]


def test_revoking_closes_the_device_at_once_and_the_judge_sees_it(hub: HubProcess) -> None:
    device = issue(hub)
    hearing = hub.create_hearing(PEOPLE, courtroom=ROOM)
    judge_token = invites_by_role(hearing)["judge"]["token"]

    async def main() -> None:
        judge = await Client.connect(hub.ws_url(hearing["hearing_id"], judge_token))
        c = await Client.connect(hub.ws_url(hearing["hearing_id"], device["credential"]))

        def device_state() -> dict[str, Any]:
            presence = judge.of_type("presence")
            return presence[-1].get("devices", {}).get(device["device_id"], {}) if presence else {}
        await judge.wait_for(lambda: device_state().get("connected") is True)
        assert device_state()["name"] == "第一法庭主机"
        r = await asyncio.to_thread(httpx.delete, f"{hub.url}/api/devices/{device['device_id']}", headers=STAFF)
        assert r.status_code == 200
        await asyncio.wait_for(c.ws.wait_closed(), 3)
        assert c.ws.close_code == 4401
        await judge.wait_for(lambda: device_state().get("connected") is False and "last_seen" in device_state())
        ws = await websockets.connect(hub.ws_url(hearing["hearing_id"], device["credential"]))
        await ws.wait_closed()
        assert ws.close_code == 4401
        await judge.close()
    run(main())
    current = httpx.get(hub.url + "/api/devices/current", headers=bearer(device["credential"]))
    assert current.status_code == 401


def test_a_device_publishes_only_for_seats_in_the_courtroom(hub: HubProcess) -> None:
    device = issue(hub)
    hearing = hub.create_hearing(PEOPLE, courtroom=ROOM)
    people = invites_by_role(hearing)
    defendant = people["defendant"]  # remote: not in the courtroom

    async def main() -> None:
        c = await Client.connect(hub.ws_url(hearing["hearing_id"], device["credential"]))
        for publish, code in (
                ([{"name": "seat-1", "kind": "audio", "participant_id": defendant["participant_id"]}], "forbidden"),
                ([{"name": "seat-1", "kind": "audio"}], "forbidden"),  # the device itself does not speak
                ([{"name": "Seat 1", "kind": "audio"}], "invalid"),
                ([{"name": "a", "kind": "audio"}] * 2, "invalid"),
                ([{"name": "a", "kind": "smell"}], "invalid"),
                ("seat-1", "invalid")):
            before = len(c.of_type("error"))
            await c.send_json({"type": "rtc.join", "publish": publish})
            await c.wait_for(lambda: len(c.of_type("error")) > before)
            assert c.of_type("error")[-1]["error"]["code"] == code, publish
        assert not c.of_type("rtc.offer")
        seats = [{"name": "seat-1", "kind": "audio", "participant_id": people["judge"]["participant_id"]},
                 {"name": "seat-3", "kind": "audio", "participant_id": people["plaintiff"]["participant_id"]}]
        await c.send_json({"type": "rtc.join", "publish": seats})
        await c.wait_for(lambda: bool(c.of_type("rtc.offer")))
        assert set(c.of_type("rtc.offer")[0]["publish"]) == {"seat-1", "seat-3"}
        # A participant publishes only their own media.
        p = await Client.connect(hub.ws_url(hearing["hearing_id"], people["plaintiff"]["token"]))
        await p.send_json({"type": "rtc.join", "publish": [
            {"name": "audio", "kind": "audio", "participant_id": people["judge"]["participant_id"]}]})
        await p.wait_for(lambda: bool(p.of_type("error")))
        assert p.of_type("error")[0]["error"]["code"] == "forbidden"
        await c.close()
        await p.close()
    run(main())
