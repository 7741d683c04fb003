"""Cluster benchmark: three hub nodes on this machine (one PostgreSQL, one
Redis, all started here), 20 hearings × 25 screens.

    python -m tests.bench.cluster [--hearings 20] [--screens 25] [--rate 10] [--seconds 10]

Prints:

* op→event latency (p50/p99) at screens on the hearing's own node (its
  authority) and at screens on the other two nodes (mirrors fed through
  Redis), while one writer per hearing sends ``annotation.add`` at
  ``--rate`` ops/s (from a screen on a mirror, so every op is forwarded);
* durable ops/s of the cluster at saturation (a writer per hearing keeping
  32 ops in flight);
* failover: ``kill -9`` of one node; for each of its hearings, the time
  until a writer on another node has an op acknowledged again;
* one node alone, SQLite against PostgreSQL, in the same run: durable
  ops/s at saturation and op→event latency (5 writers, 20 watchers).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.bench.transcript_sync import SEGMENT_TEXT, Screen, annotate_at_rate, annotation, percentile
from tests.servers import PrivatePostgres, PrivateRedis
from tests.support import UNLIMITED, HubProcess, cpu_seconds, machine_busy

WRITERS = ["plaintiff", "defendant", "agent", "agent", "witness"]


def people(watchers: int) -> list[dict[str, str]]:
    return ([{"role": "judge", "name": "王法官"}, {"role": "clerk", "name": "李书记员"}]
            + [{"role": r, "name": f"{r}{i}"} for i, r in enumerate(WRITERS)]
            + [{"role": "observer", "name": f"旁听{i}"} for i in range(watchers)])


async def seed(url: str) -> Screen:
    """A clerk's screen, and the lines the annotations point at."""
    clerk = await Screen.open(url)
    for n in range(20):
        await clerk.send_op(f"seg-{n}", {"kind": "segment.add", "text": SEGMENT_TEXT})
    while len(clerk.acks) < 20:
        await asyncio.sleep(0.01)
    return clerk


async def saturate(screens: list[Screen], seconds: float, rng: random.Random, window: int = 32) -> float:
    """Durable ops/s with every screen keeping ``window`` ops in flight."""
    until = time.perf_counter() + seconds
    before = sum(len(s.acks) for s in screens)

    async def one(screen: Screen, name: str) -> None:
        n = 0
        while time.perf_counter() < until:
            while n - sum(1 for k in screen.acks if k.startswith(name)) - screen.nacks >= window:
                await asyncio.sleep(0.001)
            n += 1
            await screen.send_op(f"{name}-{n}", annotation(rng))
    t0 = time.perf_counter()
    await asyncio.gather(*(one(s, f"sat{i}") for i, s in enumerate(screens)))
    await asyncio.sleep(1)
    return (sum(len(s.acks) for s in screens) - before) / (time.perf_counter() - t0)


def latencies(writer: Screen, screens: list[Screen], first_seq: int) -> list[float]:
    sent_at = {writer.acks[k]: t for k, t in writer.sent.items() if k in writer.acks}
    return [arrived - sent_at[seq] for s in screens for seq, arrived in s.arrivals.items()
            if seq >= first_seq and seq in sent_at]


async def cluster_phase(nodes: list[HubProcess], args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(14)
    watchers = args.screens - 1
    hearings = [nodes[i % len(nodes)].create_hearing(people(watchers)) for i in range(args.hearings)]
    same: list[float] = []
    other: list[float] = []
    writers: list[Screen] = []
    everyone: list[list[Screen]] = []
    for i, h in enumerate(hearings):
        home = i % len(nodes)
        tokens = [x["token"] for x in h["invites"]]
        clerk = await seed(nodes[home].ws_url(h["hearing_id"], tokens[1]))
        await clerk.ws.close()
        writer = await Screen.open(nodes[(home + 1) % len(nodes)].ws_url(h["hearing_id"], tokens[2]))
        screens = [(j % len(nodes), await Screen.open(nodes[j % len(nodes)].ws_url(h["hearing_id"], tokens[7 + j])))
                   for j in range(watchers)]
        writers.append(writer)
        everyone.append([s for _, s in screens])
        h["screens"] = screens
        h["home"] = home
    first = 22
    pids = {"node": [pid for n in nodes if n.proc for pid in n.pids()], "bench": [os.getpid()]}
    cpu0 = {k: sum(cpu_seconds(pid) for pid in v) for k, v in pids.items()}
    busy0 = machine_busy()
    t0 = time.perf_counter()
    await asyncio.gather(*(annotate_at_rate(w, f"w{i}", args.rate, args.seconds, rng) for i, w in enumerate(writers)))
    cpu = {k: (sum(cpu_seconds(pid) for pid in v) - cpu0[k]) / (time.perf_counter() - t0) for k, v in pids.items()}
    busy1 = machine_busy()
    cpu["machine"] = (busy1[0] - busy0[0]) / (busy1[1] - busy0[1]) * (os.cpu_count() or 1)
    await asyncio.sleep(2)
    for h, w in zip(hearings, writers):
        same += latencies(w, [s for n, s in h["screens"] if n == h["home"]], first)
        other += latencies(w, [s for n, s in h["screens"] if n != h["home"]], first)
    expected = int(args.rate * args.seconds) * sum(len(h["screens"]) for h in hearings)
    missing = expected - len(same) - len(other)
    for screens in everyone:
        for s in screens:
            await s.ws.close()
    durable = await saturate(writers, args.seconds / 2, rng)

    # Failover: kill the node holding hearings 0, 3, 6, …; writers sit on other nodes.
    victim = nodes[0]
    theirs = [(h, w) for i, (h, w) in enumerate(zip(hearings, writers)) if i % len(nodes) == 0]
    victim.kill()
    killed = time.perf_counter()

    async def back(h: dict[str, Any], writer: Screen) -> float:
        token = h["invites"][2]["token"]
        node = nodes[1]
        n = 0
        while True:
            if writer.task.done():
                writer = await Screen.open(node.ws_url(h["hearing_id"], token))
            n += 1
            op_id = f"after-kill-{n}"
            await writer.send_op(op_id, annotation(rng))
            for _ in range(20):
                if op_id in writer.acks:
                    return writer.ack_at[op_id] - killed
                if writer.task.done():
                    break
                await asyncio.sleep(0.05)
    failovers = await asyncio.gather(*(back(h, w) for h, w in theirs))
    victim.start()
    return {"same": same, "other": other, "missing": missing, "durable": durable, "failovers": list(failovers),
            "cpu": cpu}


async def single_phase(hub: HubProcess, rng: random.Random, seconds: float) -> dict[str, Any]:
    h = hub.create_hearing(people(20))
    hid = h["hearing_id"]
    tokens = [x["token"] for x in h["invites"]]
    clerk = await seed(hub.ws_url(hid, tokens[1]))
    writers = [await Screen.open(hub.ws_url(hid, t)) for t in tokens[2:7]]
    watchers = [await Screen.open(hub.ws_url(hid, t)) for t in tokens[7:]]
    await asyncio.gather(*(annotate_at_rate(w, f"w{i}", 40, seconds, rng) for i, w in enumerate(writers)))
    await asyncio.sleep(1)
    lat = [x for w in writers for x in latencies(w, watchers, 22)]
    for s in watchers + [clerk]:
        await s.ws.close()
    durable = await saturate(writers, seconds / 2, rng)
    for w in writers:
        await w.ws.close()
    return {"lat": lat, "durable": durable}


def ms(values: list[float], q: float) -> str:
    return f"{percentile(values, q) * 1000:.1f}" if values else "n/a"


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--hearings", type=int, default=20)
    p.add_argument("--screens", type=int, default=25)
    p.add_argument("--rate", type=float, default=10.0, help="ops/s per hearing")
    p.add_argument("--seconds", type=float, default=10.0)
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="cluster-bench-"))
    pg = PrivatePostgres().start()
    redis = PrivateRedis(tmp / "redis").start()
    started: list[HubProcess] = []
    try:
        url = pg.new_database()
        nodes = [HubProcess(tmp / "data", args=UNLIMITED + ["--database", url, "--redis", redis.url]).start()
                 for _ in range(3)]
        started += nodes
        c = asyncio.run(cluster_phase(nodes, args))
        for n in nodes:
            n.stop()

        rng = random.Random(15)
        lite = HubProcess(tmp / "sqlite", args=UNLIMITED + ["--workers", "1"]).start()
        started.append(lite)
        s = asyncio.run(single_phase(lite, rng, args.seconds))
        lite.stop()
        pgone = HubProcess(tmp / "pg-one", args=UNLIMITED + ["--workers", "1", "--database", pg.new_database()]).start()
        started.append(pgone)
        q = asyncio.run(single_phase(pgone, rng, args.seconds))
        pgone.stop()
    finally:
        for n in started:
            n.stop()
        redis.stop()
        pg.stop()

    total = args.hearings * args.screens
    print(f"cluster: 3 nodes, {args.hearings} hearings × {args.screens} screens ({total} websockets), "
          f"{args.rate:g} ops/s per hearing ({args.rate * args.hearings:g} ops/s) for {args.seconds:g} s")
    print(f"  op→event, screens on the hearing's node:   p50 {ms(c['same'], 0.5)} ms, p99 {ms(c['same'], 0.99)} ms "
          f"({len(c['same'])} deliveries)")
    print(f"  op→event, screens on another node:         p50 {ms(c['other'], 0.5)} ms, p99 {ms(c['other'], 0.99)} ms "
          f"({len(c['other'])} deliveries); events missing: {c['missing']}")
    print(f"  CPU while at that load: the 3 nodes {c['cpu']['node']:.2f} CPU-s/s together, "
          f"the benchmark's own screens {c['cpu']['bench']:.2f}; the whole machine "
          f"{c['cpu']['machine']:.2f} of {os.cpu_count()} cores (PostgreSQL and Redis too)")
    print(f"  durable ops/s at saturation (cluster):     {c['durable']:.0f}")
    f = c["failovers"]
    print(f"  failover after kill -9 of a node:          median {statistics.median(f):.2f} s, "
          f"worst {max(f):.2f} s over its {len(f)} hearings")
    print("one node, 5 writers at 200 ops/s and 20 watchers, then saturation:")
    print(f"  SQLite:      op→event p50 {ms(s['lat'], 0.5)} ms, p99 {ms(s['lat'], 0.99)} ms; "
          f"durable {s['durable']:.0f} ops/s")
    print(f"  PostgreSQL:  op→event p50 {ms(q['lat'], 0.5)} ms, p99 {ms(q['lat'], 0.99)} ms; "
          f"durable {q['durable']:.0f} ops/s ({q['durable'] / s['durable']:.2f}× SQLite)")


if __name__ == "__main__":
    main()
