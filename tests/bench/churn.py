"""Screens coming and going against a real ``courtroom serve`` process.

    python -m tests.bench.churn [--churners 197] [--seconds 10]

A hearing of 200 participants: three stay connected and write (the clerk
adds segments, the judge and the plaintiff annotate, 10 ops/s each) while
the others connect, sync, stay a moment and leave, over and over, from a
second process. Prints op→ack at the writers (p50/p99/max) with the churn
and, as the baseline in the same run, without it; the churn rate; and
whether a writer was ever dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import websockets

from tests.support import HubProcess, invites_by_role

WRITERS = ("clerk", "judge", "plaintiff")
RATE = 10.0  # ops/s per writer
TEXT = "原告认为被告未按合同约定的期限交付货物，应当承担违约责任。"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def writer(url: str, role: str, seconds: float, acks: list[float], dropped: list[str],
                 ready: asyncio.Barrier) -> None:
    async with websockets.connect(url, max_size=2**24) as ws:
        await ws.recv()
        await ws.send(json.dumps({"type": "sync", "since": 0}))
        while json.loads(await ws.recv())["type"] != "synced":
            pass
        await ready.wait()  # all writers are in the hearing: now measure
        sent: dict[str, float] = {}

        async def read() -> None:
            async for raw in ws:
                msg = json.loads(raw)
                if msg["type"] in ("ack", "nack") and msg["op_id"] in sent:
                    if msg["type"] == "ack":
                        acks.append(time.perf_counter() - sent.pop(msg["op_id"]))
                    else:
                        sent.pop(msg["op_id"])
        reader = asyncio.create_task(read())
        end, n = time.perf_counter() + seconds, 0
        while time.perf_counter() < end:
            n += 1
            op_id = f"{role}-{time.time_ns()}-{n}"
            op = ({"kind": "segment.add", "text": TEXT} if role == "clerk" else
                  {"kind": "annotation.add", "segment_id": "S1", "start": 0, "end": 4, "style": "highlight"})
            sent[op_id] = time.perf_counter()
            await ws.send(json.dumps({"type": "op", "op_id": op_id, "op": op}))
            await asyncio.sleep(1 / RATE)
        await asyncio.sleep(1)
        if reader.done():
            dropped.append(role)
        reader.cancel()


def churn(urls: list[str], seconds: float, counter: Any, batch: bool) -> None:
    """In its own process: every URL's screen connects, syncs from the start
    (as a page that was reloaded), stays up to a second and leaves, again
    and again; ``batch``: the catch-up batched, as the hub's own page asks."""
    async def one(url: str) -> None:
        rng = random.Random(url)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                async with websockets.connect(url, max_size=2**24, open_timeout=10) as ws:
                    await ws.recv()
                    await ws.send(json.dumps({"type": "sync", "since": 0, "batch": batch}))
                    async with asyncio.timeout(rng.uniform(0.1, 1.0)):
                        async for _ in ws:
                            pass
            except (TimeoutError, OSError, websockets.WebSocketException):
                pass
            with counter.get_lock():
                counter.value += 1

    async def all_of_them() -> None:
        await asyncio.gather(*(one(u) for u in urls))
    asyncio.run(all_of_them())


async def measure(hub: HubProcess, h: dict[str, Any], seconds: float) -> tuple[list[float], list[str]]:
    inv = invites_by_role(h)
    acks: list[float] = []
    dropped: list[str] = []
    ready = asyncio.Barrier(len(WRITERS))
    await asyncio.gather(*(writer(hub.ws_url(h["hearing_id"], inv[r]["token"]), r, seconds, acks, dropped, ready)
                           for r in WRITERS))
    return acks, dropped


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--churners", type=int, default=197)
    p.add_argument("--seconds", type=float, default=10.0)
    args = p.parse_args()
    people = [{"role": r, "name": n} for r, n in (("judge", "王法官"), ("clerk", "李书记员"), ("plaintiff", "张三"))]
    people += [{"role": "observer", "name": f"旁听者{k}"} for k in range(args.churners)]
    with tempfile.TemporaryDirectory() as tmp:
        hub = HubProcess(Path(tmp) / "data").start()
        try:
            h = hub.create_hearing(people)
            hid = h["hearing_id"]
            baseline, _ = asyncio.run(measure(hub, h, args.seconds))
            urls = [hub.ws_url(hid, i["token"]) for i in h["invites"] if i["role"] == "observer"]
            results = {batch: with_churn(hub, h, urls, args.seconds, batch) for batch in (False, True)}
        finally:
            hub.stop()

    def line(acks: list[float]) -> str:
        return (f"p50 {statistics.median(acks) * 1e3:.1f} ms, p99 {percentile(acks, 0.99) * 1e3:.1f} ms, "
                f"max {max(acks) * 1e3:.1f} ms ({len(acks)} acks)")
    print(f"churn: {len(WRITERS)} writers at {RATE:.0f} ops/s each; {args.churners} screens connecting, "
          f"syncing from the start and leaving")
    print(f"  baseline, no churn:          op→ack {line(baseline)}")
    for batch, (acks, dropped, rate, cpu) in results.items():
        how = "batched catch-up (the page)" if batch else "event-per-message catch-up"
        print(f"  churn, {how}: {rate:.0f} connections/s, hub {cpu:.2f} CPU-s/s; op→ack {line(acks)} "
              f"(p99 {percentile(acks, 0.99) / percentile(baseline, 0.99):.1f}x baseline); "
              f"writers dropped: {len(dropped)}")


def with_churn(hub: HubProcess, h: dict[str, Any], urls: list[str], seconds: float,
               batch: bool) -> tuple[list[float], list[str], float, float]:
    """The writers' acks while the others churn: acks, writers dropped,
    connections per second, the hub's CPU-s/s."""
    spawn = multiprocessing.get_context("spawn")
    counter = spawn.Value("i", 0)
    churner = spawn.Process(target=churn, args=(urls, seconds + 3, counter, batch))
    churner.start()
    time.sleep(2)  # the churn is under way
    started, cpu0, t0 = counter.value, hub.cpu_seconds(), time.monotonic()
    acks, dropped = asyncio.run(measure(hub, h, seconds))  # the writers join during the churn, then measure
    elapsed = time.monotonic() - t0
    rate, cpu = (counter.value - started) / elapsed, (hub.cpu_seconds() - cpu0) / elapsed
    churner.join()
    return acks, dropped, rate, cpu


if __name__ == "__main__":
    main()
