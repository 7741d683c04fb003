"""The clerk's corrections in real Chromium, by keyboard: edit in place,
split, merge, relabel, insert, and the path when the judge changed the
same segment first."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.browser.test_seat_screen import SEATS
from tests.support import Client, HubProcess, invites_by_role, run


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubProcess]:
    proc = HubProcess(tmp_path / "data").start()
    yield proc
    proc.stop()


def texts(hub: HubProcess, h: dict[str, Any], token: str) -> list[str]:
    return [s["text"] for s in hub.transcript(h["hearing_id"], token)["segments"]]


def test_the_clerk_corrects_the_transcript_by_keyboard(hub: HubProcess, browsers: Any) -> None:
    async def main() -> None:
        h = hub.create_hearing(SEATS)
        inv = invites_by_role(h)
        token = inv["judge"]["token"]
        judge = await Client.connect(hub.ws_url(h["hearing_id"], token))
        plaintiff, defendant = inv["plaintiff"]["participant_id"], inv["defendant"]["participant_id"]
        for text, who in (("原告要求被告支付货款三十万元", plaintiff), ("并承担诉讼费用", plaintiff),
                          ("被告对此有异议", defendant)):
            await judge.op({"kind": "segment.add", "text": text, "speaker": who})
        async with contextlib.asynccontextmanager(browsers)() as b:
            page = await b.page(inv["clerk"]["join_url"], name="clerk", size=(1920, 1080))
            seg = lambda i: page.locator(f"[data-segment-id={i}]")  # noqa: E731
            await seg("S3").wait_for()

            # Edit in place: Enter, type, Enter.
            await seg("S1").focus()
            await page.keyboard.press("Enter")
            await page.locator("textarea.editor").fill("原告要求被告支付货款30万元")
            await page.keyboard.press("Enter")
            await seg("S1").locator(".text", has_text="30万元").wait_for()
            await page.keyboard.press("ArrowDown")  # focus moves to S2
            assert await page.evaluate("() => document.activeElement.dataset.segmentId") == "S2"

            # Split S3 after 被告: Ctrl+Enter at the cursor.
            await seg("S3").focus()
            await page.keyboard.press("Enter")
            await page.locator("textarea.editor").evaluate("(t) => t.setSelectionRange(2, 2)")
            await page.keyboard.press("Control+Enter")
            await seg("S4").wait_for()
            assert texts(hub, h, token)[-2:] == ["被告", "对此有异议"]

            # Merge S1 with S2 (same speaker): M.
            await seg("S1").focus()
            await page.keyboard.press("m")
            await seg("S2").wait_for(state="detached")
            assert texts(hub, h, token)[0] == "原告要求被告支付货款30万元并承担诉讼费用"

            # Relabel S4 to the plaintiff: R, choose.
            await seg("S4").focus()
            await page.keyboard.press("r")
            await page.locator("select.relabel").select_option(plaintiff)
            await seg("S4").locator(".speaker", has_text="张三").wait_for()

            # Insert after S1: I, type, Enter; the speaker defaults to S1's.
            await seg("S1").focus()
            await page.keyboard.press("i")
            await page.locator("li.inserting textarea").fill("（原告补充：有合同为证）")
            await page.keyboard.press("Enter")
            await seg("S5").wait_for()
            doc = hub.transcript(h["hearing_id"], token)["segments"]
            assert [s["id"] for s in doc][:2] == ["S1", "S5"] and doc[1]["speaker"]["participant_id"] == plaintiff

            # The judge edits S1 while the clerk is typing: conflict, clerk keeps theirs.
            await seg("S1").focus()
            await page.keyboard.press("Enter")
            await page.locator("textarea.editor").fill("原告请求判令被告支付货款30万元并承担诉讼费用")
            current = hub.transcript(h["hearing_id"], token)["segments"][0]
            await judge.op({"kind": "segment.edit", "segment_id": "S1", "base_rev": current["rev"],
                            "text": "原告要求被告支付货款30万元，并承担诉讼费用"})
            await page.keyboard.press("Enter")
            box = seg("S1").locator(".conflict")
            await box.wait_for()
            assert "原告要求被告支付货款30万元，并承担诉讼费用" in await box.text_content()
            # The choice survives the segment being drawn again (a mark lands on it).
            party_client = await Client.connect(hub.ws_url(h["hearing_id"], inv["plaintiff"]["token"]))
            await party_client.op({"kind": "annotation.add", "segment_id": "S1", "start": 0, "end": 2,
                                   "style": "highlight"})
            await seg("S1").locator("mark").wait_for()
            assert await box.count() == 1
            await party_client.close()
            await page.screenshot(path=str(b.artifacts / "clerk-conflict-1920x1080.png"))
            await box.locator("[data-fix=mine]").click()
            await seg("S1").locator(".text", has_text="原告请求判令").wait_for()
            assert texts(hub, h, token)[0] == "原告请求判令被告支付货款30万元并承担诉讼费用"

            # A party's screen has no correction tools.
            party = await b.page(inv["plaintiff"]["join_url"], name="plaintiff")
            await party.locator("[data-segment-id=S1]").wait_for()
            assert await party.locator(".fix").count() == 0
            assert await page.locator(".fix").count() == len(texts(hub, h, token)) == 4
            assert not b.errors, b.errors
        await judge.close()
    run(main())


def test_the_clerk_sees_which_words_the_recognizer_was_unsure_of(hub: HubProcess, browsers: Any) -> None:
    async def main() -> None:
        h = hub.create_hearing(SEATS)
        inv = invites_by_role(h)
        judge = await Client.connect(hub.ws_url(h["hearing_id"], inv["judge"]["token"]))
        words = [{"word": "原告", "start": 1.0, "end": 1.3, "conf": 0.95}, {"word": "之争", "start": 1.3, "end": 1.7, "conf": 0.42},
                 {"word": "意见", "start": 1.7, "end": 2.0, "conf": 0.9}]
        await judge.op({"kind": "segment.add", "text": "原告之争意见。", "speaker": inv["plaintiff"]["participant_id"],
                        "words": words})
        async with contextlib.asynccontextmanager(browsers)() as b:
            clerk = await b.page(inv["clerk"]["join_url"], name="clerk")
            party = await b.page(inv["plaintiff"]["join_url"], name="plaintiff")
            unsure = clerk.locator("[data-segment-id=S1] .unsure")
            await unsure.wait_for()
            assert await unsure.count() == 1 and await unsure.text_content() == "之争"
            assert "42%" in await unsure.get_attribute("title")
            await party.locator("[data-segment-id=S1]").wait_for()
            assert await party.locator(".unsure").count() == 0  # only for those who correct
            # Corrected, the text is no longer the recognizer's: nothing is marked.
            await clerk.locator("[data-segment-id=S1]").focus()
            await clerk.keyboard.press("Enter")
            await clerk.locator("textarea.editor").fill("原告质证意见。")
            await clerk.keyboard.press("Enter")
            await clerk.locator("[data-segment-id=S1] .text", has_text="质证").wait_for()
            assert await clerk.locator(".unsure").count() == 0
            assert not b.errors, b.errors
        await judge.close()
    run(main())


def test_the_clerk_edits_the_hearings_vocabulary(hub: HubProcess, browsers: Any) -> None:
    async def main() -> None:
        import httpx
        h = hub.create_hearing(SEATS)
        inv = invites_by_role(h)
        async with contextlib.asynccontextmanager(browsers)() as b:
            clerk = await b.page(inv["clerk"]["join_url"], name="clerk")
            party = await b.page(inv["plaintiff"]["join_url"], name="plaintiff")
            await clerk.locator("#vocabulary summary").click()
            await clerk.locator("#terms-note", has_text="默认").wait_for()
            assert "质证" in await clerk.locator("#terms").input_value()
            await clerk.locator("#terms").fill("质证\n诉讼时效\n\n借款合同")
            await clerk.locator("#terms-save").click()
            await clerk.locator("#toast", has_text="识别术语已更新").wait_for()
            await clerk.locator("#terms").fill("not chinese")
            await clerk.locator("#terms-save").click()
            await clerk.locator("#toast", has_text="术语未保存：每个术语须为 2 至 20 个汉字").wait_for()
            r = httpx.get(f"{hub.url}/api/hearings/{h['hearing_id']}/vocabulary", params={"token": inv["judge"]["token"]})
            assert r.json() == {"terms": ["质证", "诉讼时效", "借款合同"], "default": False}
            await party.locator("#status", has_text="已连接").wait_for()
            assert await party.locator("#vocabulary").is_hidden()
            assert not b.errors, b.errors
    run(main())
