"""The join page in real Chromium: its fake microphone is a tone-language
WAV, the hub recognizes it with the tone stand-in for vosk."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.media.test_media_hub import PEOPLE, segments_of, speech_wav
from tests.support import Client, HubProcess, invites_by_role, run


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubProcess]:
    proc = HubProcess.with_speech(tmp_path / "data").start()
    yield proc
    proc.stop()


async def inbound(page: Any) -> dict[str, int]:
    """Received RTP streams with data, by kind (the page's getStats)."""
    return await page.evaluate("""async () => {
        const out = {audio: 0, video: 0};
        const pc = window.hearingMedia && window.hearingMedia.pc;
        if (!pc) return out;
        (await pc.getStats()).forEach(r => {
            if (r.type === "inbound-rtp" && r.bytesReceived > 0 && (r.kind !== "video" || r.framesDecoded > 0)) out[r.kind]++;
        });
        return out;
    }""")


async def all_in(b: Any, inv: dict[str, Any], microphones: dict[str, Path]) -> dict[str, Any]:
    """Each role's page joined at once with its fake microphone, once every
    page receives every other's audio and video."""
    pages = {r: await b.page(inv[r]["join_url"] + "&autojoin=1", mic, r) for r, mic in microphones.items()}
    want = {"audio": len(pages) - 1, "video": len(pages) - 1}
    for _ in range(60):
        stats = [await inbound(p) for p in pages.values()]
        if all(s == want for s in stats):
            return pages
        await asyncio.sleep(0.5)
    raise AssertionError(f"media did not reach every page: {stats}")


async def decoded_frames(page: Any) -> int:
    return await page.evaluate("""async () => {
        let n = 0;
        (await window.hearingMedia.pc.getStats()).forEach(r => {
            if (r.type === "inbound-rtp" && r.kind === "video") n += r.framesDecoded; });
        return n;
    }""")


def test_a_party_speaks_in_the_browser_and_the_judge_gets_partial_then_final(
        hub: HubProcess, tmp_path: Path, browsers: Any) -> None:
    wav = Path(speech_wav(tmp_path, "原告 陈述 诉讼 请求 。 被告 答辩 意见"))

    async def main() -> None:
        h = hub.create_hearing(PEOPLE)
        inv = invites_by_role(h)
        judge = await Client.connect(hub.ws_url(h["hearing_id"], inv["judge"]["token"]))
        async with contextlib.asynccontextmanager(browsers)() as b:
            page = await b.page(inv["plaintiff"]["join_url"] + "&autojoin=1", wav, "plaintiff")
            await judge.wait_for(lambda: len(segments_of(judge)) >= 2, timeout=30)
            await page.screenshot(path=str(b.artifacts / "join-page-plaintiff.png"))
            assert not b.errors, b.errors
        pid = inv["plaintiff"]["participant_id"]
        partials = [m["text"] for m in judge.of_type("partial") if m["participant_id"] == pid]
        segs = segments_of(judge)
        assert partials and "原告" in partials[0]
        first_final = next(k for k, m in enumerate(judge.others) if m["type"] == "synced")
        assert judge.others.index(next(m for m in judge.others if m["type"] == "partial")) > first_final
        assert [s["text"] for s in segs] == ["原告陈述诉讼请求。", "被告答辩意见。"]
        assert {s["speaker"]["name"] for s in segs} == {"张三"}
        await judge.close()
    run(main())


def test_three_browsers_each_receive_the_other_twos_audio_and_video(
        hub: HubProcess, tmp_path: Path, browsers: Any) -> None:
    wav = Path(speech_wav(tmp_path, "现在 开庭"))

    async def main() -> None:
        h = hub.create_hearing(PEOPLE)
        inv = invites_by_role(h)
        async with contextlib.asynccontextmanager(browsers)() as b:
            pages = {r: await b.page(inv[r]["join_url"] + "&autojoin=1", wav, r) for r in ("judge", "plaintiff", "defendant")}
            stats: dict[str, dict[str, int]] = {}
            for _ in range(60):
                stats = {r: await inbound(p) for r, p in pages.items()}
                if all(s == {"audio": 2, "video": 2} for s in stats.values()):
                    break
                await asyncio.sleep(0.5)
            assert all(s == {"audio": 2, "video": 2} for s in stats.values()), stats
            for r, p in pages.items():
                assert await p.locator("#grid figure[data-participant-id]").count() == 2
                await p.screenshot(path=str(b.artifacts / f"join-page-three-{r}.png"))
            # Each picture carries its seat label (人民法院在线诉讼规则 Art. 24).
            seats = await pages["judge"].locator("#grid figure[data-participant-id] .seat").all_text_contents()
            assert sorted(seats) == ["原告", "被告"]
            # The defendant switches to another camera: the others keep receiving video.
            phone = pages["defendant"]
            options = await phone.locator("#camera-select option").all()
            assert len(options) >= 2 and await phone.locator("#camera-select").is_visible()
            before = await phone.evaluate("() => window.hearingMedia.local.getVideoTracks()[0].label")
            await phone.locator("#camera-select").select_option(await options[1].get_attribute("value"))
            await phone.locator("#toast", has_text="已切换摄像头").wait_for()
            assert await phone.evaluate("() => window.hearingMedia.local.getVideoTracks()[0].label") != before
            seen = await decoded_frames(pages["judge"])
            for _ in range(20):  # 2 streams at 30 fps: more than 20 frames within 1.5 s, or 5 s on a busy machine
                await asyncio.sleep(0.25)
                if await decoded_frames(pages["judge"]) > seen + 20:
                    break
            assert await decoded_frames(pages["judge"]) > seen + 20
            await phone.locator("#camera-toggle").click()
            assert await phone.evaluate("() => window.hearingMedia.local.getVideoTracks()[0].enabled") is False
            # The judge sees who is connected, with microphone and network quality.
            pid = inv["plaintiff"]["participant_id"]
            badge = pages["judge"].locator(f"#people li[data-participant-id={pid}] .presence[data-state=media]")
            await badge.wait_for()
            assert "麦克风开" in await badge.get_attribute("title")
            assert await badge.locator("svg path").count() == 1  # drawn, not a glyph a font may lack
            # The judge shows the plaintiff's video on every screen, then ends it.
            await pages["judge"].locator(f"#people li[data-participant-id={pid}] [data-action=spotlight]").click()
            await pages["defendant"].locator(f"#grid figure.spotlight[data-participant-id={pid}]").wait_for()
            await pages["plaintiff"].locator("#self.spotlight").wait_for()
            await pages["defendant"].screenshot(path=str(b.artifacts / "join-page-spotlight-defendant.png"))
            assert await pages["defendant"].locator("#spotlight-stop").is_hidden()
            # Anyone may leave the full-screen picture on their own screen.
            await pages["defendant"].locator("#spotlight-exit").click()
            await pages["defendant"].locator("figure.spotlight").wait_for(state="detached")
            assert await pages["plaintiff"].locator("#self.spotlight").count() == 1
            await pages["judge"].locator("#spotlight-stop").click()
            await pages["plaintiff"].locator("figure.spotlight").wait_for(state="detached")
            # 闭庭: the hearing's media ends on every screen.
            await pages["judge"].locator("[data-action=end]").click()
            await pages["judge"].locator("#confirm-ok").click()
            for p in pages.values():
                await p.locator("#grid figure[data-participant-id]").first.wait_for(state="detached")
                assert await p.locator("#join").is_hidden() and await p.locator("#leave").is_hidden()
            assert not b.errors, b.errors
    run(main())


def test_a_participant_muted_by_the_judge_stops_being_transcribed(
        hub: HubProcess, tmp_path: Path, browsers: Any) -> None:
    wav = Path(speech_wav(tmp_path, "原告 陈述 。 诉讼 请求 。 事实 理由 。 证据 质证 。 被告 答辩"))

    async def main() -> None:
        h = hub.create_hearing(PEOPLE)
        inv = invites_by_role(h)
        pid = inv["plaintiff"]["participant_id"]
        judge = await Client.connect(hub.ws_url(h["hearing_id"], inv["judge"]["token"]))
        async with contextlib.asynccontextmanager(browsers)() as b:
            page = await b.page(inv["plaintiff"]["join_url"] + "&autojoin=1", wav, "plaintiff")
            await judge.wait_for(lambda: len(segments_of(judge)) >= 1, timeout=30)
            assert (await judge.op({"kind": "participant.mute", "participant_id": pid, "muted": True}))["type"] == "ack"
            await page.locator("#people li", has_text="已静音").wait_for(timeout=5000)
            partials = len(judge.of_type("partial"))
            await asyncio.sleep(8)  # the rest is spoken while muted
            assert len(judge.of_type("partial")) == partials
            texts = [s["text"] for s in segments_of(judge)]
            assert texts[0] == "原告陈述。" and not any("证据" in t or "被告" in t for t in texts)
            assert not b.errors, b.errors
        await judge.close()
    run(main())
