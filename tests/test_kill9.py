"""SIGKILL the hub while ops are in flight: every acknowledged op survives the
restart, and resending every op with its op_id duplicates nothing.

``COURTROOM_KILL_TRIALS`` sets the number of trials (default 20 on SQLite,
half as many on PostgreSQL, whose durability is the server's own)."""

from __future__ import annotations

import asyncio
import os
import random
from pathlib import Path
from typing import Any

import pytest
import websockets

from tests.support import UNLIMITED, Client, HubProcess, invites_by_role

TRIALS = int(os.environ.get("COURTROOM_KILL_TRIALS", "20"))
WRITERS = ("judge", "clerk", "plaintiff")


def op_for(role: str, marker: str) -> dict[str, Any]:
    if role == "plaintiff":
        return {"kind": "annotation.add", "segment_id": "S1", "start": 0, "end": 2,
                "style": "comment", "color": "blue", "body": marker}
    return {"kind": "segment.add", "text": marker}


def marker_of(event: dict[str, Any]) -> str:
    if event["kind"] == "segment.added":
        return event["segment"]["text"]
    return event["annotation"]["body"]


async def flood(client: Client, role: str, trial: int, sent: list[tuple[str, str, str]]) -> None:
    """Send ops back to back until the hub dies under us."""
    n = 0
    try:
        while True:
            n += 1
            op_id = f"{role}-{trial}-{n}"
            marker = f"第{trial}轮{role}第{n}条"
            sent.append((role, op_id, marker))
            await client.send_op(op_for(role, marker), op_id=op_id)
            await asyncio.sleep(random.uniform(0, 0.004))
    except websockets.ConnectionClosed:
        pass


async def trial(hub: HubProcess, hid: str, inv: dict[str, dict[str, Any]], n: int,
                rng: random.Random) -> tuple[int, int]:
    hub.start()
    clients = {role: await Client.connect(hub.ws_url(hid, inv[role]["token"]), sync=False)
               for role in WRITERS}
    sent: list[tuple[str, str, str]] = []
    tasks = [asyncio.create_task(flood(c, role, n, sent)) for role, c in clients.items()]
    await asyncio.sleep(rng.uniform(0.05, 0.6))
    hub.kill()
    await asyncio.gather(*tasks)
    for c in clients.values():
        await c.close()
    acked = {(role, op_id): c.answers[op_id]["seq"] for role, c in clients.items()
             for _, op_id, _ in sent if op_id in c.answers and c.answers[op_id]["type"] == "ack"}
    assert all(c.answers[o]["type"] == "ack" for c in clients.values() for o in c.answers)

    hub.start()
    reader = await Client.connect(hub.ws_url(hid, inv["observer"]["token"]))
    events = {e["seq"]: e["event"] for e in reader.events}
    markers = {role_op: m for r, o, m in sent for role_op in [(r, o)]}
    for key, seq in acked.items():
        assert seq in events, f"acknowledged op {key} at seq {seq} lost"
        assert marker_of(events[seq]) == markers[key]

    # Resend everything, twice: acked ops answer with their first seq, the
    # rest are applied once.
    clients = {role: await Client.connect(hub.ws_url(hid, inv[role]["token"]), sync=False)
               for role in WRITERS}
    first: dict[tuple[str, str], int] = {}
    for _ in range(2):
        for role, op_id, marker in sent:
            answer = await clients[role].answer(op_for(role, marker), op_id=op_id)
            assert answer["type"] == "ack", answer
            first.setdefault((role, op_id), answer["seq"])
            assert answer["seq"] == first[(role, op_id)]
            if (role, op_id) in acked:
                assert answer["seq"] == acked[(role, op_id)]
    for c in clients.values():
        await c.close()
    await reader.wait_for(lambda: reader.seq >= max(first.values(), default=0))
    seen = [marker_of(e["event"]) for e in reader.events if e["event"]["kind"] in
            ("segment.added", "annotation.added")]
    for _, _, marker in sent:
        assert seen.count(marker) == 1, marker
    await reader.close()
    hub.stop()
    return len(acked), len(sent)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_no_acknowledged_op_is_lost_over_kill9_trials(backend: str, tmp_path: Path,
                                                      request: pytest.FixtureRequest) -> None:
    """On either store: SQLite in the data directory, or PostgreSQL."""
    database = ["--database", request.getfixturevalue("postgres")] if backend == "postgresql" else []
    hub = HubProcess(tmp_path / "data", args=UNLIMITED + database)
    hub.start()
    h = hub.create_hearing()
    hid, inv = h["hearing_id"], invites_by_role(h)

    async def setup() -> None:
        clerk = await Client.connect(hub.ws_url(hid, inv["clerk"]["token"]))
        assert (await clerk.op({"kind": "segment.add", "text": "书记员宣布法庭纪律。"}))["type"] == "ack"
        await clerk.close()

    asyncio.run(setup())
    hub.stop()
    rng = random.Random(20261123)
    trials = TRIALS if backend == "sqlite" else max(1, TRIALS // 2)
    totals = [asyncio.run(trial(hub, hid, inv, n, rng)) for n in range(trials)]
    acked = sum(a for a, _ in totals)
    print(f"kill -9 ({backend}): {trials} trials, {acked} acknowledged ops all present, "
          f"{sum(s for _, s in totals) - acked} unacknowledged ops resent without duplicates")
    assert acked > trials  # the kills really landed while ops were being acknowledged
    verified = hub.verify(hid, *database)
    assert verified.returncode == 0, verified.stderr
