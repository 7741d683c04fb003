"""The wire contract against a real ``courtroom serve`` process."""

from __future__ import annotations

import asyncio
import json
import socket

import httpx
import pytest
import websockets

from tests.support import ADMIN, Client, HubProcess, invites_by_role


def run(coro):  # noqa: ANN001, ANN201
    return asyncio.run(coro)


def test_health_and_hearing_creation(hub: HubProcess) -> None:
    assert httpx.get(hub.url + "/healthz").json()["status"] == "ok"
    h = hub.create_hearing()
    roles = invites_by_role(h)
    assert set(roles) == {"judge", "clerk", "plaintiff", "defendant", "observer"}
    for inv in h["invites"]:
        assert inv["join_url"].startswith(hub.url.replace("127.0.0.1", "127.0.0.1") + "/hearings/")
        assert len(inv["token"]) >= 40
    page = httpx.get(roles["judge"]["join_url"])
    assert page.status_code == 200 and "庭审笔录" in page.text


@pytest.mark.parametrize("headers, body, status", [
    ({}, {"case_number": "1", "title": "t", "court": "c", "participants": [{"role": "judge", "name": "a"}]}, 401),
    ({"Authorization": "Bearer wrong"}, {"case_number": "1", "title": "t", "court": "c",
                                         "participants": [{"role": "judge", "name": "a"}]}, 401),
    ({"Authorization": f"Bearer {ADMIN}"}, {"case_number": "1", "title": "t", "court": "c",
                                            "participants": [{"role": "king", "name": "a"}]}, 400),
    ({"Authorization": f"Bearer {ADMIN}"}, {"case_number": "1", "title": "t", "court": "c",
                                            "participants": []}, 400),
    ({"Authorization": f"Bearer {ADMIN}"}, {"case_number": "1", "title": "t", "court": "c",
                                            "participants": [{"role": "judge", "name": "a", "site": "moon"}]}, 400),
])
def test_hearing_creation_rejects_bad_requests(hub: HubProcess, headers, body, status: int) -> None:
    r = httpx.post(hub.url + "/api/hearings", headers=headers, json=body)
    assert r.status_code == status and r.json()["error"]["code"] in ("unauthorized", "invalid")


def test_malformed_and_oversized_http_bodies(hub: HubProcess) -> None:
    h = {"Authorization": f"Bearer {ADMIN}", "Content-Type": "application/json"}
    assert httpx.post(hub.url + "/api/hearings", headers=h, content=b"{nope").status_code == 400
    r = httpx.post(hub.url + "/api/hearings", headers=h, content=b" " * 300_000)
    assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"


def test_transcript_and_export_need_an_invite_of_that_hearing(hub: HubProcess) -> None:
    a, b = hub.create_hearing(), hub.create_hearing()
    token_b = b["invites"][0]["token"]
    for path in ("transcript", "export?format=txt"):
        assert httpx.get(f"{hub.url}/api/hearings/{a['hearing_id']}/{path}").status_code == 401
        r = httpx.get(f"{hub.url}/api/hearings/{a['hearing_id']}/{path}",
                      headers={"Authorization": f"Bearer {token_b}"})
        assert r.status_code == 401
    r = httpx.get(f"{hub.url}/api/hearings/{a['hearing_id']}/export?format=exe",
                  headers={"Authorization": f"Bearer {a['invites'][0]['token']}"})
    assert r.status_code == 400


def test_ops_sync_broadcast_idempotency_and_export(hub: HubProcess) -> None:
    h = hub.create_hearing()
    hid, inv = h["hearing_id"], invites_by_role(h)

    async def main() -> None:
        clerk = await Client.connect(hub.ws_url(hid, inv["clerk"]["token"]))
        party = await Client.connect(hub.ws_url(hid, inv["plaintiff"]["token"]))
        assert clerk.welcome["type"] == "welcome" and clerk.welcome["seq"] == 1
        assert clerk.welcome["participant"]["role"] == "clerk"
        assert "segment.edit" in clerk.welcome["permissions"]
        assert "segment.edit" not in party.welcome["permissions"]
        assert clerk.seq == 1 and clerk.events[0]["event"]["kind"] == "hearing.created"

        judge_id = inv["judge"]["participant_id"]
        ack = await clerk.op({"kind": "segment.add", "text": "现在开庭", "speaker": judge_id,
                              "start": 1.5, "end": 2.5}, op_id="add-1")
        assert ack == {"type": "ack", "op_id": "add-1", "seq": 2}
        await party.wait_for(lambda: party.seq == 2)
        seg = party.events[-1]["event"]["segment"]
        assert seg["speaker"] == {"participant_id": judge_id, "role": "judge", "name": "王法官"}

        ann = await party.op({"kind": "annotation.add", "segment_id": seg["id"], "start": 2, "end": 4,
                              "style": "comment", "body": "开庭时间有误", "color": "green"})
        assert ann["type"] == "ack"
        await clerk.wait_for(lambda: clerk.seq == 3)
        a = clerk.events[-1]["event"]["annotation"]
        assert (a["quote"], a["author"]["role"], a["orphaned"]) == ("开庭", "plaintiff", False)

        # Resending an op_id returns the first answer and adds nothing.
        again = await clerk.op({"kind": "segment.add", "text": "完全不同的内容"}, op_id="add-1")
        assert again == ack
        nack = await party.op({"kind": "segment.add", "text": "越权"}, op_id="bad-1")
        assert nack["type"] == "nack" and nack["error"]["code"] == "forbidden"
        assert (await party.op({"kind": "annotation.remove", "annotation_id": "A1"}, op_id="bad-1")) == nack

        # A stale edit is a conflict carrying the current segment.
        await clerk.op({"kind": "segment.edit", "segment_id": seg["id"], "base_rev": 1, "text": "现在开庭。"})
        c = await clerk.op({"kind": "segment.edit", "segment_id": seg["id"], "base_rev": 1, "text": "x"})
        assert c["error"]["code"] == "conflict" and c["error"]["segment"]["rev"] == 2

        # A late joiner syncs from any point without gaps or duplicates.
        late = await Client.connect(hub.ws_url(hid, inv["defendant"]["token"]), since=2)
        assert [e["seq"] for e in late.events] == [3, 4]
        for c_ in (clerk, party, late):
            await c_.close()

        t = hub.transcript(hid, inv["observer"]["token"])
        assert t["seq"] == 4 and not t["locked"]
        assert [s["text"] for s in t["segments"]] == ["现在开庭。"]
        assert t["annotations"][0]["body"] == "开庭时间有误"
        r = httpx.get(f"{hub.url}/api/hearings/{hid}/export?format=txt",
                      headers={"Authorization": f"Bearer {inv['judge']['token']}"})
        assert "审判员 王法官：现在开庭。" in r.text and "开庭时间有误" in r.text
        for fmt, magic in (("docx", b"PK"), ("pdf", b"%PDF-"), ("json", b"{"), ("vtt", b"WEBVTT")):
            r = httpx.get(f"{hub.url}/api/hearings/{hid}/export?format={fmt}",
                          headers={"Authorization": f"Bearer {inv['judge']['token']}"})
            assert r.status_code == 200 and r.content.startswith(magic)
            assert f".{fmt}" in r.headers["content-disposition"]
        assert "00:00:01.500 --> 00:00:02.500" in r.text

    run(main())


def test_bad_messages_get_clear_errors_and_the_session_goes_on(hub: HubProcess) -> None:
    h = hub.create_hearing()
    hid, inv = h["hearing_id"], invites_by_role(h)

    async def main() -> None:
        c = await Client.connect(hub.ws_url(hid, inv["judge"]["token"]))
        other = await Client.connect(hub.ws_url(hid, inv["clerk"]["token"]))
        for raw in ["{not json", "[]", json.dumps({"type": 7}), json.dumps({"type": "dance"}),
                    json.dumps({"type": "op", "op": {}}), json.dumps({"type": "sync", "since": -3})]:
            await c.ws.send(raw)
        await c.ws.send(b"\x00binary")
        await c.wait_for(lambda: len([m for m in c.others if m["type"] == "error"]) == 7)
        assert all(m["error"]["code"] == "invalid" for m in c.others if m["type"] == "error")
        big = await c.op({"kind": "segment.add", "text": "长" * 300_000}, op_id="big")
        assert big["error"]["code"] == "too_large"
        unknown = await c.op({"kind": "segment.explode"})
        assert unknown["error"]["code"] == "invalid"
        ok = await c.op({"kind": "segment.add", "text": "会话仍然可用"})
        assert ok["type"] == "ack"
        await other.wait_for(lambda: other.seq == ok["seq"])
        await c.close()
        await other.close()

    run(main())


def test_a_wrong_token_is_refused(hub: HubProcess) -> None:
    h = hub.create_hearing()

    async def main() -> None:
        async with websockets.connect(hub.ws_url(h["hearing_id"], "forged")) as ws:
            msg = json.loads(await ws.recv())
            assert msg["type"] == "error" and msg["error"]["code"] == "forbidden"
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await ws.recv()
            assert closed.value.rcvd.code == 4401

    run(main())


def test_partials_are_relayed_and_never_stored(hub: HubProcess) -> None:
    h = hub.create_hearing()
    hid, inv = h["hearing_id"], invites_by_role(h)

    async def main() -> None:
        speaker = await Client.connect(hub.ws_url(hid, inv["plaintiff"]["token"]))
        screen = await Client.connect(hub.ws_url(hid, inv["observer"]["token"]))
        await speaker.ws.send(json.dumps({"type": "partial", "text": "现在"}))
        await screen.wait_for(lambda: any(m["type"] == "partial" for m in screen.others))
        p = next(m for m in screen.others if m["type"] == "partial")
        assert p == {"type": "partial", "participant_id": inv["plaintiff"]["participant_id"], "text": "现在"}
        await screen.ws.send(json.dumps({"type": "partial", "text": "旁听者不能说话"}))
        await screen.wait_for(lambda: any(m["type"] == "error" for m in screen.others))
        await speaker.close()
        await screen.close()
        assert hub.transcript(hid, inv["judge"]["token"])["seq"] == 1

    run(main())


def test_a_stalled_screen_is_dropped_without_stalling_the_others(tmp_path) -> None:  # noqa: ANN001
    """A client that never reads fills its queue and is disconnected; the
    others keep receiving events promptly. (The burst of ops that fills it
    is faster than the per-participant rate limit allows.)"""
    hub = HubProcess(tmp_path / "data", args=["--rate-limit", "0"]).start()
    try:
        stalled_screen(hub)
    finally:
        hub.stop()


def stalled_screen(hub: HubProcess) -> None:
    h = hub.create_hearing()
    hid, inv = h["hearing_id"], invites_by_role(h)

    async def main() -> None:
        # A raw socket that syncs and then never reads again; a small receive
        # buffer keeps the kernel from soaking up megabytes on its behalf.
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        sock.connect(("127.0.0.1", hub.port))
        stalled = await websockets.connect(hub.ws_url(hid, inv["observer"]["token"]), max_queue=1,
                                           compression=None, sock=sock)
        await stalled.recv()
        await stalled.send(json.dumps({"type": "sync", "since": 0}))
        stalled.transport.pause_reading()
        judge = await Client.connect(hub.ws_url(hid, inv["judge"]["token"]))
        watcher = await Client.connect(hub.ws_url(hid, inv["defendant"]["token"]))
        body = "很长的陈述" * 900  # ~13 KB per event
        for n in range(500):
            await judge.send_op({"kind": "segment.add", "text": body}, op_id=f"flood-{n}")
        await watcher.wait_for(lambda: watcher.seq == 501, timeout=60)
        await judge.wait_for(lambda: len(judge.answers) == 500, timeout=60)
        assert all(a["type"] == "ack" for a in judge.answers.values())
        # While the stalled screen waits to be dropped, the others stay live.
        for n in range(12):
            await asyncio.sleep(1)
            started = asyncio.get_running_loop().time()
            await judge.send_op({"kind": "segment.add", "text": "仍在进行"}, op_id=f"later-{n}")
            await watcher.wait_for(lambda: watcher.seq == 502 + n, timeout=2)
            assert asyncio.get_running_loop().time() - started < 2
        stalled.transport.resume_reading()
        with pytest.raises(websockets.ConnectionClosed):
            async with asyncio.timeout(30):
                while True:
                    await stalled.recv()
        await judge.close()
        await watcher.close()

    run(main())


def test_batched_catch_up_carries_the_same_events(hub: HubProcess) -> None:
    h = hub.create_hearing()
    hid, inv = h["hearing_id"], invites_by_role(h)

    async def main() -> None:
        clerk = await Client.connect(hub.ws_url(hid, inv["clerk"]["token"]))
        for n in range(150):  # about 340,000 characters of events
            await clerk.send_op({"kind": "segment.add", "text": f"第{n}段陈述。" * 350}, op_id=f"s{n}")
        await clerk.wait_for(lambda: len(clerk.answers) == 150, timeout=60)
        assert {a["type"] for a in clerk.answers.values()} == {"ack"}
        plain = await Client.connect(hub.ws_url(hid, inv["judge"]["token"]))
        async with websockets.connect(hub.ws_url(hid, inv["plaintiff"]["token"]), max_size=2**24) as ws:
            await ws.recv()
            await ws.send(json.dumps({"type": "sync", "since": 5, "batch": True}))
            batches, events = 0, []
            while True:
                msg = json.loads(await ws.recv())
                if msg["type"] == "events":
                    batches += 1
                    events += msg["events"]
                elif msg["type"] == "synced":
                    break
            await ws.send(json.dumps({"type": "sync", "since": 0, "batch": "yes"}))
            while (msg := json.loads(await ws.recv()))["type"] != "error":
                pass
            assert msg["error"]["code"] == "invalid"
        assert 1 < batches < 5
        assert events == plain.events[5:]
        for c in (clerk, plain):
            await c.close()

    run(main())


def test_a_new_screen_takes_a_snapshot_and_the_events_after_it(hub: HubProcess) -> None:
    h = hub.create_hearing(waiting_room=True, participants=[
        {"role": "judge", "name": "王法官"}, {"role": "clerk", "name": "李书记员"},
        {"role": "plaintiff", "name": "张三"}, {"role": "defendant", "name": "李四", "site": "remote"}])
    hid, inv = h["hearing_id"], invites_by_role(h)

    async def snapshot_of(client: Client) -> dict:
        n = len(client.of_type("synced"))
        await client.send_json({"type": "snapshot", "batch": True})
        await client.wait_for(lambda: len(client.of_type("synced")) > n)
        return client.of_type("snapshot")[-1]

    async def main() -> None:
        clerk = await Client.connect(hub.ws_url(hid, inv["clerk"]["token"]))
        party = await Client.connect(hub.ws_url(hid, inv["plaintiff"]["token"]))
        for n in range(30):
            await clerk.send_op({"kind": "segment.add", "text": f"第{n}段陈述。"}, op_id=f"s{n}")
        await clerk.wait_for(lambda: len(clerk.answers) == 30)
        await party.op({"kind": "annotation.add", "segment_id": "S3", "start": 0, "end": 2, "style": "comment",
                        "body": "有异议"})
        await clerk.op({"kind": "segment.delete", "segment_id": "S4", "base_rev": 1})
        screen = await Client.connect(hub.ws_url(hid, inv["plaintiff"]["token"]), sync=False)
        snap = await snapshot_of(screen)
        assert snap["seq"] == clerk.seq and not screen.events  # nothing to replay
        export = httpx.get(f"{hub.url}/api/hearings/{hid}/export", params={"format": "json",
                                                                          "token": inv["judge"]["token"]}).json()
        for key in ("hearing", "segments", "annotations", "locked", "proceedings", "evidence", "display"):
            assert snap["state"][key] == export[key], key
        assert "usage" not in snap["state"] and "next" not in snap["state"]
        # Live events follow the snapshot, each once.
        await clerk.op({"kind": "segment.add", "text": "新的一段。"})
        await screen.wait_for(lambda: screen.seq == clerk.seq)
        assert [e["event"]["segment"]["text"] for e in screen.events] == ["新的一段。"]
        # A screen waiting to be admitted gets nothing until the judge admits it.
        waiting = await Client.connect(hub.ws_url(hid, inv["defendant"]["token"]), sync=False)
        await waiting.send_json({"type": "snapshot"})
        await waiting.wait_for(lambda: waiting.of_type("waiting"))
        assert not waiting.of_type("snapshot")
        judge = await Client.connect(hub.ws_url(hid, inv["judge"]["token"]))
        await judge.op({"kind": "participant.admit", "participant_id": inv["defendant"]["participant_id"]})
        await waiting.wait_for(lambda: waiting.of_type("synced"))
        assert waiting.of_type("snapshot")[0]["seq"] == judge.seq
        assert [s["text"] for s in waiting.of_type("snapshot")[0]["state"]["segments"]][-1] == "新的一段。"
        await screen.send_json({"type": "snapshot", "batch": "yes"})
        await screen.wait_for(lambda: screen.of_type("error"))
        assert screen.of_type("error")[0]["error"]["code"] == "invalid"
        for c in (clerk, party, screen, waiting, judge):
            await c.close()

    run(main())
