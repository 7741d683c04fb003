"""The public live stream in real Chromium: three participants with
Chromium's fake camera and tone speech; the judge switches 直播 on from the
page with a 10 s delay and masks the witness; a viewer with no login
opens the public page, which plays the stream (the video's time runs);
the judge's 暂停直播 takes it off the public page within a segment."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import Any

import httpx

from tests.browser.conftest import tone_microphone
from tests.browser.test_join_page import all_in
from tests.support import HubProcess, invites_by_role, run

PEOPLE = [{"role": "judge", "name": "王法官"}, {"role": "plaintiff", "name": "张三"},
          {"role": "witness", "name": "证人甲"}]
#: Each one's words and when (seconds after their page opens), then quiet.
SPEECH = {"judge": (1.0, "现在 开庭"), "plaintiff": (5.0, "原告 陈述 诉讼 请求"), "witness": (10.0, "陈述 事实 理由")}


def microphone(tmp_path: Path, role: str) -> Path:
    at, text = SPEECH[role]
    return tone_microphone(tmp_path / f"{role}.wav", [(at, text), (at + 20, text)], 20)


def test_the_public_watches_the_hearing_live_until_the_judge_pauses_it(speech_hub: HubProcess, tmp_path: Path,
                                                                      browsers: Any) -> None:
    hub = speech_hub
    h = hub.create_hearing(PEOPLE)
    inv = invites_by_role(h)
    live = f"{hub.url}/live/{h['hearing_id']}"

    async def main() -> None:
        async with contextlib.asynccontextmanager(browsers)() as b:
            pages = await all_in(b, inv, {r: microphone(tmp_path, r) for r in SPEECH})
            judge = pages["judge"]
            assert await pages["plaintiff"].locator("[data-action=stream-start]").count() == 0  # the judge's alone
            await judge.locator("#stream-delay").select_option("10")
            await judge.locator("[data-action=stream-start]").click()
            await judge.locator("#confirm-ok").click()
            await judge.locator("#stream a", has_text="直播中（延时10秒）").wait_for()
            witness = inv["witness"]["participant_id"]
            await judge.locator(f"li[data-participant-id={witness}] [data-action=protect]").click()
            await judge.locator(f"li[data-participant-id={witness}]", has_text="直播遮挡").wait_for()

            viewer = await b.page(live, name="viewer")
            await viewer.locator("#state", has_text="直播中").wait_for(timeout=40_000)
            deadline = time.monotonic() + 30
            while (before := await viewer.evaluate("document.getElementById('player').currentTime")) <= 2:
                assert time.monotonic() < deadline, "the stream does not play"
                await asyncio.sleep(0.5)
            await asyncio.sleep(3)
            after, width = await viewer.evaluate(
                "[document.getElementById('player').currentTime, document.getElementById('player').videoWidth]")
            assert after - before > 2 and width == 640, (before, after, width)
            await viewer.screenshot(path=str(b.artifacts / "live-page-playing.png"))
            assert not b.errors, b.errors

            await judge.locator("[data-action=stream-stop]").click()
            stopped = time.monotonic()
            await viewer.locator("#state", has_text="直播已暂停").wait_for(timeout=10_000)
            assert httpx.get(live + "/index.m3u8").status_code == 404
            assert time.monotonic() - stopped < 6
            assert await judge.locator("[data-action=stream-start]").count() == 1
            # The viewer's page found the playlist gone: that, and nothing else.
            assert b.errors and all(e.startswith("viewer:") and "404" in e for e in b.errors), b.errors
    run(main())
