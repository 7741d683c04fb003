"""Every role's page at a 1920×1080 touch screen and a 390×844 phone, with a
transcript, marks, evidence and interim speech on it, saved to
test-results/ for people to look at; no page may log an error."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from tests.browser.test_seat_screen import SEATS
from tests.support import Client, HubProcess, invites_by_role, run
from tests.test_evidence_upload import png_bytes

ROLES = ["judge", "clerk", "plaintiff", "defendant", "observer"]


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubProcess]:
    proc = HubProcess(tmp_path / "data").start()
    yield proc
    proc.stop()


def test_every_page_at_both_sizes(hub: HubProcess, browsers: Any) -> None:
    async def main() -> None:
        h = hub.create_hearing(SEATS + [{"role": "observer", "name": "旁听者"}], waiting_room=True)
        inv = invites_by_role(h)
        judge = await Client.connect(hub.ws_url(h["hearing_id"], inv["judge"]["token"]))
        await judge.op({"kind": "hearing.start"})
        lines = [("judge", "现在开庭。核对当事人身份。"), ("plaintiff", "原告要求被告支付货款三十万元及利息。"),
                 ("defendant", "被告对此有异议，货款已经付清。"), ("plaintiff", "原告提交借条一份。")]
        for role, text in lines:
            await judge.op({"kind": "segment.add", "text": text, "speaker": inv[role]["participant_id"]})
        plaintiff = await Client.connect(hub.ws_url(h["hearing_id"], inv["plaintiff"]["token"]))
        await plaintiff.op({"kind": "annotation.add", "segment_id": "S2", "start": 10, "end": 14, "style": "comment",
                            "body": "金额以合同为准", "color": "orange"})
        await plaintiff.op({"kind": "annotation.add", "segment_id": "S3", "start": 0, "end": 2, "style": "issue",
                            "color": "red"})
        await asyncio.to_thread(httpx.post, f"{hub.url}/api/hearings/{h['hearing_id']}/evidence",
                                params={"name": "借条.png"}, content=png_bytes(),
                                headers={"Authorization": f"Bearer {inv['plaintiff']['token']}"})
        await judge.op({"kind": "evidence.approve", "evidence_id": "E1"})
        async with contextlib.asynccontextmanager(browsers)() as b:
            for size, touch in (((1920, 1080), True), ((390, 844), True)):
                for role in ROLES:
                    page = await b.page(inv[role]["join_url"], name=f"{role}-{size[0]}", size=size, touch=touch)
                    if role == "defendant":  # at the detention centre, waiting: the hub sends nothing
                        await page.locator("#status", has_text="等候审判员准许进入").wait_for()
                    else:
                        await page.locator("#status", has_text="已连接").wait_for()
                        await page.locator("[data-segment-id=S4]").wait_for(state="attached")
                    await page.screenshot(path=str(b.artifacts / f"page-{role}-{size[0]}x{size[1]}.png"),
                                          full_page=True)
                    if role == "observer":  # reads, watches, listens: no tools
                        for tool in ("#evidence-actions", "#ink-toggle", "#vocabulary", "#controls button"):
                            assert not await page.locator(tool).is_visible(), tool
                    if role == "defendant":
                        assert await page.locator("#waiting").is_visible()
                        assert await page.locator("#segments").is_hidden()
                        assert await page.locator("#evidence").is_hidden()
                        assert await page.locator("[data-segment-id]").count() == 0
                    await page.close()
            assert not b.errors, b.errors
        await judge.close()
        await plaintiff.close()
    run(main())
