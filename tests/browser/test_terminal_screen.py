"""A terminal's local picture: the hearing page as a screen that only
watches (``?autojoin=1&watch=1``, what ``courtroom terminal --screen``
opens fullscreen) in real Chromium shows the judge's camera while the
terminal's own connection keeps carrying its microphone (the watching
screen does not replace it and plays no sound); the kiosk's browser is
started again when it exits."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path
from typing import Any

from aiortc import AudioStreamTrack, VideoStreamTrack

from devices.kiosk import Kiosk, watch_url
from tests.media.test_media_hub import hang_up, joined
from tests.support import HubProcess, invites_by_role, run

PEOPLE = [{"role": "judge", "name": "王法官"}, {"role": "defendant", "name": "李四", "site": "detention"}]


def test_the_watching_screen_shows_the_court_beside_the_terminals_microphone(browsers: Any, tmp_path: Path) -> None:
    hub = HubProcess.with_speech(tmp_path / "data").start()
    h = hub.create_hearing(PEOPLE)
    inv = invites_by_role(h)
    defendant = inv["defendant"]["participant_id"]

    async def main() -> None:
        judge = await joined(hub, h, "judge", audio=AudioStreamTrack(), video=VideoStreamTrack())
        terminal = await joined(hub, h, "defendant", audio=AudioStreamTrack())  # the appliance's connection

        def presence() -> dict[str, Any]:
            states = judge[0].of_type("presence")
            return states[-1]["participants"].get(defendant, {}) if states else {}
        await judge[0].wait_for(lambda: presence().get("media") == "connected" and presence().get("audio"), 20)
        async with contextlib.asynccontextmanager(browsers)() as b:
            screen = await b.page(watch_url(inv["defendant"]["join_url"]), name="kiosk", size=(1280, 720))
            tile = screen.locator(f"#grid figure[data-participant-id={inv['judge']['participant_id']}] video")
            await tile.wait_for(timeout=20_000)
            await screen.wait_for_function(
                "(pid) => { const v = document.querySelector(`#grid figure[data-participant-id='${pid}'] video`);"
                " return v && v.videoWidth > 0 && v.currentTime > 0.5; }", arg=inv["judge"]["participant_id"],
                timeout=20_000)
            audio = await tile.evaluate("v => v.srcObject.getAudioTracks().length")
            assert audio == 0  # the appliance plays the sound; the screen none
            await asyncio.sleep(2)
            # The terminal's microphone is still connected: the screen did not replace it.
            assert presence().get("media") == "connected" and presence().get("audio") is True
            assert await screen.locator("#self-video").is_hidden()
            await screen.screenshot(path=str(b.artifacts / "terminal-screen-1280x720.png"))
            assert not b.errors, b.errors
        await hang_up(judge, terminal)

    try:
        run(main())
    finally:
        hub.stop()


def test_the_kiosk_browser_is_started_again_when_it_exits(tmp_path: Path) -> None:
    """The browser itself is the edge here: a stand-in that notes how it was
    started and exits at once."""
    calls = tmp_path / "calls"
    browser = tmp_path / "browser"
    browser.write_text(f"#!{sys.executable}\nimport sys\nopen({str(calls)!r}, 'a').write(' '.join(sys.argv[1:]) + '\\n')\n")
    browser.chmod(0o755)
    kiosk = Kiosk("https://hub.example/hearings/h-1?token=T&autojoin=0", str(browser))
    kiosk._backoff.first = 0.05

    async def main() -> None:
        task = asyncio.create_task(kiosk.run())
        while kiosk.starts < 3:
            await asyncio.sleep(0.05)
        task.cancel()
    run(main())
    lines = calls.read_text().splitlines()
    assert len(lines) >= 2
    assert lines[0].split()[-1] == "https://hub.example/hearings/h-1?token=T&autojoin=1&watch=1"
    assert "--kiosk" in lines[0]
