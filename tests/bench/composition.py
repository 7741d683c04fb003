"""Composing a hearing's recordings into one video: speed as a ratio to
real time, at 1280×720 and 640×360, against reading the same recordings
(decoding every picture and sound, composing nothing) in the same run.

    python -m tests.bench.composition [--minutes 3] [--people 3]

The recordings are what the hub writes: per participant a WebM of
640×480 VP8 at 30 fps (~500 kb/s, a keyframe a second; 10 s of a moving
picture encoded once and repeated) and an Ogg Opus file of speech-like
tone bursts; the speakers take turns of 20 s. The composer runs as the hub
runs it: in this process, x264 on its own threads.
"""

from __future__ import annotations

import argparse
import asyncio
import fractions
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np

from courtroom.composition.compose import Person, Plan, compose
from courtroom.composition.sources import Pictures, Sound
from courtroom.composition.timeline import Speech
from courtroom.media.recording import OggOpusWriter, recordings
from tests.bench.media_forwarding import encoded
from transcript.subtitles import Cue

RATE = 48_000
TURN = 20.0


def write_video(path: Path, packets: list[bytes], seconds: float) -> None:
    with av.open(str(path), "w", format="webm") as out:
        stream = out.add_stream("libvpx", rate=30)
        stream.width, stream.height = 640, 480
        stream.time_base = fractions.Fraction(1, 90_000)
        for n in range(int(seconds * 30)):
            packet = av.Packet(packets[n % len(packets)])
            packet.pts = packet.dts = n * 3000
            packet.time_base = stream.time_base
            packet.is_keyframe = n % 30 == 0
            packet.stream = stream
            out.mux(packet)


def write_audio(path: Path, seconds: float, speaks: list[tuple[float, float]], freq: float) -> None:
    enc = av.CodecContext.create("libopus", "w")
    enc.sample_rate, enc.layout, enc.format = RATE, "mono", "s16"
    enc.time_base = fractions.Fraction(1, RATE)
    with open(path, "wb") as f:
        writer = OggOpusWriter(f, serial=1)
        for i in range(int(seconds * 50)):
            t = (np.arange(960) + i * 960) / RATE
            on = np.zeros(960, bool)
            for a, b in speaks:
                on |= (t >= a) & (t < b)
            s = (np.sin(2 * np.pi * freq * t) * 8000 * on * (np.sin(2 * np.pi * 3 * t) > -0.5)).astype(np.int16)
            frame = av.AudioFrame.from_ndarray(s.reshape(1, -1), format="s16", layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = RATE, i * 960, fractions.Fraction(1, RATE)
            for p in enc.encode(frame):
                writer.write(bytes(p))
        writer.flush(last=True)


async def make(folder: Path, people: int, seconds: float) -> Plan:
    folder.mkdir(parents=True)
    video = await encoded("video", 10)
    ids = [f"p{k}" for k in range(people)]
    speech, cues = [], []
    for k, start in enumerate(np.arange(0, seconds, TURN)):
        speaker = ids[k % people]
        speech.append(Speech(speaker, float(start), float(min(seconds, start + TURN - 2))))
        cues.append(Cue(float(start), float(min(seconds, start + TURN - 2)), f"第{k + 1}段发言", speaker))
    for k, pid in enumerate(ids):
        write_video(folder / f"{pid}-video-{0:012d}.webm", video, seconds)
        write_audio(folder / f"{pid}-audio-{0:012d}.ogg", seconds,
                    [(s.start, s.end) for s in speech if s.participant_id == pid], 300 + 150 * k)
    return Plan(people=[Person(pid, f"参与人{pid}") for pid in ids], recordings=recordings(folder),
                duration=seconds, speech=speech, cues=cues, caption="(2026)京0105民初1号 北京市朝阳区人民法院",
                started=time.time())


def read_all(plan: Plan) -> float:
    """The baseline: decode every picture and all sound, compose nothing."""
    t0 = time.perf_counter()
    for person in plan.people:
        mine = [r for r in plan.recordings if r.participant_id == person.participant_id]
        pictures = Pictures(mine)
        for n in range(int(plan.duration * 30)):
            pictures.at(n / 30)
        sound = Sound(mine)
        for at in range(0, int(plan.duration * RATE), RATE):
            sound.take(at, RATE)
    return time.perf_counter() - t0


def timed(plan: Plan, folder: Path) -> tuple[float, float]:
    """Wall seconds and this process's CPU seconds to compose."""
    t0, c0 = time.perf_counter(), time.process_time()
    compose(plan, folder)
    return time.perf_counter() - t0, time.process_time() - c0


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=3.0)
    p.add_argument("--people", type=int, default=3)
    p.add_argument("--runs", type=int, default=2)
    args = p.parse_args()
    seconds = args.minutes * 60
    with tempfile.TemporaryDirectory() as tmp:
        base = await make(Path(tmp) / "recordings", args.people, seconds)
        print(f"composition: {args.people} participants, {args.minutes:g} min of recordings, {os.cpu_count()} cores, "
              f"median of {args.runs} runs")
        baseline = statistics.median(read_all(base) for _ in range(args.runs))
        print(f"  reading the recordings (decode everything, compose nothing): {baseline:.1f} s, "
              f"{seconds / baseline:.1f}× real time")
        for width, height in ((1280, 720), (640, 360)):
            plan = Plan(**{**base.__dict__, "width": width, "height": height})
            runs = [timed(plan, Path(tmp) / f"out-{width}-{k}") for k in range(args.runs)]
            wall = statistics.median(r[0] for r in runs)
            cpu = statistics.median(r[1] for r in runs)
            size = (Path(tmp) / f"out-{width}-0" / "video.mp4").stat().st_size
            print(f"  {width}×{height}: {wall:.1f} s wall, {cpu:.1f} CPU-s: {seconds / wall:.1f}× real time "
                  f"({cpu / seconds:.2f} CPU-s per hearing second; {wall / baseline:.1f}× the reading alone); "
                  f"{size * 8 / seconds / 1000:.0f} kb/s")
            sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(main())
