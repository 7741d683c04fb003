"""A case over its websocket, against a real hub process: the socket is a
stream's socket like a hearing's (welcome, sync, events, ops with ack and
nack), cut to what the viewer may see, and closed when the party is signed
out."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import websockets

from tests.support import HubProcess, run
from tests.test_case_api import STAFF, enter, file_case, op


async def connect(hub: HubProcess, cid: str, session: str) -> Any:
    ws = await websockets.connect(f"ws://127.0.0.1:{hub.port}/ws/cases/{cid}",
                                  additional_headers={"Authorization": f"Bearer {session}"})
    return ws


async def until(ws: Any, kind: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Messages received up to the first of ``kind``, and that one."""
    seen = []
    while True:
        msg = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if msg["type"] == kind:
            return seen, msg
        seen.append(msg)


def session_of(phone: httpx.Client, cid: str) -> str:
    return phone.cookies[f"cs_{cid}"]


def test_the_case_socket_speaks_the_streams_protocol(hub: HubProcess) -> None:
    case = file_case(hub)
    cid = case["case_id"]
    zhang, wang = enter(hub, case, 0), enter(hub, case, 2)
    op(zhang, cid, {"kind": "message.post", "text": "原告私下的问题"})

    async def main() -> None:
        a = await connect(hub, cid, session_of(zhang, cid))
        b = await connect(hub, cid, session_of(wang, cid))
        welcome = json.loads(await a.recv())
        assert welcome["type"] == "welcome" and welcome["me"]["name"] == "张三" and welcome["capacity"] == "party"
        assert "message.post" in welcome["permissions"] and "case.close" not in welcome["permissions"]
        await b.recv()
        for ws in (a, b):
            await ws.send(json.dumps({"type": "sync", "since": 0}))
        events_a, synced_a = await until(a, "synced")
        events_b, synced_b = await until(b, "synced")
        assert synced_a["seq"] == synced_b["seq"]
        assert "原告私下的问题" in json.dumps(events_a, ensure_ascii=False)
        assert "原告私下的问题" not in json.dumps(events_b, ensure_ascii=False)
        assert "320312199001011234" not in json.dumps(events_a + events_b)
        # An op over the socket: acked once durable; the other side hears nothing of it.
        await a.send(json.dumps({"type": "op", "op_id": "m1", "op": {"kind": "message.post", "text": "再问一次"}}))
        seen, ack = await until(a, "ack")
        assert ack["op_id"] == "m1"
        await b.send(json.dumps({"type": "op", "op_id": "x", "op": {"kind": "case.close"}}))
        _, nack = await until(b, "nack")
        assert nack["error"]["code"] == "forbidden"
        # The court signs the plaintiff out: the defendant hears of it.
        httpx.post(hub.url + f"/api/cases/{cid}/ops", headers=STAFF,
                   json={"op": {"kind": "party.signout", "party_id": "P1"}})
        _, event = await until(b, "event")
        assert event["event"]["kind"] == "party.signed_out"
        # The plaintiff was signed out: its socket closes.
        try:
            while True:
                await asyncio.wait_for(a.recv(), 10)
        except websockets.ConnectionClosed as closed:
            assert closed.rcvd is not None and closed.rcvd.code == 4401
        await b.close()
        # No credential, or another case's: refused.
        other = file_case(hub)
        stranger = await connect(hub, other["case_id"], session_of(wang, cid))
        refused = json.loads(await stranger.recv())
        assert refused["type"] == "error"
        try:
            await asyncio.wait_for(stranger.recv(), 5)
        except websockets.ConnectionClosed as closed:
            assert closed.rcvd is not None and closed.rcvd.code == 4401
    run(main())
