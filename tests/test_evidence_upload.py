"""Evidence over HTTP against a real hub: checked by content, stored, filed
in the log, served back; bad uploads change nothing."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
from pathlib import Path
from typing import Any, Iterator

import httpx

from tests.support import Client, HubProcess, invites_by_role, run
from tests.paperwork.test_record import signature_png


def png_bytes() -> bytes:
    return base64.b64decode(signature_png().split(",", 1)[1])


def upload(hub: HubProcess, hid: str, token: str, data: bytes, name: str = "借条.png") -> httpx.Response:
    return httpx.post(f"{hub.url}/api/hearings/{hid}/evidence", params={"name": name}, content=data,
                      headers={"Authorization": f"Bearer {token}", "Content-Type": "image/png"}, timeout=30)


def test_an_upload_is_stored_filed_and_served(hub: HubProcess) -> None:
    h = hub.create_hearing()
    hid, inv = h["hearing_id"], invites_by_role(h)
    data = png_bytes()

    async def main() -> None:
        judge = await Client.connect(hub.ws_url(hid, inv["judge"]["token"]))
        r = await asyncio.to_thread(upload, hub, hid, inv["plaintiff"]["token"], data)
        assert r.status_code == 201, r.text
        item = r.json()["evidence"]
        assert item == {"id": "E1", "sha256": hashlib.sha256(data).hexdigest(), "name": "借条.png",
                        "media_type": "image/png", "size": len(data), "status": "submitted",
                        "uploader": {"participant_id": inv["plaintiff"]["participant_id"], "role": "plaintiff",
                                     "name": "张三"}}
        await judge.wait_for(lambda: any(e["event"]["kind"] == "evidence.added" for e in judge.events))
        again = await asyncio.to_thread(upload, hub, hid, inv["plaintiff"]["token"], data)
        assert again.status_code == 201 and again.json() == r.json()  # the same answer, nothing added
        got = httpx.get(f"{hub.url}/api/hearings/{hid}/evidence/E1", params={"token": inv["defendant"]["token"]})
        assert got.status_code == 200 and got.content == data and got.headers["content-type"] == "image/png"
        assert got.headers["x-content-type-options"] == "nosniff"
        assert (await judge.op({"kind": "evidence.approve", "evidence_id": "E1"}))["type"] == "ack"
        # Filing over the websocket without a file is refused.
        nack = await judge.op({"kind": "evidence.add", "sha256": "a" * 64, "name": "x", "media_type": "image/png",
                               "size": 1})
        assert nack["type"] == "nack" and "upload" in nack["error"]["message"]
        await judge.close()
    run(main())
    doc = hub.transcript(hid, inv["judge"]["token"])
    assert doc["seq"] == 3  # created, filed, approved: the repeat and the refusal added nothing


def test_bad_uploads_get_clear_errors_and_change_nothing(hub: HubProcess) -> None:
    h = hub.create_hearing()
    hid, inv = h["hearing_id"], invites_by_role(h)
    fake = upload(hub, hid, inv["plaintiff"]["token"], b"GIF89a not really a photo", "照片.png")
    assert fake.status_code == 400 and fake.json()["error"]["code"] == "invalid"
    assert "PDF" in fake.json()["error"]["message"]
    big = upload(hub, hid, inv["plaintiff"]["token"], b"\xff\xd8\xff" + b"\0" * (20 * 1024 * 1024))
    assert big.status_code == 413 and big.json()["error"]["code"] == "too_large"
    assert upload(hub, hid, inv["observer"]["token"], png_bytes()).status_code == 403
    assert upload(hub, hid, "wrong", png_bytes()).status_code == 401
    nameless = httpx.post(f"{hub.url}/api/hearings/{hid}/evidence", content=png_bytes(),
                          headers={"Authorization": f"Bearer {inv['plaintiff']['token']}"})
    assert nameless.status_code == 400
    for bad_name in ("   ", "a\x00b.png", "借\x01条.png"):
        r = upload(hub, hid, inv["plaintiff"]["token"], png_bytes(), bad_name)
        assert r.status_code == 400 and r.json()["error"]["code"] == "invalid", (bad_name, r.text)
    assert httpx.get(f"{hub.url}/api/hearings/{hid}/evidence/E1",
                     params={"token": inv["judge"]["token"]}).status_code == 404
    assert hub.transcript(hid, inv["judge"]["token"])["seq"] == 1
    assert not [p for p in (hub.data / "evidence").rglob("*") if p.is_file()]  # nothing stored for a refused upload


def stray(hub: HubProcess) -> list[Path]:
    return [p for p in (hub.data / "evidence").rglob("*") if p.is_file() and len(p.name) != 64]


def test_concurrent_uploads_of_one_file_all_succeed_and_leave_one_file(hub: HubProcess) -> None:
    h = hub.create_hearing()
    hid, inv = h["hearing_id"], invites_by_role(h)
    data = b"%PDF-1.7\n" + os.urandom(1024 * 1024)

    async def main() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=60) as client:
            async def one(role: str) -> httpx.Response:
                return await client.post(f"{hub.url}/api/hearings/{hid}/evidence", params={"name": "合同.pdf"},
                                         content=data, headers={"Authorization": f"Bearer {inv[role]['token']}"})
            return await asyncio.gather(*[one(("plaintiff", "defendant")[n % 2]) for n in range(40)])

    answers = asyncio.run(main())
    assert [r.status_code for r in answers] == [201] * 40, {r.text for r in answers if r.status_code != 201}
    items = {r.json()["evidence"]["id"] for r in answers}
    assert len(items) == 2  # one item per uploader, the same file
    files = [p for p in (hub.data / "evidence" / hid).iterdir()]
    assert [p.name for p in files] == [hashlib.sha256(data).hexdigest()] and not stray(hub)


def test_an_upload_refused_after_it_was_stored_is_removed(tmp_path: Path) -> None:
    hub = HubProcess(tmp_path / "data", args=["--quota", "evidence_bytes=1000"]).start()
    try:
        h = hub.create_hearing()
        hid, inv = h["hearing_id"], invites_by_role(h)

        def chunked() -> Iterator[bytes]:  # no Content-Length: the size is known only once stored
            yield b"%PDF-1.7\n"
            yield b"0" * 2000
        r = httpx.post(f"{hub.url}/api/hearings/{hid}/evidence", params={"name": "长.pdf"}, content=chunked(),
                       headers={"Authorization": f"Bearer {inv['plaintiff']['token']}"})
        assert r.status_code == 413 and r.json()["error"]["quota"] == "evidence_bytes"
        assert not list((hub.data / "evidence").rglob("*.*")) and not [
            p for p in (hub.data / "evidence").rglob("*") if p.is_file()]
    finally:
        hub.stop()




def test_a_full_disk_is_a_clear_507_and_leaves_nothing(tmp_path: Path, small_disk: Any) -> None:
    small_disk(tmp_path / "data" / "evidence", 3)  # the evidence folder: 3 MiB
    hub = HubProcess(tmp_path / "data").start()
    try:
        h = hub.create_hearing()
        hid, inv = h["hearing_id"], invites_by_role(h)
        token = inv["plaintiff"]["token"]
        first = b"%PDF-1.7\n" + os.urandom(2 * 1024 * 1024)
        assert upload(hub, hid, token, first, "一.pdf").status_code == 201
        full = upload(hub, hid, token, b"%PDF-1.7\n" + os.urandom(2 * 1024 * 1024), "二.pdf")
        assert full.status_code == 507 and full.json()["error"]["code"] == "insufficient_storage", full.text
        assert not stray(hub)
        assert httpx.get(hub.url + "/healthz").status_code == 200
        assert upload(hub, hid, token, png_bytes(), "三.png").status_code == 201  # room enough for a small one
        assert len(hub.transcript(hid, token)["evidence"]) == 2
    finally:
        hub.stop()


def test_an_evidence_file_altered_on_disk_is_not_served(hub: HubProcess) -> None:
    h = hub.create_hearing()
    hid, inv = h["hearing_id"], invites_by_role(h)
    token = inv["plaintiff"]["token"]
    r = upload(hub, hid, token, png_bytes())
    assert r.status_code == 201
    url = f"{hub.url}/api/hearings/{hid}/evidence/E1"
    assert httpx.get(url, params={"token": token}).status_code == 200
    path = hub.data / "evidence" / hid / r.json()["evidence"]["sha256"]
    path.write_bytes(png_bytes() + b"tampered")
    altered = httpx.get(url, params={"token": token})
    assert altered.status_code == 503 and "altered" in altered.json()["error"]["message"]
