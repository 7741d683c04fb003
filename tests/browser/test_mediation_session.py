"""A mediation session in real Chromium: the mediator starts it from the
console, a party enters it from the phone after the mediation identity
check, both see and hear each other through the hub, and nothing said is
transcribed."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from tests.browser.test_case_space import console, identify
from tests.browser.test_join_page import inbound
from tests.media.test_media_hub import speech_wav
from tests.support import ADMIN, HubProcess, run

STAFF = {"Authorization": f"Bearer {ADMIN}"}


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubProcess]:
    proc = HubProcess.with_speech(tmp_path / "data").start()
    yield proc
    proc.stop()


def test_mediator_and_party_meet_by_video_without_a_transcript(hub: HubProcess, tmp_path: Path,
                                                               browsers: Any) -> None:
    wav = Path(speech_wav(tmp_path, "现在 开庭"))
    assert httpx.post(hub.url + "/api/staff", headers=STAFF, json={
        "staff_id": "med1", "name": "孙调解员", "role": "mediator", "password": "correct horse 1"}).status_code == 201
    case = httpx.post(hub.url + "/api/cases", headers=STAFF, json={
        "case_number": "(2026)苏0312民初77号", "cause": "物业服务合同纠纷", "court": "徐州市铜山区人民法院",
        "parties": [{"role": "plaintiff", "name": "张三", "id_number": "320312199001011234"},
                    {"role": "defendant", "name": "王五", "id_number": "32031219850202222X"}]}).json()
    cid = case["case_id"]
    httpx.post(hub.url + f"/api/cases/{cid}/ops", headers=STAFF, json={
        "op": {"kind": "staff.assign", "role": "mediator", "staff_id": "med1", "name": "孙调解员"}})

    async def main() -> None:
        async with contextlib.asynccontextmanager(browsers)() as b:
            desk = await console(b, hub, "med1")
            await desk.locator(f"[data-case={cid}]").click()
            await desk.locator("[data-tab=mediation]").click()
            await desk.locator("#mediation button", has_text="开始调解").click()
            await desk.locator("#session-open").click()
            link = await desk.locator("[data-join=mediator]").get_attribute("href")
            mediator = await b.page(link + "&autojoin=1", wav, name="mediator", size=(1280, 800))
            await mediator.locator("#title", has_text="在线调解").wait_for()
            await mediator.locator("#controls button", has_text="开始调解").click()

            phone = await b.page(case["parties"][0]["entry_url"], wav, name="张三", size=(390, 844), touch=True)
            await identify(phone, "张三", "320312199001011234")
            await phone.locator("[data-tab=mediation]").click()
            await phone.locator("[data-session]").click()
            await identify(phone, "张三", "320312199001011234")  # asked again before mediation
            await phone.wait_for_url("**/hearings/**")
            await phone.locator("#title", has_text="在线调解").wait_for()
            await phone.locator("#join").click()
            stats: dict[str, dict[str, int]] = {}
            for _ in range(60):
                stats = {"mediator": await inbound(mediator), "party": await inbound(phone)}
                if all(s == {"audio": 1, "video": 1} for s in stats.values()):
                    break
                await asyncio.sleep(0.5)
            assert all(s == {"audio": 1, "video": 1} for s in stats.values()), stats
            await mediator.locator("#people li", has_text="调解员 孙调解员").wait_for()
            await asyncio.sleep(3)  # speech has been heard by now; none of it is written down
            session = httpx.get(hub.url + f"/api/cases/{cid}", headers=STAFF).json()["mediation"]["sessions"][0]
            mine = link.split("token=")[1]
            transcript = httpx.get(hub.url + f"/api/hearings/{session['hearing_id']}/transcript",
                                   headers={"Authorization": f"Bearer {mine}"}).json()
            assert transcript["segments"] == []
            await mediator.screenshot(path=str(b.artifacts / "mediation-session.png"))
            # Refusals the pages expect (not signed in yet, the identity check asked for) are all there is.
            unexpected = [e for e in b.errors if not any(c in e for c in (" 401 ", " 403 ", "status of 401",
                                                                          "status of 403"))]
            assert not unexpected, unexpected
    run(main())
