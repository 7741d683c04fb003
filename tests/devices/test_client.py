"""devices.client against a real hub: a program's connection to a hearing
that syncs, answers ops, comes back by itself after the hub is killed and
restarted (sending unanswered ops again, applying none twice, missing no
event), and stops for good when its invite is revoked."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from storage.sqlite import DB_NAME
from devices.client import Backoff, HearingClient, Revoked, websocket_url
from protocol.errors import Refused
from tests.support import ADMIN, Client, HubProcess, invites_by_role, run


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubProcess]:
    proc = HubProcess(tmp_path / "data").start()
    yield proc
    proc.stop()


def test_join_links_become_websocket_urls() -> None:
    assert websocket_url("https://hub.court.example/hearings/h-1?token=abc&autojoin=1") == \
        "wss://hub.court.example/ws/hearings/h-1?token=abc"
    assert websocket_url("http://10.0.0.5:8000/hearings/h-1?token=abc") == "ws://10.0.0.5:8000/ws/hearings/h-1?token=abc"
    assert websocket_url("ws://x/ws/hearings/h-1?token=t") == "ws://x/ws/hearings/h-1?token=t"
    with pytest.raises(ValueError):
        websocket_url("https://hub/elsewhere")


def test_sync_ops_and_refusals(hub: HubProcess) -> None:
    h = hub.create_hearing()
    inv = invites_by_role(h)

    async def main() -> None:
        writer = await Client.connect(hub.ws_url(h["hearing_id"], inv["clerk"]["token"]))
        await writer.op({"kind": "segment.add", "text": "现在开庭。"})
        snapshots: list[tuple[int, dict[str, Any]]] = []
        events: list[tuple[int, dict[str, Any]]] = []
        client = await HearingClient(inv["judge"]["join_url"], on_snapshot=lambda s, st: snapshots.append((s, st)),
                                     on_event=lambda s, e: events.append((s, e))).start()
        assert client.participant["role"] == "judge"
        assert snapshots[0][0] == 2 and snapshots[0][1]["segments"][0]["text"] == "现在开庭。"
        seq = await client.op({"kind": "segment.add", "text": "核对当事人身份。"})
        assert seq == 3 and events[-1] == (3, events[-1][1]) and events[-1][1]["kind"] == "segment.added"
        with pytest.raises(Refused) as refused:
            await client.op({"kind": "segment.edit", "segment_id": "S1", "base_rev": 9, "text": "改"})
        assert refused.value.code == "conflict" and refused.value.error["segment"]["id"] == "S1"
        await client.close()
        await writer.close()
    run(main())


def test_it_comes_back_after_the_hub_is_killed_and_applies_nothing_twice(hub: HubProcess) -> None:
    h = hub.create_hearing()
    inv = invites_by_role(h)
    hid = h["hearing_id"]

    async def main() -> None:
        events: list[int] = []
        client = await HearingClient(inv["clerk"]["join_url"], on_event=lambda s, e: events.append(s),
                                     backoff=Backoff(0.2, 1.0)).start()
        assert await client.op({"kind": "segment.add", "text": "第一段。"}, op_id="one") == 2
        hub.kill()
        # Sent while the hub is down: delivered once it is back.
        later = asyncio.create_task(client.op({"kind": "segment.add", "text": "第二段。"}, op_id="two"))
        await asyncio.sleep(1.0)
        assert not later.done() and not client.live.is_set()
        await asyncio.to_thread(hub.start)
        assert await asyncio.wait_for(later, 20) == 3
        # The same op_id again: the first answer, nothing applied.
        assert await client.op({"kind": "segment.add", "text": "第一段。"}, op_id="one") == 2
        other = await Client.connect(hub.ws_url(hid, inv["judge"]["token"]))
        await other.op({"kind": "segment.add", "text": "第三段。"})
        await asyncio.wait_for(_until(lambda: client.seq == 4), 10)
        assert client.connections == 2 and events == [2, 3, 4]  # each once, in order
        await client.close()
        await other.close()
        texts = [row[0] for row in sqlite3.connect(hub.data / DB_NAME).execute(
            "SELECT json_extract(event, '$.segment.text') FROM log WHERE hearing_id = ? AND seq > 1 ORDER BY seq",
            (hid,))]
        assert texts == ["第一段。", "第二段。", "第三段。"]
    run(main())


def test_a_revoked_invite_ends_it_for_good(hub: HubProcess) -> None:
    h = hub.create_hearing()
    inv = invites_by_role(h)
    hid, pid = h["hearing_id"], inv["plaintiff"]["participant_id"]

    async def main() -> None:
        client = await HearingClient(inv["plaintiff"]["join_url"], backoff=Backoff(0.1, 0.2)).start()
        r = await asyncio.to_thread(httpx.delete, f"{hub.url}/api/hearings/{hid}/participants/{pid}/invite",
                                    headers={"Authorization": f"Bearer {ADMIN}"})
        assert r.status_code == 200, r.text
        with pytest.raises(Revoked):
            await asyncio.wait_for(client.finished(), 10)
        with pytest.raises(Revoked):
            await client.op({"kind": "annotation.add", "segment_id": "S1", "start": 0, "end": 1,
                             "style": "highlight"})
        with pytest.raises(Revoked):  # and a new start is refused at the door
            await HearingClient(inv["plaintiff"]["join_url"]).start()
    run(main())


async def _until(predicate: Any) -> None:
    while not predicate():
        await asyncio.sleep(0.02)
