"""The hub's log never holds an invite token, whatever URL carried it."""

from __future__ import annotations

import asyncio

import httpx
import websockets

from courtroom.logs import redact
from tests.support import HubProcess, invites_by_role


def test_redact_takes_out_every_token_parameter() -> None:
    assert redact('"GET /hearings/h-1?token=abc-_DEF&autojoin=1 HTTP/1.1"') == \
        '"GET /hearings/h-1?token=[redacted]&autojoin=1 HTTP/1.1"'
    assert redact("/x?as=p-1&token=y") == "/x?as=p-1&token=[redacted]"
    assert redact("mytoken=stays") == "mytoken=stays"


def test_no_token_reaches_the_log(tmp_path) -> None:  # noqa: ANN001
    hub = HubProcess(tmp_path / "data", args=["--log-level", "info"]).start()
    try:
        h = hub.create_hearing()
        inv = invites_by_role(h)
        hid = h["hearing_id"]
        for i in h["invites"]:
            assert httpx.get(i["join_url"]).status_code == 200
            assert httpx.get(f"{hub.url}/api/hearings/{hid}/transcript?token={i['token']}").status_code in (200, 403)

        async def connect() -> None:
            async with websockets.connect(hub.ws_url(hid, inv["judge"]["token"])) as ws:
                await ws.recv()
        asyncio.run(connect())
    finally:
        hub.stop()
    log = (tmp_path / f"hub-{hub.port}.log").read_text()
    assert "token=[redacted]" in log and "WebSocket" in log
    for i in h["invites"]:
        assert i["token"] not in log
