"""Composing recordings into one MP4: duration, each speaker's audio at its
time, the speaker shown large, subtitles from the transcript, and a
composition stopped midway going on from its last whole part."""

from __future__ import annotations

import fractions
from pathlib import Path

import av
import numpy as np
import pytest

from courtroom.composition import compose as composing
from courtroom.composition.compose import Person, Plan, compose, read_progress
from courtroom.composition.timeline import Speech
from courtroom.media.recording import OggOpusWriter, recordings
from transcript.subtitles import Cue

RATE = 48_000
#: Each participant: picture colour (RGB), tone (Hz) and when they speak.
PEOPLE = {"judge": ((230, 30, 30), 440, (1.0, 3.0)), "plaintiff": ((30, 30, 230), 880, (4.0, 6.0)),
          "defendant": (None, 1320, (7.0, 8.0))}
DURATION = 9.0


def write_audio(path: Path, freq: int, speaks: tuple[float, float], start: float) -> None:
    enc = av.CodecContext.create("libopus", "w")
    enc.sample_rate, enc.layout, enc.format = RATE, "mono", "s16"
    enc.time_base = fractions.Fraction(1, RATE)
    with open(path, "wb") as f:
        writer = OggOpusWriter(f, serial=1)
        for i in range(int((DURATION - start) * 50)):
            t = start + (np.arange(960) + i * 960) / RATE
            on = (t >= speaks[0]) & (t < speaks[1])
            s = (np.sin(2 * np.pi * freq * t) * 9000 * on).astype(np.int16)
            frame = av.AudioFrame.from_ndarray(s.reshape(1, -1), format="s16", layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = RATE, i * 960, fractions.Fraction(1, RATE)
            for p in enc.encode(frame):
                writer.write(bytes(p))
        writer.flush(last=True)


def write_video(path: Path, colour: tuple[int, int, int], start: float) -> None:
    with av.open(str(path), "w", format="webm") as out:
        stream = out.add_stream("libvpx", rate=30)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        stream.time_base = fractions.Fraction(1, 90_000)
        for i in range(int((DURATION - start) * 30)):
            img = np.empty((240, 320, 3), np.uint8)
            img[:] = colour
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts, frame.time_base = i * 3000, fractions.Fraction(1, 90_000)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))


@pytest.fixture()
def plan(tmp_path: Path) -> Plan:
    folder = tmp_path / "recordings"
    folder.mkdir()
    for k, (pid, (colour, freq, speaks)) in enumerate(PEOPLE.items()):
        start = 0.5 * k
        write_audio(folder / f"{pid}-audio-{int(start * 1000):012d}.ogg", freq, speaks, start)
        if colour is not None:
            write_video(folder / f"{pid}-video-{int(start * 1000):012d}.webm", colour, start)
    return Plan(people=[Person(pid, f"{pid} 某某") for pid in PEOPLE], recordings=recordings(folder),
                duration=DURATION, width=640, height=360,
                speech=[Speech(pid, *speaks) for pid, (_, _, speaks) in PEOPLE.items()],
                cues=[Cue(1.0, 3.0, "现在开庭", speaker="审判长"), Cue(4.0, 6.0, "陈述诉讼请求", speaker="原告")],
                caption="(2026)京0105民初1号")


@pytest.fixture()
def rendered(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The parts rendered, in order, as the test goes."""
    parts: list[int] = []
    render = composing.Renderer.render

    def counted(self: composing.Renderer, k: int, path: Path) -> None:
        parts.append(k)
        render(self, k, path)
    monkeypatch.setattr(composing.Renderer, "render", counted)
    return parts


def dominant(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.argmax(spectrum) * RATE / len(samples))


def test_one_mp4_with_each_speaker_in_picture_and_sound_at_their_time(plan: Plan, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(composing, "PART_SECONDS", 4)
    video = compose(plan, tmp_path / "out")
    with av.open(str(video)) as c:
        kinds = sorted((s.type, s.codec_context.name) for s in c.streams)
        assert kinds == [("audio", "aac"), ("subtitle", "mov_text"), ("video", "h264")]
        assert float(c.streams.video[0].duration * c.streams.video[0].time_base) == pytest.approx(DURATION, abs=0.1)
        frames = {round(float(f.time), 2): f.to_ndarray(format="rgb24") for f in c.decode(video=0)}
    assert len(frames) == DURATION * 25
    main = (slice(60, 200), slice(200, 440))  # the middle of the large picture
    judge = frames[2.0][main].reshape(-1, 3).mean(0)
    plaintiff = frames[5.0][main].reshape(-1, 3).mean(0)
    assert judge[0] > 150 and judge[2] < 80, judge
    assert plaintiff[2] > 150 and plaintiff[0] < 80, plaintiff
    with av.open(str(video)) as c:
        pcm = np.concatenate([f.to_ndarray().reshape(-1) for f in c.decode(audio=0)])
    assert len(pcm) / RATE == pytest.approx(DURATION, abs=0.1)
    for at, freq in ((2.0, 440), (5.0, 880), (7.5, 1320)):
        window = pcm[int(at * RATE):int(at * RATE) + 4800]
        assert dominant(window) == pytest.approx(freq, abs=20)
    assert np.abs(pcm[int(3.5 * RATE):int(3.7 * RATE)]).max() < 0.02  # nobody speaks
    with av.open(str(video)) as c:
        texts = [(p.pts, bytes(p)[2:].decode()) for p in c.demux(c.streams.subtitles[0]) if p.size > 2]
    assert texts == [(1000, "审判长：现在开庭"), (4000, "原告：陈述诉讼请求")]
    assert read_progress(tmp_path / "out") == {"state": "done", "done": 4, "steps": 4, "fraction": 1.0}


def test_a_stopped_composition_goes_on_from_its_last_whole_part(plan: Plan, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(composing, "PART_SECONDS", 4)
    folder = tmp_path / "out"

    def crash(fraction: float) -> None:
        raise KeyboardInterrupt  # the process stopped after its first part

    with pytest.raises(KeyboardInterrupt):
        compose(plan, folder, crash)
    first = composing.part_path(folder, 0)
    assert first.exists() and not composing.part_path(folder, 1).exists()
    assert read_progress(folder) == {"state": "composing", "done": 1, "steps": 4, "fraction": 0.25}
    written = first.stat().st_mtime_ns
    video = compose(plan, folder)
    assert first.stat().st_mtime_ns == written  # kept, not rendered again
    with av.open(str(video)) as c:
        assert sum(1 for _ in c.decode(video=0)) == DURATION * 25  # every part, once


def test_two_compositions_of_one_hearing_make_it_once(plan: Plan, tmp_path: Path, rendered: list[int]) -> None:
    """Two workers (or nodes) asked at once: one composes, the other waits
    on the folder's lock and finds the video made."""
    from concurrent.futures import ThreadPoolExecutor

    from courtroom.composition import service
    with ThreadPoolExecutor(2) as pool:
        paths = list(pool.map(lambda _: service.run(plan, tmp_path / "out"), range(2)))
    assert paths[0] == paths[1] and Path(paths[0]).exists()
    assert sorted(rendered) == list(range(plan.parts))


def test_closing_stops_a_composition_at_once(plan: Plan, tmp_path: Path) -> None:
    """The hub stops without waiting for a video; what was composed stays."""
    import dataclasses
    import time

    from courtroom.composition.service import Compositions
    long = dataclasses.replace(plan, duration=0.0)
    compositions = Compositions(tmp_path / "compositions")
    compositions.start("h-1", list(long.people), long.recordings[0].path.parent,
                       width=1920, height=1080, **{k: getattr(long, k) for k in ("speech", "cues", "caption")})
    assert compositions.status("h-1")["state"] == "composing"
    time.sleep(1.0)  # the composing process is up
    assert compositions._pool is not None
    processes = list(compositions._pool._processes.values())  # type: ignore[attr-defined]
    import os
    from courtroom.composition.service import NICE
    assert [os.getpriority(os.PRIO_PROCESS, p.pid) - os.getpriority(os.PRIO_PROCESS, 0) for p in processes] == [NICE]
    t0 = time.monotonic()
    compositions.close()
    assert time.monotonic() - t0 < 5 and compositions.video("h-1") is None
    assert processes and not any(p.is_alive() for p in processes)  # not left to finish at the hub's exit


def test_parts_composed_during_the_hearing_are_kept_by_the_video(plan: Plan, tmp_path: Path, rendered: list[int],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses
    monkeypatch.setattr(composing, "PART_SECONDS", 4)
    folder = tmp_path / "out"
    # Second 8.5 of the hearing: two whole parts; the third is not over.
    assert composing.compose_ahead(dataclasses.replace(plan, duration=8.5), folder) == 2
    assert rendered == [0, 1] and not (folder / composing.FINAL).exists()
    assert composing.compose_ahead(dataclasses.replace(plan, duration=8.7), folder) == 2
    assert rendered == [0, 1]  # nothing new
    video = compose(plan, folder)  # 闭庭: the last part and the mix
    assert rendered == [0, 1, 2]
    with av.open(str(video)) as c:
        assert sum(1 for _ in c.decode(video=0)) == DURATION * 25


def test_the_video_asked_for_while_parts_are_made_ahead_follows_them(plan: Plan, tmp_path: Path) -> None:
    import time

    from courtroom.composition.service import Compositions
    compositions = Compositions(tmp_path / "compositions")
    args = {k: getattr(plan, k) for k in ("speech", "cues", "caption")}
    folder = plan.recordings[0].path.parent
    try:
        compositions.ahead("h-1", list(plan.people), folder, upto=8.0, **args)
        compositions.start("h-1", list(plan.people), folder, **args)  # 闭庭 while that runs
        assert "h-1" in compositions._pending  # waits for the job ahead (its process is still starting)
        assert compositions.status("h-1")["state"] == "composing"
        deadline = time.monotonic() + 60
        while compositions.video("h-1") is None:
            assert time.monotonic() < deadline and compositions.take_failure("h-1") is None
            time.sleep(0.2)
        assert compositions.status("h-1") == {"state": "done", "fraction": 1.0}
    finally:
        compositions.close()
