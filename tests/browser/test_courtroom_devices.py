"""The courtroom's equipment on the pages, in real Chromium, with the real
agent (``courtroom room``), its PortAudio seats, a test-pattern document
camera and libfprint's virtual reader: the judge sees the courtroom PC in
the hearing; a party files the document camera's photo with 高拍仪拍照;
after the lock the defendant signs with 按指纹 alone."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.devices.prints import need_libfprint, press, synthetic_print
from tests.devices.test_agent import PEOPLE, ROOM, issue_device, room_config
from tests.support import Client, HubProcess, PrivatePulse, invites_by_role, run


def test_device_state_document_camera_and_fingerprint_on_the_pages(tmp_path: Path, pulse: PrivatePulse,
                                                                    browsers: Any) -> None:
    need_libfprint()
    hub = HubProcess.with_speech(tmp_path / "data").start()
    device = issue_device(hub)
    h = hub.create_hearing(PEOPLE, courtroom=ROOM)
    inv = invites_by_role(h)
    config = room_config(tmp_path, hub, device["credential"])
    config.write_text(config.read_text(encoding="utf-8").replace(
        'channel = 4\nrole = "defendant"\n', 'channel = 4\nrole = "defendant"\nfingerprint = "virtual_image"\n')
        + '\n[document_camera]\ndevice = "test"\nsize = "640x480"\n', encoding="utf-8")
    reader = tmp_path / "reader.sock"
    agent = subprocess.Popen([sys.executable, "-m", "courtroom.cli", "room", "--config", str(config)],
                             stdout=(tmp_path / "agent.log").open("ab"), stderr=subprocess.STDOUT,
                             env={**pulse.env(source="room.monitor", sink="ceiling"), "FP_VIRTUAL_IMAGE": str(reader)})

    async def main() -> None:
        async with contextlib.asynccontextmanager(browsers)() as b:
            judge = await b.page(inv["judge"]["join_url"] + "&autojoin=1", name="judge", size=(1920, 1080))
            plaintiff = await b.page(inv["plaintiff"]["join_url"], name="plaintiff")
            defendant = await b.page(inv["defendant"]["join_url"], name="defendant")
            pc = judge.locator(f"#people li[data-device-id={device['device_id']}]")
            await pc.wait_for(timeout=30_000)
            await judge.locator("#people li", has_text="已接入（4 个座席麦克风、摄像头）").wait_for(timeout=30_000)
            assert "第一法庭主机" in await pc.text_content()
            # The document camera is the courtroom's own picture, in a tile of its own.
            document = judge.locator("#grid figure[data-source=document] figcaption")
            await document.wait_for(timeout=20_000)
            assert await document.text_content() == "高拍仪第一法庭主机"
            assert await plaintiff.locator(f"[data-device-id={device['device_id']}]").count() == 0  # staff only

            await plaintiff.locator("#capture-document").click()
            item = judge.locator("#evidence-list li[data-evidence-id=E1]")
            await item.wait_for(timeout=20_000)
            assert "高拍仪照片" in await item.text_content() and "原告 张三提交" in await item.text_content()

            # 闭庭 and the lock (from the judge's own connection), then signing.
            c = await Client.connect(hub.ws_url(h["hearing_id"], inv["judge"]["token"]))
            for op in ({"kind": "hearing.end"}, {"kind": "transcript.lock"}):
                assert (await c.op(op))["type"] == "ack"
            await c.close()
            button = defendant.locator("#sign-fingerprint")
            await button.wait_for(timeout=20_000)
            assert await plaintiff.locator("#sign-fingerprint").is_hidden()  # no reader at that seat
            await button.click()
            await asyncio.to_thread(press, reader, synthetic_print(2))
            await defendant.locator("#fingerprint-preview").wait_for(timeout=20_000)
            await defendant.locator("#sign-submit").click()
            await judge.locator(f"#signers li[data-participant-id={inv['defendant']['participant_id']}]",
                                has_text="已签名").wait_for()
            await defendant.screenshot(path=str(b.artifacts / "fingerprint-signed.png"))
            await judge.screenshot(path=str(b.artifacts / "courtroom-pc-on-judge-screen.png"))
            assert not b.errors, b.errors

    try:
        run(main())
        signature = hub.transcript(h["hearing_id"], inv["judge"]["token"])["signatures"][0]
        assert signature["fingerprint"].startswith("data:image/png") and signature["image"] is None
    finally:
        agent.kill()
        hub.stop()
