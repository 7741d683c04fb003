"""The live composer on recordings (courtroom/live/composer.py): segments
on the hearing's clock, each opening with a keyframe; the speaker large
from the sound; a protected participant masked and heard lower; and when
run, no segment out before the delay has passed over its end."""

from __future__ import annotations

import fractions
import threading
import time
from pathlib import Path

import av
import numpy as np
import pytest

from courtroom.composition.compose import Person
from courtroom.live.composer import Composer
from courtroom.live.control import Control, write
from tests.composition.test_compose import PEOPLE, dominant, write_audio, write_video

RATE = 48_000


def write_texture(path: Path, duration: float) -> None:
    """A picture full of detail (a fine checkerboard), for the mosaic to flatten."""
    with av.open(str(path), "w", format="webm") as out:
        stream = out.add_stream("libvpx", rate=30)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        stream.time_base = fractions.Fraction(1, 90_000)
        board = ((np.indices((240, 320)).sum(0) // 8) % 2 * 200 + 28).astype(np.uint8)
        for i in range(int(duration * 30)):
            frame = av.VideoFrame.from_ndarray(np.stack([board] * 3, -1), format="rgb24")
            frame.pts, frame.time_base = i * 3000, fractions.Fraction(1, 90_000)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))


@pytest.fixture()
def recorded(tmp_path: Path) -> Path:
    """Judge (red, 440 Hz, 1–3 s), plaintiff (a checkerboard, 880 Hz,
    4–6 s), defendant (no camera, 1320 Hz, 7–8 s), recorded from 0."""
    folder = tmp_path / "recordings" / "h-1"
    folder.mkdir(parents=True)
    for role, (colour, freq, speaks) in PEOPLE.items():
        write_audio(folder / f"p-{role}-audio-{0:012d}.ogg", freq, speaks, 0.0)
        if role == "plaintiff":
            write_texture(folder / f"p-{role}-video-{0:012d}.webm", 9.0)
        elif colour is not None:
            write_video(folder / f"p-{role}-video-{0:012d}.webm", colour, 0.0)
    return folder


def control(tmp_path: Path, folder: Path, started: float, protected: list[str], delay: int = 10) -> Path:
    path = tmp_path / "control.json"
    write(path, Control("h-1", 1, delay, started, str(folder), str(tmp_path / "public"),
                        [Person(f"p-{r}", f"{r} 姓名", r) for r in PEOPLE], protected, "（2026）京0105民初1号"))
    return path


def compose(tmp_path: Path, folder: Path, protected: list[str]) -> tuple[list[av.VideoFrame], np.ndarray, str]:
    """Segments 0–3 (the hearing's first 8 s) composed at once."""
    composer = Composer(control(tmp_path, folder, 1000.0, protected), clock=lambda: 1000.0)
    try:
        paths = [composer.segment(n) for n in range(4)]
    finally:
        composer.close()
    frames, sound = [], []
    for path in paths:
        with av.open(str(path)) as c:
            decoded = list(c.decode(video=0))
            assert decoded[0].key_frame  # each segment opens with a keyframe
            frames += decoded
        with av.open(str(path)) as c:
            sound += [f.to_ndarray().reshape(-1) for f in c.decode(audio=0)]
    return frames, np.concatenate(sound), (tmp_path / "public" / "index.m3u8").read_text()


def big_tile(frame: av.VideoFrame) -> np.ndarray:
    return frame.to_ndarray(format="rgb24")[40:260, 120:520].astype(np.int32)


def detail(image: np.ndarray) -> float:
    """How much neighbouring pixels differ: a checkerboard's is high."""
    return float(np.abs(np.diff(image.mean(2), axis=1)).mean())


def test_segments_follow_the_speaker_on_the_hearings_clock(recorded: Path, tmp_path: Path) -> None:
    frames, sound, playlist = compose(tmp_path, recorded, [])
    times = [float(f.pts * f.time_base) for f in frames]
    assert len(frames) == 200 and abs(times[0]) < 0.05 and abs(times[-1] - 7.96) < 0.05
    assert "seg-00000003.ts" in playlist and "#EXT-X-PROGRAM-DATE-TIME:1970-01-01T00:16:46.000Z" in playlist
    by_time = dict(zip(times, frames))
    red = big_tile(by_time[min(times, key=lambda t: abs(t - 2.0))]).mean((0, 1))
    assert red[0] > 150 and red[2] < 60  # the judge, large while speaking
    # The plaintiff's turn starts at 4 s: large from then, not 1.5 s later.
    assert detail(big_tile(by_time[min(times, key=lambda t: abs(t - 4.2))])) > 20
    # The defendant's second is too short a turn: the plaintiff holds.
    assert detail(big_tile(by_time[min(times, key=lambda t: abs(t - 7.5))])) > 20
    for start, freq in ((1.2, 440), (4.2, 880), (7.2, 1320)):
        assert abs(dominant(sound[int(start * RATE):int((start + 0.5) * RATE)]) - freq) < 10


def test_a_protected_participant_is_masked_and_heard_lower(recorded: Path, tmp_path: Path) -> None:
    frames, sound, _ = compose(tmp_path, recorded, ["p-plaintiff"])
    times = [float(f.pts * f.time_base) for f in frames]
    plaintiff = big_tile(frames[min(range(len(times)), key=lambda k: abs(times[k] - 5.0))])
    assert detail(plaintiff) < 3  # a few flat cells, not a checkerboard
    assert abs(dominant(sound[int(4.2 * RATE):int(4.7 * RATE)]) - 880 * 0.8) < 10
    assert abs(dominant(sound[int(1.2 * RATE):int(1.7 * RATE)]) - 440) < 10  # the others as they are


def test_nothing_goes_out_before_the_delay_has_passed(recorded: Path, tmp_path: Path) -> None:
    delay = 1
    started = time.time()
    composer = Composer(control(tmp_path, recorded, started, [], delay=delay))
    public = tmp_path / "public"
    seen: dict[str, float] = {}
    runner = threading.Thread(target=composer.run)
    runner.start()
    try:
        while len(seen) < 2:
            assert time.time() - started < 20
            for path in public.glob("seg-*.ts"):
                seen.setdefault(path.name, time.time())
            time.sleep(0.05)
    finally:
        composer.close()
        runner.join()
    for name, when in seen.items():
        n = int(name[4:12])
        assert when - started >= (n + 1) * 2 + delay, (name, when - started)


def test_people_who_join_after_the_stream_started_are_heard_and_seen_at_their_time(tmp_path: Path) -> None:
    """The stream starts with nobody recorded yet; the judge and the
    plaintiff join at second 2: their sound lands at its time and the
    plaintiff's turn at 4 s still moves the picture where it starts."""
    folder = tmp_path / "recordings" / "h-1"
    folder.mkdir(parents=True)
    composer = Composer(control(tmp_path, folder, 1000.0, []), clock=lambda: 1000.0)
    try:
        first = composer.segment(0)
        for role in ("judge", "plaintiff"):
            colour, freq, speaks = PEOPLE[role]
            write_audio(folder / f"p-{role}-audio-{2000:012d}.ogg", freq, speaks, 2.0)
            if role == "judge":
                write_video(folder / f"p-{role}-video-{2000:012d}.webm", colour, 2.0)
            else:
                write_texture(folder / f"p-{role}-video-{2000:012d}.webm", 7.0)
        paths = [first] + [composer.segment(n) for n in range(1, 4)]
    finally:
        composer.close()
    frames, sound = [], []
    for path in paths:
        with av.open(str(path)) as c:
            frames += list(c.decode(video=0))
        with av.open(str(path)) as c:
            sound += [f.to_ndarray().reshape(-1) for f in c.decode(audio=0)]
    mixed = np.concatenate(sound)
    assert np.abs(mixed[:int(1.9 * RATE)]).max() < 0.01  # nobody yet
    assert abs(dominant(mixed[int(2.2 * RATE):int(2.7 * RATE)]) - 440) < 10
    assert abs(dominant(mixed[int(4.2 * RATE):int(4.7 * RATE)]) - 880) < 10
    times = [float(f.pts * f.time_base) for f in frames]
    at = {t: f for t, f in zip(times, frames)}
    assert big_tile(at[min(times, key=lambda t: abs(t - 3.0))]).mean((0, 1))[0] > 150  # the judge
    assert detail(big_tile(at[min(times, key=lambda t: abs(t - 4.3))])) > 20  # the plaintiff, from 4 s
