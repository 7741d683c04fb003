"""The composed recording in real Chromium: three parties with Chromium's
fake camera and tone-language speech at different times; the judge ends
the hearing and has the 庭审录像 made from the page. The MP4 lasts as long
as the recordings, each final segment's time in it holds that speech (and
a pause between turns holds none), and its subtitles are the transcript."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
import pytest

from tests.browser.conftest import tone_microphone
from tests.browser.test_join_page import all_in
from tests.support import HubProcess, invites_by_role, run

PEOPLE = [{"role": "judge", "name": "王法官"}, {"role": "plaintiff", "name": "张三"},
          {"role": "defendant", "name": "李四"}]
#: Each party's words and when (seconds after their page opens).
SPEECH = {"judge": (1.0, "现在 开庭"), "plaintiff": (6.0, "原告 陈述 诉讼 请求"), "defendant": (12.0, "被告 答辩 意见")}


def microphone(tmp_path: Path, role: str) -> Path:
    at, text = SPEECH[role]
    return tone_microphone(tmp_path / f"{role}.wav", [(at, text)], 18 - int(at))


def rms(pcm: np.ndarray, start: float, end: float) -> float:
    window = pcm[int(start * 48_000):int(end * 48_000)]
    return float(np.sqrt(np.mean(window.astype(np.float64) ** 2))) if len(window) else 0.0


def test_the_judge_has_the_hearing_composed_from_the_page(speech_hub: HubProcess, tmp_path: Path,
                                                          browsers: Any) -> None:
    hub = speech_hub
    h = hub.create_hearing(PEOPLE)
    inv = invites_by_role(h)
    judge_token = inv["judge"]["token"]

    async def main() -> bytes:
        async with contextlib.asynccontextmanager(browsers)() as b:
            pages = await all_in(b, inv, {r: microphone(tmp_path, r) for r in SPEECH})
            judge = pages["judge"]
            assert await judge.locator("#video").is_hidden()  # not before 闭庭
            # All three have spoken once the defendant's words are written down.
            await judge.locator("#segments li", has_text="被告答辩意见").wait_for(timeout=40_000)
            await judge.locator("[data-action=end]").click()
            await judge.locator("#confirm-ok").click()
            await judge.locator("#video").wait_for()
            assert await pages["plaintiff"].locator("#video").is_hidden()  # the bench's, not the parties'
            await judge.locator("#video-make").click()
            await judge.locator("#video-progress", has_text="生成中").wait_for()
            await judge.locator("#video-link").wait_for(timeout=90_000)
            href = await judge.locator("#video-link").get_attribute("href")
            response = await judge.request.get(hub.url + href)  # with the page's own cookie
            assert response.status == 200 and response.headers["content-type"] == "video/mp4"
            await judge.screenshot(path=str(b.artifacts / "hearing-video-ready.png"))
            # The judge shares it: the plaintiff's page offers it, and it opens.
            plaintiff = pages["plaintiff"]
            await judge.locator("#video-share", has_text="允许当事人查看").click()
            await judge.locator("#video-share", has_text="取消当事人查看").wait_for()
            await plaintiff.locator("#video").wait_for()
            await plaintiff.locator("#video-make").click()
            await plaintiff.locator("#video-link").wait_for(timeout=30_000)
            theirs = await plaintiff.request.get(hub.url + await plaintiff.locator("#video-link").get_attribute("href"))
            assert theirs.status == 200 and len(await theirs.body()) == len(await response.body())
            assert not b.errors, b.errors
            return await response.body()
    video = run(main())
    transcript = httpx.get(f"{hub.url}/api/hearings/{h['hearing_id']}/transcript",
                           headers={"Authorization": f"Bearer {judge_token}"}).json()["segments"]
    assert [s["text"] for s in transcript] == ["现在开庭。", "原告陈述诉讼请求。", "被告答辩意见。"]
    recorded = hub.data / "recordings" / h["hearing_id"]
    from courtroom.composition.sources import recorded_until
    from courtroom.media.recording import recordings
    with av.open(io.BytesIO(video)) as c:
        assert float(c.streams.video[0].duration * c.streams.video[0].time_base) == \
            pytest.approx(recorded_until(recordings(recorded)), abs=0.5)
        texts = [bytes(p)[2:].decode() for p in c.demux(c.streams.subtitles[0]) if p.size > 2]
    with av.open(io.BytesIO(video)) as c:
        pcm = np.concatenate([f.to_ndarray().reshape(-1) for f in c.decode(audio=0)])
    assert texts == ["审判员王法官：现在开庭。", "原告张三：原告陈述诉讼请求。", "被告李四：被告答辩意见。"]
    # Each line's time in the video holds its speech; the pause after the judge's line holds none.
    quiet = rms(pcm, transcript[0]["end"] + 1.0, transcript[1]["start"] - 1.0)
    for s in transcript:
        assert rms(pcm, s["start"], s["end"]) > 10 * max(quiet, 1e-4), (s, quiet)
