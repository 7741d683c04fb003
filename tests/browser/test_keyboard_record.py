"""A hearing kept by keyboard, without recognition: the clerk types the whole
record on the clerk's page, strikes a line, the judge opens and closes the
hearing and locks the record after 闭庭 (each confirmed), and the parties
sign on their screens, in real Chromium against a hub with no model."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from tests.browser.test_seat_screen import SEATS, sign
from tests.support import HubProcess, invites_by_role, run

LINES = [("judge", "现在开庭。核对当事人身份。"), ("plaintiff", "原告张三，男，汉族。"),
         ("clerk", "重复的一行"), ("defendant", "被告对此有异议，货款已经付清。")]


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubProcess]:
    proc = HubProcess(tmp_path / "data").start()  # no --model: nothing is recognized
    yield proc
    proc.stop()


async def type_line(clerk: Any, speaker_id: str, text: str) -> None:
    await clerk.locator("#composer-speaker").select_option(speaker_id)
    await clerk.locator("#composer-text").fill(text)
    await clerk.locator("#composer-text").press("Enter")


def test_a_hearing_kept_entirely_by_keyboard_from_opening_to_signatures(hub: HubProcess, browsers: Any) -> None:
    async def main() -> None:
        h = hub.create_hearing(SEATS + [{"role": "observer", "name": "旁听者"}])
        inv = invites_by_role(h)
        hid = h["hearing_id"]
        async with contextlib.asynccontextmanager(browsers)() as b:
            judge = await b.page(inv["judge"]["join_url"], name="judge", size=(1920, 1080), touch=True)
            clerk = await b.page(inv["clerk"]["join_url"], name="clerk", size=(1920, 1080))
            seat = await b.page(inv["plaintiff"]["join_url"], name="plaintiff", size=(1920, 1080), touch=True)
            phone = await b.page(inv["defendant"]["join_url"], name="defendant", size=(390, 844), touch=True)
            observer = await b.page(inv["observer"]["join_url"], name="observer", size=(390, 844), touch=True)
            await clerk.locator("#empty").wait_for()  # an empty record says so
            assert await seat.locator("#composer").is_hidden() and await observer.locator("#composer").is_hidden()

            await judge.locator("[data-action=start]").click()
            await clerk.locator("#hearing-status", has_text="庭审中").wait_for()
            for k, (role, text) in enumerate(LINES, 1):
                await type_line(clerk, inv[role]["participant_id"], text)
                await phone.locator(f"[data-segment-id=S{k}]", has_text=text).wait_for()
            assert await clerk.locator("#composer-text").input_value() == ""
            assert await clerk.evaluate("document.activeElement.id") == "composer-text"  # type on
            speakers = await phone.locator("#segments .speaker").all_text_contents()
            assert speakers == ["审判员 王法官：", "原告 张三：", "书记员 李书记员：", "被告 李四："]
            # An empty line is not sent; the clerk is told why.
            await clerk.locator("#composer-text").press("Enter")
            await clerk.locator("#toast", has_text="请先输入发言内容").wait_for()

            # The duplicate line is struck: two steps, kept as history.
            await clerk.locator("[data-segment-id=S3] .text").click()
            await clerk.locator("[data-segment-id=S3] [data-fix=删除]").click()
            await clerk.locator("[data-segment-id=S3] [data-fix=confirm-delete]").click()
            for page in (clerk, seat, phone):
                await page.locator("[data-segment-id=S3].deleted").wait_for()
            assert "已删除" in await phone.locator("[data-segment-id=S3]").text_content()
            assert await clerk.locator("[data-segment-id=S3] .fix").count() == 0

            # 闭庭 then 锁定笔录, each confirmed; the lock was not offered before.
            assert await judge.locator("[data-action=lock]").count() == 0
            assert await judge.locator("[data-action=remove]").count() > 0
            await judge.locator("[data-action=end]").click()
            await judge.locator("#confirm-ok").click()
            await judge.locator("#hearing-status", has_text="已闭庭").wait_for()
            for control in ("remove", "mute", "spotlight", "end", "start"):
                assert await judge.locator(f"#people [data-action={control}], #controls [data-action={control}]").count() == 0, control
            await judge.locator("[data-action=lock]").click()
            await judge.locator("#confirm-ok").click()
            for page in (clerk, seat, phone):
                await page.locator("#sign-pad").wait_for(state="visible")
            assert await clerk.locator("#composer").is_hidden()
            await observer.locator("#signing").wait_for(state="visible")
            hint = await observer.locator("#sign-hint").text_content()
            assert "签名" in hint and "下方签名" not in hint and await observer.locator("#sign-pad").is_hidden()

            for page in (clerk, seat, phone):
                await sign(page)
            for name in ("李书记员", "张三", "李四"):
                await judge.locator("#signers li.signed", has_text=name).wait_for()
            await judge.screenshot(path=str(b.artifacts / "keyboard-judge-1920x1080.png"), full_page=True)
            await clerk.screenshot(path=str(b.artifacts / "keyboard-clerk-1920x1080.png"), full_page=True)
            assert not b.errors, b.errors

        record = httpx.get(f"{hub.url}/api/hearings/{hid}/export", params={"format": "txt",
                                                                            "token": inv["judge"]["token"]}).text
        for role, text in LINES:
            assert (text in record) == (text != "重复的一行"), text
        assert "被告 李四：（手写签名）" in record and "审判员 王法官：（未签名）" in record
        assert hub.verify(hid).returncode == 0
    run(main())


def test_a_tap_shows_a_segments_correction_tools_on_a_touch_screen(hub: HubProcess, browsers: Any) -> None:
    async def main() -> None:
        h = hub.create_hearing(SEATS)
        inv = invites_by_role(h)
        async with contextlib.asynccontextmanager(browsers)() as b:
            clerk = await b.page(inv["clerk"]["join_url"], name="clerk", size=(1920, 1080), touch=True)
            await type_line(clerk, inv["plaintiff"]["participant_id"], "原告要求被告支付货款")
            await type_line(clerk, inv["plaintiff"]["participant_id"], "及利息")
            await clerk.locator("[data-segment-id=S2]").wait_for()
            tools = clerk.locator("[data-segment-id=S1] .fix")
            assert await tools.is_hidden()  # no hover on a touch screen
            await clerk.locator("[data-segment-id=S1] .text").tap()
            await tools.wait_for(state="visible")
            box = await clerk.locator("[data-segment-id=S1] [data-fix=合并]").bounding_box()
            assert box["height"] >= 48 and box["width"] >= 48  # a finger's target
            await clerk.locator("[data-segment-id=S1] [data-fix=合并]").tap()
            await clerk.locator("[data-segment-id=S1]", has_text="原告要求被告支付货款及利息").wait_for()
            assert not b.errors, b.errors
    run(main())
