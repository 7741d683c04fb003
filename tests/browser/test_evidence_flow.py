"""Evidence in real Chromium: a party photographs (uploads) a document, the
judge approves it, shows it on every screen and pastes it into the
transcript; a non-image "photo" is refused with a clear message."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.browser.test_seat_screen import TEXT, hearing_with
from tests.support import HubProcess, run
from tests.test_evidence_upload import png_bytes


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubProcess]:
    proc = HubProcess(tmp_path / "data").start()
    yield proc
    proc.stop()


def test_upload_approve_show_and_paste(hub: HubProcess, tmp_path: Path, browsers: Any) -> None:
    photo = tmp_path / "借条.png"
    photo.write_bytes(png_bytes())
    fake = tmp_path / "照片.jpg"
    fake.write_text("这不是照片")

    async def main() -> None:
        h, inv, clerk = await hearing_with(hub, TEXT)
        async with contextlib.asynccontextmanager(browsers)() as b:
            judge = await b.page(inv["judge"]["join_url"], name="judge", size=(1920, 1080))
            phone = await b.page(inv["defendant"]["join_url"], name="defendant", size=(390, 844), touch=True)
            for page in (judge, phone):
                await page.locator("[data-segment-id=S1]").wait_for()

            await phone.locator("#evidence-actions input").nth(1).set_input_files(str(fake))
            await phone.locator("#toast", has_text="上传失败：证据须为照片（JPEG、PNG、WebP）或 PDF 文件").wait_for()
            await phone.locator("#evidence-actions input").first.set_input_files(str(photo))  # the camera input
            item = judge.locator("#evidence-list li[data-evidence-id=E1]")
            await item.wait_for()
            assert "借条.png" in await item.text_content() and "待审判员确认" in await item.text_content()
            assert await phone.locator("#evidence-list [data-action=approve]").count() == 0

            await item.locator("[data-action=approve]").click()
            await item.locator("[data-action=show]").click()
            image = phone.locator("#viewer-stage img")
            await image.wait_for()
            await phone.wait_for_function("() => document.querySelector('#viewer-stage img').naturalWidth > 0")
            assert await phone.locator("#viewer-stop").is_hidden()  # only the judge ends the showing
            await phone.locator("#viewer [data-zoom=in]").tap()
            assert "scale(1.25)" in await image.get_attribute("style")
            await phone.screenshot(path=str(b.artifacts / "evidence-shown-390x844.png"))
            await judge.locator("#viewer-stop").click()
            await phone.locator("#viewer").wait_for(state="hidden")

            await item.locator("[data-action=paste]").click()
            pasted = phone.locator("[data-segment-id=S2]")
            await pasted.wait_for()
            assert "出示证据一：借条.png" in await pasted.text_content()  # a reference, not speech
            assert await pasted.locator(".speaker").count() == 0
            await item.locator("[data-action=paste]").wait_for(state="detached")  # pasted once
            await pasted.locator("button.evidence").tap()
            await phone.locator("#viewer-stage img").wait_for()
            await judge.screenshot(path=str(b.artifacts / "evidence-judge-1920x1080.png"))
            b.errors[:] = [e for e in b.errors if "400" not in e]  # the refused fake photo
            assert not b.errors, b.errors
        await clerk.close()
    run(main())
