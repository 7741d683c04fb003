"""``courtroom terminal --join-url URL`` as a detention centre runs it: a
process with nothing but the link, the machine's default microphone and
loudspeaker (a private PulseAudio through the real PortAudio path). Its
speech is recognized under its participant; after the hub is killed and
started again it is back in the hearing by itself within 10 s; a revoked
link ends it with a clear message."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path


import httpx
import numpy as np

from aiortc.contrib.media import MediaPlayer

from devices.terminal import Terminal
from tests.media.test_media_hub import segments_of
from tests.support import (ADMIN, SHARED, Client, HubProcess, PrivatePulse, back_after_restart, invites_by_role,
                           run)

PEOPLE = [{"role": "judge", "name": "王法官"}, {"role": "defendant", "name": "李四", "site": "detention"}]


def words(text: str) -> np.ndarray:
    sys.path.insert(0, str(SHARED / "testing"))
    from tonespeech import synthesize  # type: ignore[import-not-found]
    pcm, _ = synthesize([(0.0, 0, text)], rate=48_000, channels=1, pad=0.3)
    return pcm[:, 0]


def tone_wav(tmp_path: Path) -> Path:
    from tests.asr.support import write_wav
    t = np.arange(48_000) / 48_000
    pcm = (0.3 * np.sin(2 * np.pi * 440 * t) * 32767).astype(np.int16).reshape(-1, 1)
    return write_wav(tmp_path / "tone.wav", pcm, 48_000)


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) if len(samples) else 0.0


def start_terminal(pulse: PrivatePulse, join_url: str, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "courtroom.cli", "terminal", "--join-url", join_url],
                            stdout=log.open("ab"), stderr=subprocess.STDOUT,
                            env=pulse.env(source="mic.monitor", sink="speakers"))


async def media_connected(judge: Client, pid: str, timeout: float) -> float:
    """Seconds until presence shows ``pid`` with its microphone connected."""
    t0 = time.monotonic()

    def connected() -> bool:
        states = [m["participants"].get(pid, {}) for m in judge.of_type("presence")]
        return bool(states) and states[-1].get("media") == "connected" and bool(states[-1].get("audio"))
    await judge.wait_for(connected, timeout=timeout)
    return time.monotonic() - t0


async def speak_and_hear(pulse: PrivatePulse, judge: Client, text: str, expected: str) -> None:
    before = len(segments_of(judge))
    player = pulse.play("mic", words(text))
    await judge.wait_for(lambda: any(s["text"] == expected for s in segments_of(judge)[before:]), timeout=20)
    player.wait(10)


def test_the_terminal_joins_by_itself_and_comes_back_after_the_hub(tmp_path: Path, pulse: PrivatePulse) -> None:
    hub = HubProcess.with_speech(tmp_path / "data").start()
    h = hub.create_hearing(PEOPLE)
    inv = invites_by_role(h)
    pid = inv["defendant"]["participant_id"]
    log = tmp_path / "terminal.log"
    terminal = start_terminal(pulse, inv["defendant"]["join_url"], log)

    async def main() -> None:
        judge = await Client.connect(hub.ws_url(h["hearing_id"], inv["judge"]["token"]))
        await media_connected(judge, pid, 30)
        await speak_and_hear(pulse, judge, "被告 答辩 意见", "被告答辩意见。")
        speech = [s for s in segments_of(judge) if s["text"] == "被告答辩意见。"]
        assert speech[0]["speaker"]["participant_id"] == pid
        # The judge speaks from the courtroom: it comes out of the terminal's loudspeaker.
        quiet = await asyncio.to_thread(pulse.record, "speakers.monitor", 1.0)
        judge.terminal = Terminal(judge.send_json, audio=MediaPlayer(tone_wav(tmp_path), loop=True).audio)
        await judge.terminal.join()
        await media_connected(judge, inv["judge"]["participant_id"], 20)
        heard = await asyncio.to_thread(pulse.record, "speakers.monitor", 2.0)
        assert rms(quiet) < 50 and rms(heard) > 1000, (rms(quiet), rms(heard))
        await judge.terminal.close()
        await judge.close()

        judge = await back_after_restart(hub, hub.ws_url(h["hearing_id"], inv["judge"]["token"]),
                                         lambda screen: media_connected(screen, pid, 15))
        await speak_and_hear(pulse, judge, "没有 异议", "没有异议。")
        await judge.close()

    try:
        run(main())
        assert terminal.poll() is None, log.read_text()
        assert "waiting for the hub" in log.read_text()  # it said what it waited for
        # A revoked link: the terminal stops and says why.
        r = httpx.delete(f"{hub.url}/api/hearings/{h['hearing_id']}/participants/{pid}/invite",
                         headers={"Authorization": f"Bearer {ADMIN}"})
        assert r.status_code == 200
        assert terminal.wait(15) == 2
        assert "no longer accepts this terminal's invite" in log.read_text()
    finally:
        if terminal.poll() is None:
            terminal.kill()
        hub.stop()


def test_the_terminal_prints_its_systemd_unit() -> None:
    r = subprocess.run([sys.executable, "-m", "courtroom.cli", "terminal", "--systemd-unit"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and "ExecStart=" in r.stdout and "terminal --join-url" in r.stdout
    assert "Restart=always" in r.stdout
    r = subprocess.run([sys.executable, "-m", "courtroom.cli", "terminal"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "--join-url" in r.stderr



