"""Integrity beyond the database, against a real hub: someone who can write
the data directory cuts or rewrites a hearing's record; the hub refuses to
serve it and ``courtroom verify`` names what happened."""

from __future__ import annotations

import base64
import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from storage.sqlite import DB_NAME
from tests.support import ADMIN, Client, HubProcess, invites_by_role, run
from tests.paperwork.test_record import signature_png
from transcript.canonical import canonical_json
from transcript.log import GENESIS_HASH, entry_hash
from transcript.state import TranscriptState


@pytest.fixture
def signed(tmp_path: Path) -> Iterator[tuple[HubProcess, dict[str, Any]]]:
    """A hearing written, with evidence, locked and signed by two parties; the hub stopped."""
    hub = HubProcess(tmp_path / "data").start()
    h = hub.create_hearing()
    inv = invites_by_role(h)
    png = base64.b64decode(signature_png().split(",", 1)[1])

    async def main() -> None:
        clerk = await Client.connect(hub.ws_url(h["hearing_id"], inv["clerk"]["token"]))
        judge = await Client.connect(hub.ws_url(h["hearing_id"], inv["judge"]["token"]))
        for text in ("现在开庭。", "原告要求被告支付货款三十万元。", "被告答辩。"):
            assert (await clerk.op({"kind": "segment.add", "text": text}))["type"] == "ack"
        r = httpx.post(f"{hub.url}/api/hearings/{h['hearing_id']}/evidence", params={"name": "借条.png"}, content=png,
                       headers={"Authorization": f"Bearer {inv['plaintiff']['token']}"})
        assert r.status_code == 201
        assert (await judge.op({"kind": "transcript.lock"}))["type"] == "ack"
        for role in ("plaintiff", "defendant"):
            party = await Client.connect(hub.ws_url(h["hearing_id"], inv[role]["token"]))
            assert (await party.op({"kind": "signature.add", "image": signature_png()}))["type"] == "ack"
            await party.close()
        await clerk.close()
        await judge.close()

    run(main())
    hub.stop()
    yield hub, h
    hub.stop()


def sql(hub: HubProcess, statement: str, *args: Any) -> list[Any]:
    conn = sqlite3.connect(hub.data / DB_NAME)
    with conn:
        rows = conn.execute(statement, args).fetchall()
    conn.close()
    return rows


def served(hub: HubProcess, h: dict[str, Any]) -> httpx.Response:
    hub.start()
    try:
        return httpx.get(f"{hub.url}/api/hearings/{h['hearing_id']}/transcript",
                         headers={"Authorization": f"Bearer {invites_by_role(h)['judge']['token']}"})
    finally:
        hub.stop()


def test_an_untouched_record_verifies_with_its_evidence(signed: tuple[HubProcess, dict[str, Any]]) -> None:
    hub, h = signed
    r = hub.verify(h["hearing_id"])
    assert r.returncode == 0, r.stderr
    assert "signed by key" in r.stdout and "1 evidence files intact" in r.stdout
    t = served(hub, h).json()
    assert t["locked"] and len(t["signatures"]) == 2


def test_deleting_the_newest_entries_is_caught(signed: tuple[HubProcess, dict[str, Any]]) -> None:
    hub, h = signed
    hid = h["hearing_id"]
    last = sql(hub, "SELECT max(seq) FROM log WHERE hearing_id = ?", hid)[0][0]
    # The lock and both signatures go; what is left is a consistent chain.
    sql(hub, "DELETE FROM log WHERE hearing_id = ? AND seq > ?", hid, last - 3)
    r = hub.verify(hid)
    assert r.returncode == 1 and f"entries {last - 2} to {last} are missing" in r.stderr
    answer = served(hub, h)
    assert answer.status_code == 503 and "missing" in answer.json()["error"]["message"]


def test_a_rewritten_chain_is_caught(signed: tuple[HubProcess, dict[str, Any]]) -> None:
    """Text changed and every hash after it computed anew: the chain checks
    out, the signature on the head does not."""
    hub, h = signed
    hid = h["hearing_id"]
    rows = sql(hub, "SELECT seq, participant_id, op_id, ts_ms, op FROM log WHERE hearing_id = ? ORDER BY seq", hid)
    state, prev = TranscriptState(), GENESIS_HASH
    for seq, pid, op_id, ts, op in rows:
        # The forger changes the amount and derives every event anew through
        # the state machine (the lock's hash, the signatures' too).
        op = json.loads(op.replace("三十万元", "三万元"))
        event = state.apply_logged(pid, op)
        new = entry_hash(prev, hid, seq, pid, op_id, ts, op, event)
        sql(hub, "UPDATE log SET op = ?, event = ?, prev_hash = ?, hash = ? WHERE hearing_id = ? AND seq = ?",
            canonical_json(op), canonical_json(event), prev, new, hid, seq)
        prev = new
    r = hub.verify(hid)
    assert r.returncode == 1 and "rewritten" in r.stderr
    # Without the key no one can sign the forged head, and a head signed by
    # another key does not verify either.
    assert served(hub, h).status_code == 503


def test_an_altered_evidence_file_fails_verification(signed: tuple[HubProcess, dict[str, Any]]) -> None:
    hub, h = signed
    (stored,) = (hub.data / "evidence" / h["hearing_id"]).iterdir()
    stored.write_bytes(stored.read_bytes() + b"x")
    r = hub.verify(h["hearing_id"])
    assert r.returncode == 1 and "evidence E1" in r.stderr and "altered" in r.stderr
    stored.unlink()
    r = hub.verify(h["hearing_id"])
    assert r.returncode == 1 and "missing" in r.stderr


def test_a_database_put_back_to_an_older_state_is_caught_by_the_courts_anchors(
        signed: tuple[HubProcess, dict[str, Any]], tmp_path: Path) -> None:
    """Restoring an older backup (its entries and the head the hub signed
    then) gives a record consistent with itself, signature included; only
    the anchors the court archived away from the hub show what was lost."""
    hub, h = signed
    hid = h["hearing_id"]
    archive = tmp_path / "anchors.jsonl"
    a = subprocess.run([sys.executable, "-m", "courtroom.cli", "anchors", "--data", str(hub.data), "-o", str(archive)],
                       capture_output=True, text=True, timeout=60)
    assert a.returncode == 0, a.stderr
    (anchor,) = [json.loads(line) for line in archive.read_text().splitlines()]
    hub.start()  # the same, over HTTP, for an archiver on another machine
    try:
        assert httpx.get(f"{hub.url}/api/anchors").status_code == 401
        over_http = httpx.get(f"{hub.url}/api/anchors", headers={"Authorization": f"Bearer {ADMIN}"})
        assert [json.loads(line) for line in over_http.text.splitlines()] == [anchor]
    finally:
        hub.stop()
    last = sql(hub, "SELECT max(seq) FROM log WHERE hearing_id = ?", hid)[0][0]
    assert anchor["hearing_id"] == hid and anchor["seq"] == last
    # The state before the lock, with the head the hub signed at that point.
    lock_seq = sql(hub, "SELECT seq FROM log WHERE hearing_id = ? AND event LIKE '%transcript.locked%'", hid)[0][0]
    sql(hub, "DELETE FROM log WHERE hearing_id = ? AND seq >= ?", hid, lock_seq)
    earlier = subprocess.run([sys.executable, "-c", SIGN_AT, str(hub.key), hid], capture_output=True, text=True,
                             input=canonical_json(sql(hub, "SELECT seq, hash, ts_ms FROM log WHERE hearing_id = ? "
                                                                 "ORDER BY seq DESC LIMIT 1", hid)[0]))
    assert earlier.returncode == 0, earlier.stderr
    sql(hub, "UPDATE heads SET seq = ?, hash = ?, ts_ms = ?, key_id = ?, signature = ? WHERE hearing_id = ?",
        *json.loads(earlier.stdout), hid)
    assert hub.verify(hid).returncode == 0
    r = hub.verify(hid, "--anchors", str(archive))
    assert r.returncode == 1 and f"anchor of seq {last}" in r.stderr


#: Stands for a head the hub signed in the past (the attacker kept it from an
#: old backup); made here with the key, as the hub made it then.
SIGN_AT = """
import json, sys
from pathlib import Path
from courtroom.keys import load_private
from transcript.heads import Signer
seq, hash_, ts = json.loads(sys.stdin.read())
head = Signer(load_private(Path(sys.argv[1]))).sign(sys.argv[2], seq, hash_, ts)
print(json.dumps([head.seq, head.hash, head.ts_ms, head.key_id, head.signature]))
"""


def test_the_key_stays_outside_the_data_directory(tmp_path: Path) -> None:
    data = tmp_path / "data"
    r = subprocess.run([sys.executable, "-m", "courtroom.cli", "serve", "--data", str(data), "--signing-key",
                        str(data / "key.pem"), "--admin-token", "x" * 20], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "inside the data directory" in r.stderr
    key = tmp_path / "elsewhere" / "key.pem"
    hub = HubProcess(data, args=["--signing-key", str(key)]).start()
    hub.stop()
    assert key.stat().st_mode & 0o777 == 0o600
    public = subprocess.run([sys.executable, "-m", "courtroom.cli", "keys", "public", "--signing-key", str(key)],
                            capture_output=True, text=True, timeout=60)
    assert public.returncode == 0 and "BEGIN PUBLIC KEY" in public.stdout and "PRIVATE" not in public.stdout


def test_verify_without_the_key_says_how_to_give_it(signed: tuple[HubProcess, dict[str, Any]], tmp_path: Path) -> None:
    hub, h = signed
    other = tmp_path / "other-key.pem"
    subprocess.run([sys.executable, "-m", "courtroom.cli", "keys", "public", "--signing-key", str(other)],
                   capture_output=True, timeout=60)
    r = subprocess.run([sys.executable, "-m", "courtroom.cli", "verify", "--data", str(hub.data), "--key",
                        str(other), h["hearing_id"]], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "--key" in r.stderr
    shutil.copy(hub.key, other)
    assert hub.verify(h["hearing_id"]).returncode == 0
