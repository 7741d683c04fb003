"""The live stream's cost: CPU of composing one hearing live, at 640×360
and 1280×720, against reading the same recordings (decoding every picture
and sound, composing nothing) in the same run.

    python -m tests.bench.live [--people 3] [--seconds 60]

Two figures per size:
- burst: the composer in this process makes every segment of the
  recordings back to back; CPU seconds (all its threads) per second of
  hearing.
- as the hub runs it: ``python -m courtroom.live.composer`` as a process
  of its own, composing the hearing a fixed delay behind the (simulated)
  courtroom for ``--seconds``; its CPU seconds over the wall seconds it
  ran (start-up included), from the kernel's account of the child.

The recordings are those of ``tests.bench.composition``: per participant
640×480 VP8 at 30 fps and Opus speech-like tone bursts, in turns of 20 s;
one participant protected (masked, voice changed), as in a hearing with a
witness.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from courtroom.composition.compose import Person
from courtroom.live.composer import Composer
from courtroom.live.control import Control, write
from courtroom.live.playlist import SEGMENT
from tests.bench.composition import make, read_all


def control(tmp: Path, folder: Path, people: int, size: tuple[int, int], started: float, delay: int,
            name: str) -> Path:
    path = tmp / f"{name}.json"
    ids = [f"p{k}" for k in range(people)]
    write(path, Control("h-bench", 1, delay, started, str(folder), str(tmp / name),
                        [Person(pid, f"参与人 {pid}", "参与人") for pid in ids], [ids[-1]],
                        "(2026)京0105民初1号 北京市朝阳区人民法院", size[0], size[1], 25))
    return path


def burst(tmp: Path, folder: Path, people: int, seconds: float, size: tuple[int, int], k: int) -> float:
    """CPU seconds per hearing second, composing every segment at once."""
    started = 1_000_000.0
    composer = Composer(control(tmp, folder, people, size, started, 10, f"burst-{size[0]}-{k}"),
                        clock=lambda: started)
    c0 = time.process_time()
    try:
        for n in range(int(seconds // SEGMENT)):
            composer.segment(n)
    finally:
        composer.close()
    return (time.process_time() - c0) / (int(seconds // SEGMENT) * SEGMENT)


def as_hub(tmp: Path, folder: Path, people: int, seconds: float, size: tuple[int, int]) -> tuple[float, int]:
    """The composer process's CPU over its wall time, and the hearing
    second its stream reached (``delay`` behind)."""
    delay = 2
    path = control(tmp, folder, people, size, time.time(), delay, f"live-{size[0]}")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "courtroom.live.composer", str(path)],
                               stderr=subprocess.DEVNULL)
    time.sleep(seconds)
    process.kill()
    process.wait()
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # Old segments are deleted as the playlist slides: the last one's number
    # says how far the stream got (segment n ends at second 2n + 2).
    numbers = [int(p.name[4:12]) for p in (tmp / f"live-{size[0]}").glob("seg-*.ts")]
    return cpu / wall, (max(numbers) + 1) * SEGMENT if numbers else 0


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--people", type=int, default=3)
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        # Recordings longer than the real-time run, which starts at second 0.
        folder = tmp / "recordings"
        plan = await make(folder, args.people, args.seconds + 10)
        print(f"live stream: {args.people} participants (one protected), {os.cpu_count()} cores, "
              f"median of {args.runs} runs")
        c0 = time.process_time()
        for _ in range(args.runs):
            read_all(plan)
        baseline = (time.process_time() - c0) / args.runs / plan.duration
        print(f"  reading the recordings (decode everything, compose nothing): {baseline:.3f} CPU-s per second")
        for size in ((640, 360), (1280, 720)):
            cost = statistics.median(burst(tmp, folder, args.people, args.seconds, size, k)
                                     for k in range(args.runs))
            print(f"  {size[0]}×{size[1]} burst: {cost:.3f} CPU-s per hearing second "
                  f"({cost / baseline:.1f}× the reading alone)")
            sys.stdout.flush()
            cores, made = as_hub(tmp, folder, args.people, args.seconds, size)
            print(f"  {size[0]}×{size[1]} as the hub runs it: {cores:.3f} cores over {args.seconds:g} s "
                  f"(streamed up to second {made} of the hearing, 2 s behind; start-up included)")
            sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(main())
