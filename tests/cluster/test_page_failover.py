"""A hearing page in real Chromium outlives the node it was sent to: each
node is a site of its own (its own host name), so the page's cookie and
socket belong to that node alone, as across machines."""

from __future__ import annotations

import contextlib
import urllib.parse
from typing import Any, Callable

from tests.browser.conftest import browsers  # noqa: F401 (the fixture)
from tests.support import Client, HubProcess, invites_by_role, media_address, run


def test_a_page_whose_node_dies_goes_back_through_its_entry_to_the_node_that_took_over(
        nodes: Callable[..., list[HubProcess]], browsers: Any) -> None:  # noqa: F811
    a, b, c = nodes(3, hosts=["127.0.0.1", media_address(), "localhost"])
    h = b.create_hearing()  # b holds the hearing
    hid, inv = h["hearing_id"], invites_by_role(h)
    judge = inv["judge"]

    async def main() -> None:
        clerk = await Client.connect(c.ws_url(hid, inv["clerk"]["token"]))  # a mirror on c
        assert (await clerk.op({"kind": "segment.add", "text": "现在开庭。"}, op_id="s1"))["type"] == "ack"
        async with contextlib.asynccontextmanager(browsers)() as chromium:
            page = await chromium.page(f"{a.url}/hearings/{hid}?token={judge['token']}", name="judge")
            assert urllib.parse.urlsplit(page.url).netloc == f"{media_address()}:{b.port}"  # sent to b
            await page.locator("[data-segment-id=S1]").wait_for()
            await page.locator("#status", has_text="已连接").wait_for()

            b.kill()
            # c took the hearing over (the clerk stays connected); the page,
            # finding b gone, went back through a, which sent it on to c.
            answer = await clerk.op({"kind": "segment.add", "text": "核对当事人身份。"}, op_id="s2", timeout=15)
            assert answer["type"] == "ack"
            await page.wait_for_url(f"http://localhost:{c.port}/hearings/{hid}?*", timeout=30_000)
            await page.locator("#status", has_text="已连接").wait_for(timeout=20_000)
            await page.locator("[data-segment-id=S2]").wait_for()
            assert judge["token"] not in page.url
            assert f"as={judge['participant_id']}" in page.url
            # The page acts as the judge there: 开庭 from it reaches the clerk.
            await page.locator("[data-action=start]").click()
            await clerk.wait_for(lambda: any(e["event"]["kind"] == "hearing.started" for e in clerk.events),
                                 timeout=10)
            texts = [e["event"]["segment"]["text"] for e in clerk.events if e["event"]["kind"] == "segment.added"]
            assert texts == ["现在开庭。", "核对当事人身份。"]
        await clerk.close()
    run(main())


async def media_joined(page: Any, within: float = 20) -> None:
    """Wait until the page has joined the hearing's media (polled: the
    page's policy forbids Playwright's eval-based waiting)."""
    import asyncio

    for _ in range(int(within / 0.25)):
        if await page.evaluate("window.hearingMedia && window.hearingMedia.joined"):
            return
        await asyncio.sleep(0.25)
    raise AssertionError("the page did not join the media")


def test_a_page_whose_node_lost_the_hearing_but_lives_is_sent_on_with_its_media(
        nodes: Callable[..., list[HubProcess]], browsers: Any) -> None:  # noqa: F811
    import signal
    import time

    # Both hosts are secure contexts, where a page may use a microphone.
    a, b = nodes(2, hosts=["localhost", "127.0.0.1"])
    h = a.create_hearing()  # a holds the hearing
    hid, inv = h["hearing_id"], invites_by_role(h)
    judge = inv["judge"]

    async def main() -> None:
        clerk = await Client.connect(b.ws_url(hid, inv["clerk"]["token"]))  # a mirror on b
        async with contextlib.asynccontextmanager(browsers)() as chromium:
            page = await chromium.page(f"http://localhost:{a.port}/hearings/{hid}?token={judge['token']}&autojoin=1",
                                       name="judge")
            await media_joined(page)

            # a stops answering long enough to lose its lease (b takes the
            # hearing over in place), then carries on as a mirror.
            assert a.proc is not None
            a.proc.send_signal(signal.SIGSTOP)
            answer = await clerk.op({"kind": "segment.add", "text": "现在开庭。"}, op_id="s1", timeout=15)
            assert answer["type"] == "ack"
            time.sleep(0.5)
            a.proc.send_signal(signal.SIGCONT)

            # The page reconnects to a, which only mirrors the hearing now: its
            # media rejoin is told "moved", and a sends the page on to b.
            await page.wait_for_url(f"http://127.0.0.1:{b.port}/hearings/{hid}?*", timeout=30_000)
            await page.locator("[data-segment-id=S1]").wait_for(timeout=20_000)
            await media_joined(page)
            assert judge["token"] not in page.url
        await clerk.close()
    run(main())
