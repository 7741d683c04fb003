"""Evidence over HTTP against a real hub: checked by content, stored, filed
in the log, served back; bad uploads change nothing."""

from __future__ import annotations

import asyncio
import base64
import hashlib

import httpx

from tests.support import Client, HubProcess, invites_by_role, run
from tests.test_export import signature_png


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
    assert httpx.get(f"{hub.url}/api/hearings/{hid}/evidence/E1",
                     params={"token": inv["judge"]["token"]}).status_code == 404
    assert hub.transcript(hid, inv["judge"]["token"])["seq"] == 1
    assert not list((hub.data / "evidence").rglob("*"))  # nothing stored for a refused upload
