"""What frames the hearing page: the court's emblem when the hub is given
one, and a clear Chinese notice where a browser will not give the page its
microphone (a page opened over plain HTTP from another machine)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from tests.browser.test_seat_screen import SEATS
from tests.support import Client, HubProcess, invites_by_role, media_address, run
from tests.test_evidence_upload import png_bytes


def test_the_emblem_and_the_https_notice(tmp_path: Path, browsers: Any) -> None:
    emblem = tmp_path / "国徽.png"
    emblem.write_bytes(png_bytes())
    hub = HubProcess(tmp_path / "data", args=["--emblem", str(emblem), "--host", "0.0.0.0"]).start()

    async def main() -> None:
        h = hub.create_hearing(SEATS)
        inv = invites_by_role(h)
        # From another machine, over plain HTTP: not a secure context.
        remote = inv["plaintiff"]["join_url"].replace("127.0.0.1", media_address())
        async with contextlib.asynccontextmanager(browsers)() as b:
            page = await b.page(remote, name="plaintiff", size=(1920, 1080), touch=True)
            await page.locator("#status", has_text="已连接").wait_for()
            assert await page.locator("#emblem").is_visible()
            assert await page.evaluate("() => document.getElementById('emblem').naturalWidth") > 0
            assert await page.evaluate("() => window.isSecureContext") is False
            await page.locator("#join").click()
            await page.locator("#toast", has_text="HTTPS").wait_for()
            assert "麦克风" in await page.locator("#toast").text_content()
            assert not b.errors, b.errors
    try:
        run(main())
    finally:
        hub.stop()


def test_without_an_emblem_the_page_shows_none(hub: HubProcess, browsers: Any) -> None:
    async def main() -> None:
        h = hub.create_hearing(SEATS)
        async with contextlib.asynccontextmanager(browsers)() as b:
            page = await b.page(invites_by_role(h)["judge"]["join_url"], name="judge")
            await page.locator("#status", has_text="已连接").wait_for()
            assert await page.locator("#emblem").is_hidden()
            assert not b.errors, b.errors
    run(main())


def test_the_judge_sees_since_when_someone_is_gone(hub: HubProcess, browsers: Any) -> None:
    async def main() -> None:
        h = hub.create_hearing(SEATS)
        inv = invites_by_role(h)
        pid = inv["defendant"]["participant_id"]
        async with contextlib.asynccontextmanager(browsers)() as b:
            judge = await b.page(inv["judge"]["join_url"], name="judge")
            party = await b.page(inv["plaintiff"]["join_url"], name="plaintiff")
            terminal = await Client.connect(hub.ws_url(h["hearing_id"], inv["defendant"]["token"]))
            await judge.locator(f"#people li[data-participant-id={pid}] .presence[data-state=online]").wait_for()
            await terminal.close()
            await judge.locator(f"#people li[data-participant-id={pid}]", has_text="最后在线").wait_for()
            assert "最后在线" in await judge.locator(f"#people li[data-participant-id={pid}] .presence").get_attribute("title")
            await party.locator(f"#people li[data-participant-id={pid}] .presence[data-state=offline]").wait_for()
            assert "最后在线" not in await party.locator(f"#people li[data-participant-id={pid}]").text_content()
            assert not b.errors, b.errors
    run(main())


def test_the_judge_gives_a_party_a_new_link_and_the_old_one_stops(hub: HubProcess, browsers: Any) -> None:
    async def main() -> None:
        h = hub.create_hearing(SEATS)
        inv = invites_by_role(h)
        pid = inv["plaintiff"]["participant_id"]
        async with contextlib.asynccontextmanager(browsers)() as b:
            judge = await b.page(inv["judge"]["join_url"], name="judge")
            party = await b.page(inv["plaintiff"]["join_url"], name="plaintiff")
            await party.locator("#status", has_text="已连接").wait_for()
            await judge.locator(f"#people li[data-participant-id={pid}] [data-action=reissue]").click()
            await judge.locator("#confirm-text", has_text="原链接立即失效").wait_for()
            await judge.locator("#confirm-ok").click()
            await judge.locator("#link-dialog").wait_for(state="visible")
            url = await judge.locator("#link-url").input_value()
            assert url.startswith(hub.url) and "token=" in url and url != inv["plaintiff"]["join_url"]
            assert "张三" in await judge.locator("#link-text").text_content()
            await party.locator("#status", has_text="邀请链接无效").wait_for()  # the old page is cut off
            fresh = await b.page(url, name="plaintiff-again")
            await fresh.locator("#status", has_text="已连接").wait_for()
            assert [e for e in b.errors if "plaintiff:" not in e] == [], b.errors
    run(main())
