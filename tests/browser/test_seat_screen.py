"""Seat screens in real Chromium: marking the transcript by touch, seen on
the other screens; comments, removal, the author filter, search, and
replaying a segment's recording. Screenshots at 1920×1080 and 390×844 go
to test-results/."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.media.test_media_hub import PEOPLE, joined, segments_of, speech_wav
from tests.support import Client, HubProcess, invites_by_role, run
from aiortc.contrib.media import MediaPlayer

SEATS = [{"role": "judge", "name": "王法官"}, {"role": "clerk", "name": "李书记员"},
         {"role": "plaintiff", "name": "张三"}, {"role": "defendant", "name": "李四", "site": "detention"}]
TEXT = "原告要求被告支付货款三十万元"


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubProcess]:
    proc = HubProcess(tmp_path / "data").start()
    yield proc
    proc.stop()


async def hearing_with(hub: HubProcess, *texts: str, people: list[dict[str, str]] = SEATS
                       ) -> tuple[dict[str, Any], dict[str, dict[str, Any]], Client]:
    """A hearing in which the clerk (still connected) has written ``texts``."""
    h = hub.create_hearing(people)
    inv = invites_by_role(h)
    clerk = await Client.connect(hub.ws_url(h["hearing_id"], inv["clerk"]["token"]))
    for text in texts:
        assert (await clerk.op({"kind": "segment.add", "text": text}))["type"] == "ack"
    return h, inv, clerk


async def select(page: Any, segment_id: str, start: int, end: int) -> None:
    """Select characters of a segment's text as a finger would, and lift."""
    await page.evaluate("""([id, start, end]) => {
        const text = document.querySelector(`[data-segment-id="${id}"] .text`);
        const walker = document.createTreeWalker(text, NodeFilter.SHOW_TEXT);
        const range = document.createRange();
        let pos = 0, node;
        while ((node = walker.nextNode())) {
            const n = node.textContent.length;
            if (pos <= start && start <= pos + n) range.setStart(node, start - pos);
            if (pos <= end && end <= pos + n) { range.setEnd(node, end - pos); break; }
            pos += n;
        }
        const sel = document.getSelection();
        sel.removeAllRanges();
        sel.addRange(range);
        text.dispatchEvent(new PointerEvent("pointerup", {bubbles: true, pointerType: "touch"}));
    }""", [segment_id, start, end])
    await page.locator("#marker").wait_for(state="visible")


def test_marks_made_by_touch_appear_on_every_screen(hub: HubProcess, browsers: Any) -> None:
    async def main() -> None:
        h, inv, clerk = await hearing_with(hub, TEXT, "被告对此有异议", "被告认为货款已经付清")
        async with contextlib.asynccontextmanager(browsers)() as b:
            seat = await b.page(inv["plaintiff"]["join_url"], name="plaintiff", size=(1920, 1080), touch=True)
            phone = await b.page(inv["defendant"]["join_url"], name="defendant", size=(390, 844), touch=True)
            for page in (seat, phone):
                await page.locator("[data-segment-id=S3]").wait_for()

            # The plaintiff marks 货款 in green with a finger.
            await select(seat, "S1", 8, 10)
            await seat.locator("#marker [data-color=green]").tap()
            mark = phone.locator("mark[data-annotation-id]")
            await mark.wait_for()
            assert await mark.text_content() == "货款"
            assert "green" in await mark.get_attribute("class")
            assert "张三" in await mark.get_attribute("title")

            # The defendant comments on 异议 from the phone.
            await select(phone, "S2", 5, 7)
            await phone.locator("#marker [data-style=comment]").tap()
            await phone.locator("#marker input").fill("已经付清，有转账记录")
            await phone.locator("#marker form button").tap()
            note = seat.locator("[data-segment-id=S2] .note")
            await note.wait_for()
            assert "已经付清，有转账记录" in await note.text_content() and "李四" in await note.text_content()
            await seat.screenshot(path=str(b.artifacts / "seat-1920x1080.png"))
            await phone.screenshot(path=str(b.artifacts / "seat-390x844.png"), full_page=True)

            # Only the author (or the judge) gets 删除 on a mark.
            await phone.locator("mark[data-annotation-id]").first.tap()
            await phone.locator("#mark-info").wait_for(state="visible")
            assert await phone.locator("#mark-info [data-action=remove]").is_hidden()
            await phone.locator("#mark-info [data-action=close]").tap()
            await seat.locator("[data-segment-id=S1] mark").tap()
            await seat.locator("#mark-info [data-action=remove]").tap()
            await phone.locator("[data-segment-id=S1] mark").wait_for(state="detached")

            # Filter by author, and search.
            await select(seat, "S3", 0, 2)
            await seat.locator("#marker [data-style=issue]").tap()
            await seat.locator("[data-segment-id=S3] mark.issue").wait_for()
            defendant_id = inv["defendant"]["participant_id"]
            await seat.locator("#author-filter").select_option(defendant_id)
            assert await seat.locator("mark.issue").count() == 0
            assert await seat.locator("[data-segment-id=S2] .note").count() == 1
            await seat.locator("#author-filter").select_option("")
            assert await seat.locator("mark.issue").count() == 1
            await seat.locator("#search").fill("被告")
            assert await seat.locator("#segments li.hit").count() == 3
            assert await seat.locator("#hits").text_content() == "3 处"
            assert not b.errors, b.errors
        await clerk.close()
    run(main())


def test_an_observer_gets_no_marking_tools(hub: HubProcess, browsers: Any) -> None:
    async def main() -> None:
        h, inv, clerk = await hearing_with(hub, TEXT, people=SEATS + [{"role": "observer", "name": "旁听者"}])
        async with contextlib.asynccontextmanager(browsers)() as b:
            page = await b.page(inv["observer"]["join_url"], name="observer", touch=True)
            await page.locator("[data-segment-id=S1]").wait_for()
            await page.evaluate("""() => {
                const text = document.querySelector('[data-segment-id="S1"] .text');
                const range = document.createRange(); range.selectNodeContents(text);
                document.getSelection().addRange(range);
                text.dispatchEvent(new PointerEvent("pointerup", {bubbles: true}));
            }""")
            await asyncio.sleep(0.3)
            assert await page.locator("#marker").is_hidden()
            assert not b.errors, b.errors
        await clerk.close()
    run(main())


def test_tapping_a_segment_plays_its_recording(tmp_path: Path, browsers: Any) -> None:
    hub = HubProcess.with_speech(tmp_path / "data").start()
    wav = speech_wav(tmp_path, "原告 陈述 诉讼 请求")

    async def main() -> None:
        h = hub.create_hearing(PEOPLE)
        inv = invites_by_role(h)
        party, pt = await joined(hub, h, "plaintiff", audio=MediaPlayer(wav).audio)
        await party.wait_for(lambda: len(segments_of(party)) >= 1, timeout=20)
        await pt.close()
        await party.close()
        await asyncio.sleep(1)
        async with contextlib.asynccontextmanager(browsers)() as b:
            page = await b.page(inv["judge"]["join_url"], name="judge")
            play = page.locator("[data-segment-id=S1] button.play")
            async with page.expect_response(lambda r: "/recording?" in r.url) as response:
                await play.click()
            r = await response.value
            assert r.status == 200 and r.headers["content-type"] == "audio/ogg"
            await page.wait_for_function("() => document.querySelector('button.play.playing') !== null")
            assert not b.errors, b.errors
            # Relabelled to someone who was not recorded then: no recording,
            # and the reader is told so.
            judge = await Client.connect(hub.ws_url(h["hearing_id"], inv["judge"]["token"]))
            await judge.op({"kind": "segment.relabel", "segment_id": "S1", "base_rev": 1,
                             "speaker": inv["defendant"]["participant_id"]})
            await page.locator("[data-segment-id=S1] .speaker", has_text="李四").wait_for()
            await page.locator("[data-segment-id=S1] button.play").click()
            await page.locator("#toast", has_text="这段没有录音可播放").wait_for()
            # (The browser itself logs the 404 it was told about.)
            assert [e for e in b.errors if "/recording?" not in e and "status of 404" not in e] == []
            await judge.close()
    try:
        run(main())
    finally:
        hub.stop()


async def sign(page: Any) -> None:
    """Draw a signature with the mouse (pointer events, as a finger's)."""
    box = await page.locator("#signature").bounding_box()
    x, y = box["x"] + 30, box["y"] + box["height"] / 2
    await page.mouse.move(x, y)
    await page.mouse.down()
    for k in range(1, 30):
        await page.mouse.move(x + 12 * k, y + (18 if k % 2 else -18))
    await page.mouse.up()
    await page.locator("#sign-submit").click()


def test_the_judge_locks_and_the_parties_sign_on_screen(hub: HubProcess, browsers: Any) -> None:
    async def main() -> None:
        import httpx
        h, inv, clerk = await hearing_with(hub, TEXT)
        async with contextlib.asynccontextmanager(browsers)() as b:
            judge = await b.page(inv["judge"]["join_url"], name="judge")
            seat = await b.page(inv["plaintiff"]["join_url"], name="plaintiff", size=(1920, 1080), touch=True)
            phone = await b.page(inv["defendant"]["join_url"], name="defendant", size=(390, 844), touch=True)
            for page in (judge, seat, phone):
                await page.locator("[data-segment-id=S1]").wait_for()
                assert await page.locator("#signing").is_hidden()
            # The court's rule: 锁定笔录 is offered after 闭庭, each confirmed.
            assert await judge.locator("[data-action=lock]").count() == 0
            await judge.locator("[data-action=end]").click()
            await judge.locator("#confirm-ok", has_text="闭庭").wait_for()
            await judge.locator("#confirm button[value=cancel]").click()  # changed their mind
            assert hub.transcript(h["hearing_id"], inv["judge"]["token"])["proceedings"]["status"] == "not_started"
            await judge.locator("[data-action=end]").click()
            await judge.locator("#confirm-ok").click()
            await judge.locator("[data-action=lock]").click()
            await judge.locator("#confirm-text", has_text="锁定后任何人都不能再修改").wait_for()
            assert (hub.transcript(h["hearing_id"], inv["judge"]["token"]))["locked"] is False
            await judge.locator("#confirm-ok").click()
            for page in (seat, phone):
                await page.locator("#sign-pad").wait_for(state="visible")
            await seat.locator("#sign-submit").click()  # nothing drawn yet: refused on the page
            assert "请先" in await seat.locator("#toast").text_content()
            await sign(seat)
            await sign(phone)
            for name in ("张三", "李四"):
                await judge.locator("#signers li.signed", has_text=name).wait_for()
            assert await seat.locator("#sign-pad").is_hidden()
            await phone.screenshot(path=str(b.artifacts / "signing-390x844.png"), full_page=True)
            await judge.screenshot(path=str(b.artifacts / "signing-judge-1280x800.png"))
            assert not b.errors, b.errors
        doc = httpx.get(f"{hub.url}/api/hearings/{h['hearing_id']}/transcript",
                        headers={"Authorization": f"Bearer {inv['judge']['token']}"}).json()
        assert doc["locked"] and {s["participant"]["name"] for s in doc["signatures"]} == {"张三", "李四"}
        assert all(s["transcript_hash"] == doc["transcript_hash"] and s["image"].startswith("data:image/png;base64,")
                   for s in doc["signatures"])
        await clerk.close()
    run(main())


def test_a_screen_reconnects_after_the_hub_restarts_and_shows_the_same_transcript(
        tmp_path: Path, browsers: Any) -> None:
    hub = HubProcess(tmp_path / "data").start()

    async def main() -> None:
        h, inv, clerk = await hearing_with(hub, TEXT, "被告对此有异议")
        await clerk.op({"kind": "annotation.add", "segment_id": "S1", "start": 8, "end": 10, "style": "highlight"})
        await clerk.close()
        async with contextlib.asynccontextmanager(browsers)() as b:
            page = await b.page(inv["plaintiff"]["join_url"], name="plaintiff")
            await page.locator("[data-segment-id=S2]").wait_for()
            before = await page.locator("#segments").inner_html()
            hub.kill()  # kill -9: the page sees the connection drop
            await page.locator("#status", has_text="重连").wait_for()
            hub.start()
            await page.locator("#status", has_text="已连接").wait_for(timeout=15_000)
            assert await page.locator("#segments").inner_html() == before
            clerk2 = await Client.connect(hub.ws_url(h["hearing_id"], inv["clerk"]["token"]))
            await clerk2.op({"kind": "segment.add", "text": "休庭后继续"})
            await page.locator("[data-segment-id=S3]").wait_for()
            assert await page.locator("[data-segment-id]").count() == 3  # no duplicates, no gaps
            assert await page.locator("mark[data-annotation-id]").count() == 1
            await clerk2.close()
            b.errors[:] = [e for e in b.errors if "ERR_CONNECTION_REFUSED" not in e and "WebSocket" not in e]
            assert not b.errors, b.errors
    try:
        run(main())
    finally:
        hub.stop()


LONG = "原告认为被告未按合同约定的期限交付货物，应当承担违约责任并赔偿损失共计三十万元，被告对此有异议并申请调取银行流水。"
WORD = LONG.index("三十万元")

#: The boxes (viewport pixels) of characters [a, b) of a segment's text.
CHAR_BOXES = """([id, a, b]) => {
    const text = document.querySelector(`[data-segment-id="${id}"] .text`);
    const walker = document.createTreeWalker(text, NodeFilter.SHOW_TEXT);
    const range = document.createRange();
    let pos = 0, node; const out = [];
    while ((node = walker.nextNode())) {
        for (let k = 0; k < node.textContent.length; k++, pos++) {
            if (pos < a || pos >= b) continue;
            range.setStart(node, k); range.setEnd(node, k + 1);
            const r = range.getClientRects()[0];
            out.push({x: r.left, y: r.top, w: r.width, h: r.height});
        }
    }
    return out;
}"""


def test_an_ink_stroke_stays_on_the_words_it_was_drawn_on_at_every_size(hub: HubProcess, browsers: Any) -> None:
    async def main() -> None:
        h, inv, clerk = await hearing_with(hub, LONG)
        async with contextlib.asynccontextmanager(browsers)() as b:
            seat = await b.page(inv["plaintiff"]["join_url"], name="plaintiff", size=(1920, 1080), touch=True)
            phone = await b.page(inv["defendant"]["join_url"], name="defendant", size=(390, 844), touch=True)
            for page in (seat, phone):
                await page.locator("[data-segment-id=S1]").wait_for()
            # The plaintiff underlines 三十万元 with a finger on the big screen.
            word = await seat.evaluate(CHAR_BOXES, ["S1", WORD, WORD + 4])
            y = word[0]["y"] + word[0]["h"] + 2
            await seat.locator("#ink-toggle").click()
            left, right = word[0]["x"] + 2, word[-1]["x"] + word[-1]["w"] - 2
            await seat.mouse.move(left, y)
            await seat.mouse.down()
            for k in range(1, 13):
                await seat.mouse.move(left + (right - left) * k / 12, y + (k % 2))
            await seat.mouse.up()
            stroke = phone.locator("[data-segment-id=S1] svg g.ink[data-annotation-id] path")
            await stroke.wait_for()
            await phone.screenshot(path=str(b.artifacts / "ink-390x844.png"))
            await seat.locator("#ink-toggle").click()  # off: selecting text works again
            doc = hub.transcript(h["hearing_id"], inv["judge"]["token"])
            ink = doc["annotations"][0]
            assert ink["style"] == "ink" and ink["author"]["name"] == "张三" and ink["quote"] == "三十万元"
            # On the phone the sentence wraps elsewhere and the letters are
            # smaller: the stroke is still under 三十万元.
            for page in (phone, seat):
                drawn = await page.evaluate("""() => {
                    const r = document.querySelector('[data-segment-id="S1"] g.ink path').getBoundingClientRect();
                    return {x: r.left, y: r.top, w: r.width, h: r.height};
                }""")
                there = await page.evaluate(CHAR_BOXES, ["S1", WORD, WORD + 4])
                same_line = [c for c in there if abs(c["y"] - there[0]["y"]) < 2]
                assert abs(drawn["x"] - there[0]["x"]) < 4, (drawn, there)
                assert abs(drawn["x"] + drawn["w"] - (same_line[-1]["x"] + same_line[-1]["w"])) < 4 or \
                    len(same_line) < len(there), (drawn, there)
                assert 0 <= drawn["y"] - (there[0]["y"] + there[0]["h"]) < 8, (drawn, there)
            # The phone turned sideways: drawn again where the words are now.
            await phone.set_viewport_size({"width": 844, "height": 390})
            await phone.wait_for_timeout(200)
            drawn = await phone.evaluate("() => document.querySelector('[data-segment-id=\"S1\"] g.ink path')"
                                         ".getBoundingClientRect().left")
            there = await phone.evaluate(CHAR_BOXES, ["S1", WORD, WORD + 1])
            assert abs(drawn - there[0]["x"]) < 4
            # The author removes it through its note.
            await seat.locator("[data-segment-id=S1] .note", has_text="手写").click()
            await seat.locator("#mark-info [data-action=remove]").click()
            await stroke.wait_for(state="detached")
            assert not b.errors, b.errors
        await clerk.close()
    run(main())


def test_a_waiting_party_sees_the_hearing_only_while_admitted(hub: HubProcess, browsers: Any) -> None:
    async def main() -> None:
        h = hub.create_hearing(SEATS, waiting_room=True)
        inv = invites_by_role(h)
        judge = await Client.connect(hub.ws_url(h["hearing_id"], inv["judge"]["token"]))
        assert (await judge.op({"kind": "segment.add", "text": TEXT}))["type"] == "ack"
        detainee = inv["defendant"]["participant_id"]
        async with contextlib.asynccontextmanager(browsers)() as b:
            page = await b.page(inv["defendant"]["join_url"], name="detainee")
            await page.locator("#waiting").wait_for()
            assert await page.locator("[data-segment-id]").count() == 0
            await judge.op({"kind": "participant.admit", "participant_id": detainee})
            await page.locator("[data-segment-id=S1]").wait_for()
            assert await page.locator("#waiting").is_hidden()
            await judge.op({"kind": "participant.remove", "participant_id": detainee})
            await page.locator("#waiting").wait_for()
            await judge.op({"kind": "segment.add", "text": "被移出后的陈述"})
            await judge.op({"kind": "participant.admit", "participant_id": detainee})
            await page.locator("[data-segment-id=S2]").wait_for()
            assert await page.locator("#waiting").is_hidden()
            assert not b.errors, b.errors
        await judge.close()
    run(main())


def test_a_quota_refusal_is_explained_in_chinese(tmp_path: Path, browsers: Any) -> None:
    hub = HubProcess(tmp_path / "data", args=["--quota", "annotations=1"]).start()

    async def main() -> None:
        h, inv, clerk = await hearing_with(hub, TEXT)
        async with contextlib.asynccontextmanager(browsers)() as b:
            seat = await b.page(inv["plaintiff"]["join_url"], name="plaintiff", size=(1920, 1080), touch=True)
            await seat.locator("[data-segment-id=S1]").wait_for()
            await select(seat, "S1", 8, 10)
            await seat.locator("#marker [data-color=green]").tap()
            await seat.locator("mark[data-annotation-id]").wait_for()
            await select(seat, "S1", 2, 4)
            await seat.locator("#marker [data-color=yellow]").tap()
            await seat.locator("#toast", has_text="您的标注数量已达上限").wait_for()
            assert await seat.locator("mark[data-annotation-id]").count() == 1
            assert not b.errors, b.errors
        await clerk.close()
    try:
        run(main())
    finally:
        hub.stop()
