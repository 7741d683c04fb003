"""Silence is not forwarded (courtroom/media/silence.py): the gate alone,
then through a hub, between two aiortc terminals."""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

import numpy as np
from aiortc.contrib.media import MediaPlayer

from courtroom.media.silence import HANGOVER_FRAMES, KEEPALIVE_EVERY, SILENT_LEVEL, SilenceGate
from tests.media.test_media_hub import PEOPLE, Counter, hang_up, hub, joined  # noqa: F401 (the fixture)
from tests.support import HubProcess, invites_by_role, run


def test_speech_passes_and_silence_after_a_second_passes_one_frame_in_twenty() -> None:
    gate = SilenceGate()
    assert all(gate.audible((False, 30)) for _ in range(100))  # speech
    quiet = [gate.audible((False, 127)) for _ in range(HANGOVER_FRAMES + 200)]
    assert all(quiet[:HANGOVER_FRAMES])  # the second after the last word
    later = quiet[HANGOVER_FRAMES:]
    assert sum(later) == len([n for n in range(HANGOVER_FRAMES + 1, HANGOVER_FRAMES + 201)
                              if n % KEEPALIVE_EVERY == 0])
    assert gate.audible((False, SILENT_LEVEL - 1))  # loud enough again: at once
    assert gate.audible((False, 127))


def test_voice_activity_or_no_level_at_all_always_passes() -> None:
    gate = SilenceGate()
    for _ in range(HANGOVER_FRAMES + 1):
        gate.audible((False, 127))
    assert not gate.audible((False, 127))
    assert gate.audible((True, 127))  # the sender's VAD says voice, whatever the level
    for _ in range(HANGOVER_FRAMES + 1):
        gate.audible((False, 100))
    assert gate.audible(None)  # a publisher that sends no levels is forwarded whole
    assert all(SilenceGate().audible(None) for _ in range(500))


def test_a_publishers_silence_reaches_no_subscriber_but_its_speech_does(hub: HubProcess,  # noqa: F811
                                                                         tmp_path: Path) -> None:
    rate = 48_000
    t = np.arange(rate) / rate
    tone = (0.3 * np.sin(2 * np.pi * 440 * t) * 32767).astype(np.int16)
    pcm = np.concatenate([tone, np.zeros(5 * rate, np.int16), tone])  # 1 s, 5 s silence, 1 s
    wav = tmp_path / "tone.wav"
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())

    async def main() -> None:
        h = hub.create_hearing(PEOPLE)
        frames = Counter()
        judge, jt = await joined(hub, h, "judge", on_track=frames)
        party, pt = await joined(hub, h, "plaintiff", audio=MediaPlayer(str(wav)).audio)
        pid = invites_by_role(h)["plaintiff"]["participant_id"]
        await judge.wait_for(lambda: frames.frames.get((pid, "audio"), 0) > 0, timeout=20)
        await asyncio.sleep(7.5)
        got = frames.frames[(pid, "audio")]
        # Sent: 350 frames of 20 ms. Forwarded: the first tone (50), the second
        # after it (50), one in twenty of the other 4 s of silence (10), the
        # second tone (50): about 160, give or take what was in flight.
        assert 130 <= got <= 200, got
        await hang_up((judge, jt), (party, pt))
    run(main())
