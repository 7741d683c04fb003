"""Chaos against real hub processes: kill -9 in the middle of uploads,
signing, the lock and recording; a disk that fills up and empties again;
screens churning. Nothing acknowledged is lost, nothing half-written is
left behind, and the hub recovers without a hand.

(A screen that never reads is in tests/test_hub.py; slowloris and a storm
of joins in tests/test_connections.py.)"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import time
from pathlib import Path
from typing import Any

import httpx
from aiortc.contrib.media import MediaPlayer

from tests.media.test_media_hub import PEOPLE, joined, speech_wav
from tests.support import Client, HubProcess, invites_by_role, run
from tests.paperwork.test_record import signature_png

PARTIES = ("plaintiff", "defendant")


def stray_files(hub: HubProcess) -> list[Path]:
    return [p for p in (hub.data / "evidence").rglob("*") if p.is_file() and len(p.name) != 64]


async def upload_loop(hub: HubProcess, hid: str, token: str, stored: list[tuple[str, str]]) -> None:
    """Upload fresh PDFs back to back until the hub dies; note each one the
    hub acknowledged (201) as (evidence id, sha256)."""
    async with httpx.AsyncClient(timeout=30) as client:
        while True:
            data = b"%PDF-1.7\n" + os.urandom(random.randint(200_000, 1_500_000))
            try:
                r = await client.post(f"{hub.url}/api/hearings/{hid}/evidence", params={"name": "材料.pdf"},
                                      content=data, headers={"Authorization": f"Bearer {token}"})
            except httpx.HTTPError:
                return
            if r.status_code == 201:
                stored.append((r.json()["evidence"]["id"], hashlib.sha256(data).hexdigest()))


def test_kill9_during_uploads_signing_and_the_lock_loses_nothing(tmp_path: Path) -> None:
    hub = HubProcess(tmp_path / "data").start()
    h = hub.create_hearing()
    hid, inv = h["hearing_id"], invites_by_role(h)

    async def setup() -> None:
        clerk = await Client.connect(hub.ws_url(hid, inv["clerk"]["token"]))
        for text in ("现在开庭。", "原告陈述诉讼请求。", "被告答辩。"):
            assert (await clerk.op({"kind": "segment.add", "text": text}))["type"] == "ack"
        await clerk.close()
    run(setup())
    rng = random.Random(20261124)
    acked: dict[str, list[tuple[str, str]]] = {p: [] for p in PARTIES}
    answers: list[dict[str, Any]] = []

    async def trial() -> None:
        judge = await Client.connect(hub.ws_url(hid, inv["judge"]["token"]))
        parties = {p: await Client.connect(hub.ws_url(hid, inv[p]["token"])) for p in PARTIES}
        uploads = [asyncio.create_task(upload_loop(hub, hid, inv[p]["token"], acked[p])) for p in PARTIES]
        await asyncio.sleep(rng.uniform(0.2, 0.8))
        sent = [await judge.send_op({"kind": "transcript.lock"})]
        for c in parties.values():
            sent.append(await c.send_op({"kind": "signature.add", "image": signature_png()}))
        await asyncio.sleep(rng.uniform(0.0, 0.05))
        hub.kill()
        await asyncio.gather(*uploads)
        for c in (judge, *parties.values()):
            await c.close()
            answers.extend(c.answers.values())

    for _ in range(3):
        run(trial())
        hub.start()
    try:
        assert not stray_files(hub)  # half-written uploads are swept at start
        r = hub.verify(hid)  # the chain, the signed head, every evidence file's SHA-256
        assert r.returncode == 0, r.stderr
        t = hub.transcript(hid, inv["judge"]["token"])
        items = {(e["id"], e["sha256"]) for e in t["evidence"]}
        for party, stored in acked.items():
            assert set(stored) <= items, f"an acknowledged upload of the {party} is missing"
        assert sum(map(len, acked.values())) > 0
        for a in answers:
            if a["type"] == "ack":
                assert a["seq"] <= t["seq"]
        if any(a["type"] == "ack" for a in answers):
            assert t["locked"]
    finally:
        hub.stop()


def test_kill9_while_recording_keeps_what_was_recorded(tmp_path: Path) -> None:
    hub = HubProcess.with_speech(tmp_path / "data").start()
    wav = speech_wav(tmp_path, "现在 开庭 。 原告 陈述 诉讼 请求 。 被告 答辩")
    h = hub.create_hearing(PEOPLE)
    pid = invites_by_role(h)["plaintiff"]["participant_id"]

    async def main() -> None:
        party, terminal = await joined(hub, h, "plaintiff", audio=MediaPlayer(wav).audio)
        await asyncio.sleep(4)
        hub.kill()
        await terminal.close()
        await party.close()
    run(main())
    hub.start()
    try:
        token = invites_by_role(h)["judge"]["token"]
        clip = httpx.get(f"{hub.url}/api/hearings/{h['hearing_id']}/recording",
                         params={"participant_id": pid, "start": 0, "end": 60}, headers={"Authorization": f"Bearer {token}"})
        assert clip.status_code == 200 and clip.content.startswith(b"OggS") and len(clip.content) > 5_000
        assert hub.verify(h["hearing_id"]).returncode == 0
    finally:
        hub.stop()




def test_a_full_disk_then_space_again_recovers_without_a_hand(tmp_path: Path, small_disk: Any) -> None:
    small_data_disk = small_disk(tmp_path / "data", 24)  # the whole data directory: 24 MiB
    hub = HubProcess(small_data_disk).start()
    try:
        h = hub.create_hearing()
        hid, inv = h["hearing_id"], invites_by_role(h)
        filler = small_data_disk / "filler"

        async def main() -> None:
            clerk = await Client.connect(hub.ws_url(hid, inv["clerk"]["token"]))
            assert (await clerk.op({"kind": "segment.add", "text": "现在开庭。"}))["type"] == "ack"
            with open(filler, "wb") as f:  # the disk fills up
                try:
                    while True:
                        f.write(b"\0" * 1024 * 1024)
                except OSError:
                    pass
            # Nothing can be made durable now: nothing is acknowledged.
            await clerk.send_op({"kind": "segment.add", "text": "磁盘已满时的陈述" * 300}, op_id="while-full")
            await asyncio.sleep(2)
            assert "while-full" not in clerk.answers or clerk.answers["while-full"]["type"] != "ack"
            assert httpx.get(hub.url + "/healthz").status_code == 200
            filler.unlink()  # space again
            # The screen reconnects and resends, as the page does; once.
            for _ in range(20):
                try:
                    again = await Client.connect(hub.ws_url(hid, inv["clerk"]["token"]))
                    answer = await again.op({"kind": "segment.add", "text": "磁盘已满时的陈述" * 300},
                                            op_id="while-full")
                    await again.close()
                    if answer["type"] == "ack":
                        return
                except (ConnectionError, OSError, asyncio.TimeoutError):
                    pass
                await asyncio.sleep(0.5)
            raise AssertionError("the hub did not recover")
        run(main())
        t = hub.transcript(hid, inv["judge"]["token"])
        assert [s["text"][:5] for s in t["segments"]] == ["现在开庭。", "磁盘已满时"]
        assert hub.verify(hid).returncode == 0
    finally:
        hub.stop()


def test_churn_loses_nothing_and_presence_is_coalesced(tmp_path: Path) -> None:
    people = [{"role": "judge", "name": "王法官"}, {"role": "clerk", "name": "李书记员"}]
    people += [{"role": "observer", "name": f"旁听者{k}"} for k in range(120)]
    hub = HubProcess(tmp_path / "data").start()
    try:
        h = hub.create_hearing(people)
        hid = h["hearing_id"]
        inv = invites_by_role(h)
        observers = [i for i in h["invites"] if i["role"] == "observer"]

        async def churner(token: str, until: float) -> None:
            while time.monotonic() < until:
                try:
                    c = await Client.connect(hub.ws_url(hid, token), sync=False)
                    await c.send_json({"type": "sync", "since": 0, "batch": True})
                    await asyncio.sleep(random.uniform(0.05, 0.5))
                    await c.close()
                except (ConnectionError, OSError, Exception):  # turned away while the hub is busy
                    await asyncio.sleep(0.5)

        async def main() -> None:
            clerk = await Client.connect(hub.ws_url(hid, inv["clerk"]["token"]))
            judge = await Client.connect(hub.ws_url(hid, inv["judge"]["token"]))
            until = time.monotonic() + 6
            churn = [asyncio.create_task(churner(o["token"], until)) for o in observers]
            started, sent = time.monotonic(), []
            while time.monotonic() < until:
                sent.append(await clerk.send_op({"kind": "segment.add", "text": "原告陈述事实与理由。"}))
                await asyncio.sleep(0.1)
            await asyncio.gather(*churn)
            await clerk.wait_for(lambda: all(o in clerk.answers for o in sent), timeout=30)
            await judge.wait_for(lambda: judge.seq >= clerk.seq, timeout=30)
            elapsed = time.monotonic() - started
            assert all(clerk.answers[o]["type"] == "ack" for o in sent)
            # The writers were never dropped; each ack's segment is in every synced screen once.
            assert clerk.ws.state.name == "OPEN" and judge.ws.state.name == "OPEN"
            added = [e["seq"] for e in judge.events if e["event"]["kind"] == "segment.added"]
            assert set(clerk.answers[o]["seq"] for o in sent) <= set(added)
            # Presence at most every 250 ms, however many screens came and went.
            assert len(judge.of_type("presence")) <= elapsed / 0.25 + 3
            await clerk.close()
            await judge.close()
        run(main())
        assert hub.verify(hid).returncode == 0
    finally:
        hub.stop()
