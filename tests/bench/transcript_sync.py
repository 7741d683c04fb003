"""Transcript sync benchmark against a real ``courtroom serve`` process.

    python -m tests.bench.transcript_sync [--clients 50] [--annotators 5]
                                          [--rate 200] [--seconds 10]

Prints, each beside a baseline measured in the same run:

* op→event latency (p50/p99/max) seen at every client while the annotators
  send ``annotation.add`` at ``--rate`` ops/s in total, against the
  websocket ping round trip to the same hub;
* durable ops/s at saturation (annotators pipelining, every op acked only
  after its fsync'd commit), against one fsync'd SQLite commit per op;
* ops/s of the bare state machine, against the same ops with log entries
  (canonical JSON + SHA-256) made as the hub does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import websockets

from tests.corefixtures import PEOPLE, hearing
from tests.support import UNLIMITED, HubProcess
from transcript.log import GENESIS_HASH, make_entry
from transcript.roles import Role
from transcript.state import TranscriptState
from storage.log import LogStore
from storage.sqlite import SqliteDatabase

ANNOTATOR_ROLES = ["plaintiff", "defendant", "agent", "agent", "prosecutor", "witness"]
SEGMENTS = 20
SEGMENT_TEXT = "原告认为被告未按合同约定的期限交付货物，应当承担违约责任并赔偿损失。"
STYLES = ["highlight", "comment", "issue"]
COLORS = ["yellow", "green", "blue", "pink"]


def annotation(rng: random.Random) -> dict[str, Any]:
    start = rng.randrange(len(SEGMENT_TEXT) - 4)
    return {"kind": "annotation.add", "segment_id": f"S{rng.randrange(SEGMENTS) + 1}",
            "start": start, "end": start + rng.randint(1, 4), "style": rng.choice(STYLES),
            "color": rng.choice(COLORS), "body": "此处与证据三不符"}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Screen:
    """One websocket client that timestamps every event and answer."""

    def __init__(self, ws: websockets.ClientConnection) -> None:
        self.ws = ws
        self.arrivals: dict[int, float] = {}
        self.acks: dict[str, int] = {}
        self.ack_at: dict[str, float] = {}
        self.sent: dict[str, float] = {}
        self.nacks = 0
        self.synced = asyncio.Event()
        self.task = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, url: str) -> Screen:
        ws = await websockets.connect(url, compression=None, max_queue=None)
        await ws.recv()  # welcome
        screen = cls(ws)
        await ws.send('{"type":"sync","since":0}')
        await screen.synced.wait()
        return screen

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                now = time.perf_counter()
                msg = json.loads(raw)
                kind = msg["type"]
                if kind == "event":
                    self.arrivals[msg["seq"]] = now
                elif kind == "ack":
                    self.acks[msg["op_id"]] = msg["seq"]
                    self.ack_at[msg["op_id"]] = now
                elif kind == "nack":
                    self.nacks += 1
                elif kind == "synced":
                    self.synced.set()
        except websockets.ConnectionClosed:
            pass

    async def send_op(self, op_id: str, op: dict[str, Any]) -> None:
        self.sent[op_id] = time.perf_counter()
        await self.ws.send(json.dumps({"type": "op", "op_id": op_id, "op": op}, ensure_ascii=False))


async def annotate_at_rate(screen: Screen, name: str, rate: float, seconds: float,
                           rng: random.Random) -> None:
    """Send on a fixed schedule (no drift) so the offered load is exact."""
    start = time.perf_counter()
    for n in range(int(rate * seconds)):
        delay = start + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        await screen.send_op(f"{name}-{n}", annotation(rng))


async def saturate(screen: Screen, name: str, window: int, until: float, rng: random.Random) -> None:
    """Keep ``window`` ops outstanding until ``until``."""
    n = 0
    while time.perf_counter() < until:
        while n - len(screen.acks) - screen.nacks >= window:
            await asyncio.sleep(0.0005)
        n += 1
        await screen.send_op(f"{name}-sat-{n}", annotation(rng))
    while n > len(screen.acks) + screen.nacks:
        await asyncio.sleep(0.001)


async def sync_phase(hub: HubProcess, args: argparse.Namespace) -> dict[str, Any]:
    annotator_roles = ANNOTATOR_ROLES[:args.annotators]
    people = ([{"role": "judge", "name": "王法官"}, {"role": "clerk", "name": "李书记员"}]
              + [{"role": r, "name": f"{r}{i}"} for i, r in enumerate(annotator_roles)]
              + [{"role": "observer", "name": "旁听"}])
    h = hub.create_hearing(people)
    hid = h["hearing_id"]
    tokens = [i["token"] for i in h["invites"]]
    clerk_token, annotator_tokens, observer_token = tokens[1], tokens[2:-1], tokens[-1]
    rng = random.Random(7)

    clerk = await Screen.open(hub.ws_url(hid, clerk_token))
    for n in range(SEGMENTS):
        await clerk.send_op(f"seg-{n}", {"kind": "segment.add", "text": SEGMENT_TEXT})
    while len(clerk.acks) < SEGMENTS:
        await asyncio.sleep(0.01)

    annotators = [await Screen.open(hub.ws_url(hid, t)) for t in annotator_tokens]
    watchers = [clerk] + [await Screen.open(hub.ws_url(hid, observer_token))
                          for _ in range(args.clients - len(annotators) - 1)]
    screens = annotators + watchers

    rtts = []
    for _ in range(200):
        t0 = time.perf_counter()
        await (await watchers[-1].ws.ping())
        rtts.append(time.perf_counter() - t0)

    first_seq = max(clerk.acks.values()) + 1
    per = args.rate / len(annotators)
    await asyncio.gather(*(annotate_at_rate(s, f"a{i}", per, args.seconds, rng)
                           for i, s in enumerate(annotators)))
    total = int(per * args.seconds) * len(annotators)
    deadline = time.perf_counter() + 30
    while (min(len(s.arrivals) for s in screens) < SEGMENTS + total + 1
           and time.perf_counter() < deadline):
        await asyncio.sleep(0.05)

    sent_at = {s.acks[op_id]: t for s in annotators for op_id, t in s.sent.items() if op_id in s.acks}
    per_screen = [[arrived - sent_at[seq] for seq, arrived in s.arrivals.items()
                   if seq >= first_seq and seq in sent_at] for s in screens]
    latencies = [x for xs in per_screen for x in xs]
    worst_p99 = max(percentile(xs, 0.99) for xs in per_screen)
    ack_latencies = [s.ack_at[op_id] - t for s in annotators for op_id, t in s.sent.items()
                     if op_id in s.ack_at]
    missing = sum(total - sum(1 for seq in s.arrivals if seq >= first_seq) for s in screens)
    nacks = sum(s.nacks for s in annotators)

    # Saturation: only the annotators stay, each still receiving every event.
    for s in watchers:
        await s.ws.close()
    until = time.perf_counter() + args.seconds / 2
    before = sum(len(s.acks) for s in annotators)
    t0 = time.perf_counter()
    await asyncio.gather(*(saturate(s, f"a{i}", 64, until, rng) for i, s in enumerate(annotators)))
    durable = (sum(len(s.acks) for s in annotators) - before) / (time.perf_counter() - t0)
    for s in annotators:
        await s.ws.close()
    return {"latencies": latencies, "worst_p99": worst_p99, "acks": ack_latencies, "missing": missing, "nacks": nacks, "total": total,
            "rtt": statistics.median(rtts), "durable": durable}


def single_commit_baseline(directory: Path, n: int = 300) -> float:
    """Ops/s when every op is its own fsync'd SQLite commit (no group commit)."""
    store = LogStore(SqliteDatabase(directory / "baseline.db"))
    rng = random.Random(1)
    prev, t0 = GENESIS_HASH, time.perf_counter()
    for seq in range(1, n + 1):
        entry = make_entry(prev, "h-bench", seq, "p", str(seq), 0, annotation(rng), {})
        store.append([entry])
        prev = entry.hash
    return n / (time.perf_counter() - t0)


def state_machine(n: int, repeats: int = 5) -> tuple[float, float]:
    """Median ops/s of bare ``apply``, and of ``apply`` plus log entries."""
    rng = random.Random(3)
    ops = [annotation(rng) for _ in range(n)]
    actor = PEOPLE[Role.PLAINTIFF]

    def run(with_entries: bool) -> float:
        state = TranscriptState()
        state.create(hearing())
        for _ in range(SEGMENTS):
            state.apply(PEOPLE[Role.CLERK], {"kind": "segment.add", "text": SEGMENT_TEXT})
        prev, t0 = GENESIS_HASH, time.perf_counter()
        for seq, op in enumerate(ops):
            event = state.apply(actor, op)
            if with_entries:
                prev = make_entry(prev, "h-test", seq, actor.participant_id, str(seq), 0, op, event).hash
        return n / (time.perf_counter() - t0)

    bare = statistics.median(run(False) for _ in range(repeats))
    logged = statistics.median(run(True) for _ in range(repeats))
    return bare, logged


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--annotators", type=int, default=5, choices=range(1, len(ANNOTATOR_ROLES) + 1))
    p.add_argument("--rate", type=float, default=200.0, help="annotation ops/s in total")
    p.add_argument("--seconds", type=float, default=10.0)
    args = p.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        hub = HubProcess(Path(tmp) / "data", args=UNLIMITED).start()
        try:
            r = asyncio.run(sync_phase(hub, args))
        finally:
            hub.stop()
        baseline = single_commit_baseline(Path(tmp))
    bare, logged = state_machine(20_000)

    lat = r["latencies"]
    p50, p99 = percentile(lat, 0.50) * 1e3, percentile(lat, 0.99) * 1e3
    print(f"transcript_sync: {args.clients} clients, {args.annotators} annotating at "
          f"{args.rate:.0f} ops/s for {args.seconds:.0f} s ({r['total']} ops, {r['nacks']} nacks)")
    print(f"  op→event latency over {len(lat)} deliveries: p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
          f"max {max(lat) * 1e3:.1f} ms; worst client's p99 {r['worst_p99'] * 1e3:.1f} ms; "
          f"{r['missing']} deliveries missing")
    print(f"  op→ack at the annotators: p50 {percentile(r['acks'], 0.5) * 1e3:.1f} ms, "
          f"p99 {percentile(r['acks'], 0.99) * 1e3:.1f} ms")
    print(f"  baseline websocket ping RTT: median {r['rtt'] * 1e3:.2f} ms "
          f"(p50 latency = {p50 / (r['rtt'] * 1e3):.1f}x)")
    print(f"  durable ops/s at saturation ({args.annotators} pipelining clients): {r['durable']:.0f} "
          f"= {r['durable'] / baseline:.1f}x one-commit-per-op SQLite baseline ({baseline:.0f} ops/s)")
    print(f"  bare state machine: {bare:.0f} ops/s (median of 5); with log entries: {logged:.0f} "
          f"ops/s ({bare / logged:.2f}x)")


if __name__ == "__main__":
    main()
