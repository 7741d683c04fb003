"""Several nodes as one hub: the wire contract against any node."""

from __future__ import annotations

import asyncio
from typing import Any, Callable

from tests.support import Client, HubProcess, invites_by_role


def screens_agree(screens: list[Client]) -> list[dict[str, Any]]:
    first = [e["event"] for e in screens[0].events]
    for s in screens[1:]:
        assert [e["event"] for e in s.events] == first
    return first


def test_a_hearing_created_on_one_node_is_served_by_every_node(nodes: Callable[[int], list[HubProcess]]) -> None:
    a, b, c = nodes(3)
    h = a.create_hearing()
    hid, inv = h["hearing_id"], invites_by_role(h)

    async def main() -> None:
        judge = await Client.connect(b.ws_url(hid, inv["judge"]["token"]))       # a mirror on b
        clerk = await Client.connect(c.ws_url(hid, inv["clerk"]["token"]))       # a mirror on c
        observer = await Client.connect(a.ws_url(hid, inv["observer"]["token"]))  # the authority
        for n in range(10):
            answer = await clerk.op({"kind": "segment.add", "text": f"第{n}句：核对当事人身份。"}, op_id=f"c{n}")
            assert answer["type"] == "ack", answer
        answer = await judge.op({"kind": "hearing.start"}, op_id="open")
        assert answer["type"] == "ack", answer
        refused = await clerk.answer({"kind": "hearing.end"}, op_id="close")  # the judge's to do
        assert refused["type"] == "nack" and refused["error"]["code"] == "forbidden"
        again = await clerk.answer({"kind": "segment.add", "text": "第0句：核对当事人身份。"}, op_id="c0")
        assert again == {"type": "ack", "op_id": "c0", "seq": 2}  # resent: its first answer, not applied twice
        top = max(s.seq for s in (judge, clerk, observer))
        for s in (judge, clerk, observer):
            await s.wait_for(lambda s=s: s.seq >= top)
        events = screens_agree([judge, clerk, observer])
        assert len(events) == 12
        late = await Client.connect(c.ws_url(hid, inv["plaintiff"]["token"]))     # catch-up on a mirror
        assert [e["event"] for e in late.events] == events
        for s in (judge, clerk, observer, late):
            await s.close()

    asyncio.run(main())


def test_http_about_a_stream_is_served_by_its_authority(nodes: Callable[[int], list[HubProcess]]) -> None:
    """Requests reaching another node are passed to the authority: an
    upload, a download, a case's op, and a hearing scheduled from a case
    (the case's entry and the new hearing in one transaction)."""
    import httpx

    from tests.test_case_api import STAFF, file_case, op
    from tests.test_evidence_upload import png_bytes, upload

    a, b = nodes(2)
    h = a.create_hearing()
    hid, inv = h["hearing_id"], invites_by_role(h)
    stored = upload(b, hid, inv["clerk"]["token"], png_bytes())
    assert stored.status_code == 201, stored.text
    evidence_id = stored.json()["evidence"]["id"]
    shown = httpx.get(f"{b.url}/api/hearings/{hid}/evidence/{evidence_id}", params={"token": inv["judge"]["token"]})
    assert shown.status_code == 200 and shown.content == png_bytes()
    assert httpx.get(f"{b.url}/api/hearings/{hid}/transcript", params={"token": "x" * 43}).status_code == 401

    case = file_case(a)
    cid = case["case_id"]
    staff = httpx.Client(base_url=b.url, headers=STAFF)
    assert op(staff, cid, {"kind": "staff.assign", "role": "judge", "staff_id": "judge1",
                           "name": "赵法官"}).status_code == 200
    scheduled = staff.post(f"/api/cases/{cid}/hearings", json={})
    assert scheduled.status_code == 201, scheduled.text
    listed = httpx.get(f"{a.url}/api/cases/{cid}", headers=STAFF).json()["hearings"]
    assert [x["hearing_id"] for x in listed] == [scheduled.json()["hearing_id"]]


def test_a_hearing_page_is_sent_to_the_node_that_runs_its_media(nodes: Callable[[int], list[HubProcess]]) -> None:
    import httpx

    a, b = nodes(2)
    h = a.create_hearing()
    hid, judge = h["hearing_id"], invites_by_role(h)["judge"]
    page = httpx.get(f"{b.url}/hearings/{hid}", params={"token": judge["token"]})
    assert page.status_code == 307
    assert page.headers["location"].startswith(f"{a.url}/hearings/{hid}?token={judge['token']}&via=")
    assert "庭审笔录" in httpx.get(page.headers["location"]).text


def test_presence_shows_who_is_connected_on_every_node(nodes: Callable[[int], list[HubProcess]]) -> None:
    a, b = nodes(2)
    h = a.create_hearing()
    hid, inv = h["hearing_id"], invites_by_role(h)
    judge_id, clerk_id = inv["judge"]["participant_id"], inv["clerk"]["participant_id"]

    def connected(screen: Client) -> set[str]:
        last = screen.of_type("presence")[-1]["participants"] if screen.of_type("presence") else {}
        return {pid for pid, p in last.items() if p["connected"]}

    async def main() -> None:
        clerk = await Client.connect(a.ws_url(hid, inv["clerk"]["token"]))   # on the authority
        judge = await Client.connect(b.ws_url(hid, inv["judge"]["token"]))   # on a mirror
        for screen in (clerk, judge):
            await screen.wait_for(lambda s=screen: connected(s) == {judge_id, clerk_id})
        await judge.close()
        await clerk.wait_for(lambda: connected(clerk) == {clerk_id})
        last = clerk.of_type("presence")[-1]["participants"][judge_id]
        assert "last_seen" in last
        await clerk.close()

    asyncio.run(main())


def test_a_terminal_goes_to_the_node_that_runs_the_hearings_media(nodes: Callable[[int], list[HubProcess]]) -> None:
    from devices.client import HearingClient

    a, b = nodes(2)
    h = a.create_hearing()
    link = next(i for i in h["invites"] if i["role"] == "defendant")["join_url"].replace(a.url, b.url)

    async def main() -> None:
        client = HearingClient(link)
        await client.start()
        assert client.url.startswith(f"ws://127.0.0.1:{a.port}/ws/hearings/")
        await client.close()

    asyncio.run(main())


def test_a_case_space_is_served_from_any_node(nodes: Callable[[int], list[HubProcess]]) -> None:
    import json

    import httpx

    from tests.test_case_api import STAFF, enter, file_case, op
    from tests.test_case_socket import connect, session_of, until

    a, b = nodes(2)
    case = file_case(a)
    cid = case["case_id"]
    zhang = enter(b, case, 0)  # the entry (an identity check) reaches the case's authority through b

    async def main() -> None:
        ws = await connect(b, cid, session_of(zhang, cid))  # a mirror of the case on b
        assert json.loads(await ws.recv())["type"] == "welcome"
        await ws.send(json.dumps({"type": "sync", "since": 0}))
        await until(ws, "synced")
        staff = httpx.Client(base_url=a.url, headers=STAFF)
        assert op(zhang, cid, {"kind": "message.post", "text": "请问何时开庭？"}).status_code == 200  # over HTTP
        _, event = await until(ws, "event")
        assert event["event"]["kind"] == "message.posted"
        await ws.send(json.dumps({"type": "op", "op_id": "m1", "op": {"kind": "message.post", "text": "收到。"}}))
        _, ack = await until(ws, "ack")
        assert ack["op_id"] == "m1"
        await ws.close()
        texts = [m["text"] for m in zhang.get(f"/api/cases/{cid}").json()["messages"]]
        assert texts == ["请问何时开庭？", "收到。"]
        assert staff.get(f"/api/cases/{cid}").status_code == 200

    asyncio.run(main())


def test_a_mirror_takes_over_when_the_authority_dies_and_its_screens_stay(
        nodes: Callable[[int], list[HubProcess]]) -> None:
    import time

    a, b = nodes(2)
    h = a.create_hearing()
    hid, inv = h["hearing_id"], invites_by_role(h)

    async def main() -> None:
        clerk = await Client.connect(b.ws_url(hid, inv["clerk"]["token"]))  # a mirror on b
        assert (await clerk.op({"kind": "segment.add", "text": "现在开庭。"}, op_id="s1"))["type"] == "ack"
        a.kill()
        killed = time.monotonic()
        answer = await clerk.op({"kind": "segment.add", "text": "核对当事人身份。"}, op_id="s2", timeout=10)
        took = time.monotonic() - killed
        assert answer == {"type": "ack", "op_id": "s2", "seq": 3}  # on the same connection: b took it over
        assert took < 5, took
        assert [e["event"]["segment"]["text"] for e in clerk.events if e["event"]["kind"] == "segment.added"] == \
            ["现在开庭。", "核对当事人身份。"]
        await clerk.close()

    asyncio.run(main())
    verified = b.verify(hid, "--database", b.args[b.args.index("--database") + 1])
    assert verified.returncode == 0, verified.stderr
