"""``courtroom migrate``: a courthouse's SQLite data directory copied into
PostgreSQL, proved there, and served from it as before."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx

from storage.sqlite import DB_NAME
from tests.case.builders import BODY
from tests.support import Client, HubProcess, invites_by_role
from tests.test_case_api import STAFF, enter, file_case, signed_in


def migrate(hub: HubProcess, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "courtroom.cli", "migrate", "--data", str(hub.data), "--to", url,
                           "--key", str(hub.key)], capture_output=True, text=True, timeout=120)


def a_courthouse(hub: HubProcess) -> tuple[str, dict, dict]:  # type: ignore[type-arg]
    """A hearing with a few lines, a case with a message, a staff account."""
    h = hub.create_hearing()
    hid, inv = h["hearing_id"], invites_by_role(h)

    async def speak() -> None:
        clerk = await Client.connect(hub.ws_url(hid, inv["clerk"]["token"]))
        for n in range(20):
            assert (await clerk.op({"kind": "segment.add", "text": f"第{n}句：书记员宣布法庭纪律。"}))["type"] == "ack"
        await clerk.close()
    asyncio.run(speak())
    case = file_case(hub, BODY)
    phone = enter(hub, case, 0)
    assert phone.post(f"/api/cases/{case['case_id']}/ops",
                      json={"op": {"kind": "message.post", "text": "请问何时开庭？"}}).status_code == 200
    signed_in(hub)
    return hid, inv, case


def test_a_data_directory_moves_into_postgresql_and_serves_the_same(tmp_path: Path, postgres: str) -> None:
    hub = HubProcess(tmp_path / "data").start()
    hid, inv, case = a_courthouse(hub)
    before = httpx.get(f"{hub.url}/api/cases/{case['case_id']}", headers=STAFF).json()
    hub.stop()

    done = migrate(hub, postgres)
    assert done.returncode == 0, done.stderr
    assert "verified 2 hearings and cases" in done.stdout

    moved = HubProcess(tmp_path / "data", args=["--database", postgres])
    moved.start()
    try:
        async def read() -> list[str]:
            observer = await Client.connect(moved.ws_url(hid, inv["observer"]["token"]))  # the same invite
            await observer.close()
            return [e["event"]["segment"]["text"] for e in observer.events if e["event"]["kind"] == "segment.added"]
        assert len(asyncio.run(read())) == 20
        after = httpx.get(f"{moved.url}/api/cases/{case['case_id']}", headers=STAFF).json()
        assert after == before
        session = httpx.post(moved.url + "/api/login",
                             json={"staff_id": "judge1", "password": "correct horse 1"})
        assert session.status_code == 200, session.text  # the account and its password moved
        for stream in (hid, case["case_id"]):
            verified = moved.verify(stream, "--database", postgres)
            assert verified.returncode == 0, verified.stderr
    finally:
        moved.stop()

    again = migrate(hub, postgres)
    assert again.returncode == 1 and "only into an empty database" in again.stderr


def test_a_log_that_does_not_verify_is_not_migrated(tmp_path: Path, postgres: str) -> None:
    hub = HubProcess(tmp_path / "data").start()
    hid, _, _ = a_courthouse(hub)
    hub.stop()
    with sqlite3.connect(hub.data / DB_NAME) as conn:
        conn.execute("UPDATE log SET event = replace(event, '第3句', '第三句') WHERE hearing_id = ?", (hid,))
    done = migrate(hub, postgres)
    assert done.returncode == 1
    assert f"{hid}: chain broken" in done.stderr and "nothing was written" in done.stderr
    import psycopg
    with psycopg.connect(postgres) as conn:
        assert conn.execute("SELECT count(*) FROM log").fetchone() == (0,)
