"""Every role's page at a 1920×1080 touch screen and a 390×844 phone, during
the hearing (a transcript, marks, evidence, interim speech) and after the
lock (signing), saved to test-results/ for people to look at. No page may
log an error, and nothing a court user can read on any of them is English
(names of formats and keys aside), nor in any export of the 笔录."""

from __future__ import annotations

import asyncio
import contextlib
import io
from pathlib import Path
from typing import Any, Iterator

import docx
import httpx
import pypdf
import pytest

from tests.browser.pages import english, readable
from tests.browser.test_seat_screen import SEATS
from tests.support import Client, HubProcess, invites_by_role, run
from tests.test_evidence_upload import png_bytes

ROLES = ["judge", "clerk", "plaintiff", "defendant", "observer"]
SIZES = ((1920, 1080), (390, 844))
USER_DATA = ("借条.png",)


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubProcess]:
    proc = HubProcess(tmp_path / "data").start()
    yield proc
    proc.stop()


async def walk(b: Any, inv: dict[str, Any], phase: str, last: str) -> None:
    """Open every role's page at both sizes, screenshot it, check its text."""
    for size in SIZES:
        for role in ROLES:
            page = await b.page(inv[role]["join_url"], name=f"{role}-{size[0]}", size=size, touch=True)
            waiting = role == "defendant" and phase == "session"
            if waiting:  # at the detention centre, waiting: the hub sends nothing
                await page.locator("#status", has_text="等候审判员准许进入").wait_for()
            else:
                await page.locator("#status", has_text="已连接" if phase == "session" else "笔录已锁定").wait_for()
                await page.locator(f"[data-segment-id={last}]").wait_for(state="attached")
            await page.screenshot(path=str(b.artifacts / f"page-{phase}-{role}-{size[0]}x{size[1]}.png"),
                                  full_page=True)
            words = english(await readable(page), *USER_DATA)
            assert not words, f"{role} at {size} ({phase}) shows English: {words}"
            if role == "observer":  # reads, watches, listens: no tools
                for tool in ("#evidence-actions", "#ink-toggle", "#vocabulary", "#controls button", "#composer"):
                    assert not await page.locator(tool).is_visible(), tool
            if waiting:
                assert await page.locator("#waiting").is_visible()
                assert await page.locator("#segments").is_hidden()
                assert await page.locator("#evidence").is_hidden()
                assert await page.locator("[data-segment-id]").count() == 0
            if role == "judge" and phase == "session" and size[0] == 1920:
                await page.locator("[data-action=end]").click()  # the question before 闭庭
                await page.locator("#confirm").wait_for(state="visible")
                await page.screenshot(path=str(b.artifacts / "page-judge-confirm-1920x1080.png"))
                assert not english(await readable(page), *USER_DATA)
                await page.locator("#confirm button[value=cancel]").click()
            await page.close()


def test_every_page_at_both_sizes_shows_only_chinese(hub: HubProcess, browsers: Any) -> None:
    async def main() -> None:
        h = hub.create_hearing(SEATS + [{"role": "observer", "name": "旁听者"}], waiting_room=True)
        inv = invites_by_role(h)
        hid = h["hearing_id"]
        judge = await Client.connect(hub.ws_url(hid, inv["judge"]["token"]))
        await judge.op({"kind": "hearing.start"})
        lines = [("judge", "现在开庭。核对当事人身份。"), ("plaintiff", "原告要求被告支付货款三十万元及利息。"),
                 ("defendant", "被告对此有异议，货款已经付清。"), ("plaintiff", "原告提交借条一份。")]
        for role, text in lines:
            await judge.op({"kind": "segment.add", "text": text, "speaker": inv[role]["participant_id"]})
        plaintiff = await Client.connect(hub.ws_url(hid, inv["plaintiff"]["token"]))
        await plaintiff.op({"kind": "annotation.add", "segment_id": "S2", "start": 10, "end": 14, "style": "comment",
                            "body": "金额以合同为准", "color": "orange"})
        await plaintiff.op({"kind": "annotation.add", "segment_id": "S3", "start": 0, "end": 2, "style": "issue",
                            "color": "red"})
        await asyncio.to_thread(httpx.post, f"{hub.url}/api/hearings/{hid}/evidence",
                                params={"name": "借条.png"}, content=png_bytes(),
                                headers={"Authorization": f"Bearer {inv['plaintiff']['token']}"})
        await judge.op({"kind": "evidence.approve", "evidence_id": "E1"})
        await judge.op({"kind": "evidence.paste", "evidence_id": "E1"})
        await judge.op({"kind": "segment.delete", "segment_id": "S4", "base_rev": 1})
        await plaintiff.send_json({"type": "partial", "text": "我方还有补充"})
        # On the air (the judge's page shows it), the witness masked.
        await judge.op({"kind": "stream.start", "delay_s": 30})
        await judge.op({"kind": "participant.protect", "participant_id": inv["plaintiff"]["participant_id"],
                        "protected": True})
        async with contextlib.asynccontextmanager(browsers)() as b:
            await walk(b, inv, "session", "S5")
            for size in SIZES:  # the public page, waiting out the delay
                page = await b.page(f"{hub.url}/live/{hid}", name=f"live-{size[0]}", size=size, touch=True)
                await page.locator("#state", has_text="直播即将开始").wait_for()
                await page.locator("#facts", has_text="延时 30 秒").wait_for()
                await page.screenshot(path=str(b.artifacts / f"page-live-{size[0]}x{size[1]}.png"), full_page=True)
                words = english(await readable(page), *USER_DATA)
                assert not words, f"the live page at {size} shows English: {words}"
                await page.close()
            await judge.op({"kind": "participant.admit", "participant_id": inv["defendant"]["participant_id"]})
            await judge.op({"kind": "hearing.end"})
            await judge.op({"kind": "transcript.lock"})
            await walk(b, inv, "locked", "S5")
            assert not b.errors, b.errors
        await judge.close()
        await plaintiff.close()
        for fmt in ("txt", "docx", "pdf"):
            r = httpx.get(f"{hub.url}/api/hearings/{hid}/export", params={"format": fmt, "token": inv["judge"]["token"]})
            assert r.status_code == 200, fmt
            (Path(__file__).resolve().parents[2] / "test-results" / f"record.{fmt}").write_bytes(r.content)
            text = {"txt": lambda c: c.decode(),
                    "docx": lambda c: "\n".join(p.text for p in docx.Document(io.BytesIO(c)).paragraphs),
                    "pdf": lambda c: "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(c)).pages)}[fmt](r.content)
            assert not english(text, *USER_DATA), (fmt, english(text, *USER_DATA))
    run(main())
