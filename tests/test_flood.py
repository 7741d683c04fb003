"""A participant who floods the hub, against a real process: the rate limit
and the quotas hold, with answers a page can explain."""

from __future__ import annotations

import asyncio
import json
import time

import httpx

from transcript.quotas import Quotas

from tests.support import Client, HubProcess, invites_by_role, run

STROKE = json.dumps({"points": [[i, i * 2, 0.5] for i in range(2_000)]})[:60_000]


def db_bytes(hub: HubProcess) -> int:
    return sum(p.stat().st_size for p in hub.data.glob("courtroom.db*"))


def test_an_ink_flood_is_held_to_the_rate(hub: HubProcess) -> None:
    h = hub.create_hearing()
    hid, inv = h["hearing_id"], invites_by_role(h)

    async def main() -> None:
        clerk = await Client.connect(hub.ws_url(hid, inv["clerk"]["token"]))
        assert (await clerk.op({"kind": "segment.add", "text": "原告陈述事实与理由。"}))["type"] == "ack"
        p = await Client.connect(hub.ws_url(hid, inv["plaintiff"]["token"]))
        before = db_bytes(hub)
        started = time.monotonic()
        n = 1_000
        for k in range(n):
            await p.send_op({"kind": "annotation.add", "segment_id": "S1", "start": 0, "end": 2, "style": "ink",
                             "body": STROKE}, op_id=f"ink-{k}")
        await p.wait_for(lambda: len(p.answers) == n, timeout=120)
        took = time.monotonic() - started
        acked = [a for a in p.answers.values() if a["type"] == "ack"]
        refused = [a for a in p.answers.values() if a["type"] == "nack"]
        # The burst (200) and the rate (50/s) over the time the flood took.
        assert len(acked) <= 200 + 50 * took + 5, (len(acked), took)
        assert refused and {r["error"]["code"] for r in refused} == {"too_large"}
        # Past the burst, the rate refuses; on a slow run enough strokes get
        # through for the participant's 8 MiB of annotations to refuse the rest.
        by_rate = [r for r in refused if r["error"]["limit"] == "rate"]
        assert by_rate and all(r["error"]["retry_after"] > 0 for r in by_rate)
        assert {r["error"]["limit"] for r in refused} <= {"rate", Quotas().annotation_bytes}
        assert db_bytes(hub) - before < (len(acked) + 50) * 2 * len(STROKE)
        # A refusal for speed is not remembered: the same op_id, later, is judged again.
        await asyncio.sleep(1)
        again = await p.answer({"kind": "participant.mute", "participant_id": inv["plaintiff"]["participant_id"],
                                "muted": True}, op_id=by_rate[-1]["op_id"])
        assert again["type"] == "ack", again
        # The others were not slowed by the flood.
        ok = await clerk.op({"kind": "segment.add", "text": "被告答辩。"})
        assert ok["type"] == "ack"
        await clerk.close()
        await p.close()

    run(main())


def test_quotas_refuse_with_their_name_over_the_socket_and_http(tmp_path) -> None:  # noqa: ANN001
    hub = HubProcess(tmp_path / "data", args=["--quota", "annotations=2", "--quota", "evidence_items=1"]).start()
    try:
        h = hub.create_hearing()
        hid, inv = h["hearing_id"], invites_by_role(h)
        token = inv["plaintiff"]["token"]
        png = b"\x89PNG\r\n\x1a\n" + b"\0" * 64

        async def main() -> None:
            clerk = await Client.connect(hub.ws_url(hid, inv["clerk"]["token"]))
            await clerk.op({"kind": "segment.add", "text": "原告陈述。"})
            p = await Client.connect(hub.ws_url(hid, token))
            mark = {"kind": "annotation.add", "segment_id": "S1", "start": 0, "end": 2, "style": "highlight"}
            assert [(await p.op(mark))["type"] for _ in range(2)] == ["ack", "ack"]
            third = await p.op(mark)
            assert third["error"] == {"code": "too_large", "quota": "annotations", "limit": 2,
                                      "message": third["error"]["message"]}
            await clerk.close()
            await p.close()

        run(main())
        url = f"{hub.url}/api/hearings/{hid}/evidence"
        auth = {"Authorization": f"Bearer {token}"}
        assert httpx.post(url, params={"name": "a.png"}, content=png, headers=auth).status_code == 201
        r = httpx.post(url, params={"name": "b.png"}, content=png + b"1", headers=auth)
        assert r.status_code == 413 and r.json()["error"]["quota"] == "evidence_items"
        assert len(list((hub.data / "evidence" / hid).iterdir())) == 1  # refused before it was stored
    finally:
        hub.stop()


def test_http_requests_share_the_participants_rate(tmp_path) -> None:  # noqa: ANN001
    hub = HubProcess(tmp_path / "data", args=["--rate-limit", "2"]).start()
    try:
        h = hub.create_hearing()
        token = invites_by_role(h)["plaintiff"]["token"]
        url = f"{hub.url}/api/hearings/{h['hearing_id']}/transcript"
        # The burst (8) goes through; soon after it, a refusal (on a slow
        # machine the bucket refills a little between requests: look for the
        # first refusal rather than at a fixed request).
        codes, r = [], None
        for _ in range(30):
            r = httpx.get(url, headers={"Authorization": f"Bearer {token}"})
            codes.append(r.status_code)
            if r.status_code == 429:
                break
        assert codes[:8] == [200] * 8 and codes[-1] == 429, codes
        assert r is not None and r.json()["error"]["code"] == "rate_limited" and int(r.headers["retry-after"]) >= 1
    finally:
        hub.stop()
