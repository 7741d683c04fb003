"""The invite token in a real browser: it leaves the address bar at once,
no request carries it afterwards, no script can read it, and the page runs
under a Content-Security-Policy."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any, Iterator

import pytest
import websockets

from tests.support import Client, HubProcess, invites_by_role, run


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubProcess]:
    proc = HubProcess(tmp_path / "data").start()
    yield proc
    proc.stop()


def test_the_token_leaves_the_address_bar_and_every_later_request(hub: HubProcess, browsers: Any) -> None:
    async def main() -> None:
        h = hub.create_hearing()
        inv = invites_by_role(h)
        token = inv["plaintiff"]["token"]
        clerk = await Client.connect(hub.ws_url(h["hearing_id"], inv["clerk"]["token"]))
        assert (await clerk.op({"kind": "segment.add", "text": "原告陈述。"}))["type"] == "ack"
        async with contextlib.asynccontextmanager(browsers)() as b:
            requests: list[str] = []
            page = await b.page(inv["plaintiff"]["join_url"], name="plaintiff")
            response = await page.request.get(inv["plaintiff"]["join_url"])
            assert "script-src 'self'" in response.headers["content-security-policy"]
            assert response.headers["referrer-policy"] == "no-referrer"
            page.on("request", lambda r: requests.append(r.url))
            await page.locator("[data-segment-id=S1]").wait_for()
            assert token not in page.url and f"as={inv['plaintiff']['participant_id']}" in page.url
            assert token not in await page.evaluate("document.cookie")
            # Reload: the cookie carries on; downloads and the socket work without the token.
            await page.reload()
            await page.locator("[data-segment-id=S1]").wait_for()
            export = await page.evaluate("fetch(document.querySelector('#export a[data-format=txt]').href)"
                                         ".then(r => r.status)")
            assert export == 200
            assert requests and not [u for u in requests if token in u]
            assert not b.errors, b.errors
        await clerk.close()
    run(main())


def test_another_site_cannot_use_the_page_cookie(hub: HubProcess, browsers: Any) -> None:
    async def main() -> None:
        h = hub.create_hearing()
        inv = invites_by_role(h)["plaintiff"]
        async with contextlib.asynccontextmanager(browsers)() as b:
            page = await b.page(inv["join_url"], name="plaintiff")
            await page.locator("#status", has_text="已连接").wait_for()
            cookies = await page.context.cookies()
            cookie = next(c for c in cookies if c["name"] == f"ct_{inv['participant_id']}")
            assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        url = f"ws://127.0.0.1:{hub.port}/ws/hearings/{h['hearing_id']}?as={inv['participant_id']}"
        headers = {"Cookie": f"{cookie['name']}={cookie['value']}"}
        async with websockets.connect(url, additional_headers=headers, origin="https://evil.example") as ws:
            assert json.loads(await ws.recv())["error"]["code"] == "forbidden"
        async with websockets.connect(url, additional_headers=headers, origin=f"http://127.0.0.1:{hub.port}") as ws:
            assert json.loads(await ws.recv())["type"] == "welcome"
    run(main())
