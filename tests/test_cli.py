"""``courtroom verify`` and ``courtroom export`` on a hub's data directory."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from storage.sqlite import DB_NAME
from tests.support import Client, HubProcess, invites_by_role


def courtroom(*args: str) -> subprocess.CompletedProcess[str]:
    """The command, with the signing key of the hub whose ``--data`` it reads."""
    env = dict(os.environ)
    if "--data" in args:
        data = Path(args[args.index("--data") + 1])
        env["COURTROOM_SIGNING_KEY"] = str(HubProcess(data).key)
    return subprocess.run([sys.executable, "-m", "courtroom.cli", *args], capture_output=True,
                          text=True, timeout=60, env=env)


@pytest.fixture
def recorded(tmp_path: Path) -> tuple[Path, str]:
    """A data dir holding one hearing with a few segments and annotations."""
    hub = HubProcess(tmp_path / "data").start()
    try:
        h = hub.create_hearing()
        inv = invites_by_role(h)

        async def main() -> None:
            clerk = await Client.connect(hub.ws_url(h["hearing_id"], inv["clerk"]["token"]))
            plaintiff = await Client.connect(hub.ws_url(h["hearing_id"], inv["plaintiff"]["token"]))
            judge_pid = inv["judge"]["participant_id"]
            for text in ("现在开庭。", "原告陈述诉讼请求。", "被告答辩。"):
                assert (await clerk.op({"kind": "segment.add", "text": text,
                                        "speaker": judge_pid}))["type"] == "ack"
            assert (await plaintiff.op({"kind": "annotation.add", "segment_id": "S2", "start": 0,
                                        "end": 2, "style": "comment", "color": "yellow",
                                        "body": "请注意"}))["type"] == "ack"
            await clerk.close()
            await plaintiff.close()

        asyncio.run(main())
    finally:
        hub.stop()
    return tmp_path / "data", h["hearing_id"]


def test_verify_accepts_an_untouched_log(recorded: tuple[Path, str]) -> None:
    data, hid = recorded
    r = courtroom("verify", "--data", str(data), hid)
    assert r.returncode == 0, r.stderr
    assert "5 entries verified" in r.stdout and "signed by key" in r.stdout


@pytest.mark.parametrize("column, value", [
    ("event", None),          # a transcript text rewritten after the fact
    ("participant_id", "p-forged"),
    ("ts_ms", 0),
    ("hash", "0" * 64),
])
def test_verify_names_the_first_altered_row(recorded: tuple[Path, str], column: str,
                                            value: object) -> None:
    data, hid = recorded
    conn = sqlite3.connect(data / DB_NAME)
    if column == "event":
        event = conn.execute("SELECT event FROM log WHERE hearing_id=? AND seq=3", (hid,)).fetchone()[0]
        value = event.replace("原告陈述诉讼请求", "原告撤回诉讼请求")
        assert value != event
    with conn:
        conn.execute(f"UPDATE log SET {column} = ? WHERE hearing_id = ? AND seq = 3", (value, hid))
    conn.close()
    r = courtroom("verify", "--data", str(data), hid)
    assert r.returncode == 1
    assert "seq 3" in r.stderr
    r = courtroom("export", "--data", str(data), hid)
    assert r.returncode == 1 and "seq 3" in r.stderr


def test_verify_of_an_unknown_hearing_is_a_clear_error(recorded: tuple[Path, str], tmp_path: Path) -> None:
    data, _ = recorded
    r = courtroom("verify", "--data", str(data), "h-nope")
    assert r.returncode == 2 and "no hearing h-nope" in r.stderr
    r = courtroom("verify", "--data", str(tmp_path / "empty"), "h-nope")
    assert r.returncode == 2 and "no database" in r.stderr


def test_export_txt_and_json(recorded: tuple[Path, str], tmp_path: Path) -> None:
    data, hid = recorded
    r = courtroom("export", "--data", str(data), hid, "--format", "txt")
    assert r.returncode == 0, r.stderr
    assert "庭审笔录" in r.stdout and "案号：(2026)京0105民初1号" in r.stdout
    assert "审判员 王法官：原告陈述诉讼请求。" in r.stdout
    assert "〔批注·张三〕“原告”：请注意" in r.stdout
    out = tmp_path / "t.json"
    r = courtroom("export", "--data", str(data), hid, "--format", "json", "-o", str(out))
    assert r.returncode == 0, r.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert [s["text"] for s in doc["segments"]] == ["现在开庭。", "原告陈述诉讼请求。", "被告答辩。"]
    assert doc["seq"] == 5 and len(doc["transcript_hash"]) == 64
    pdf = tmp_path / "笔录.pdf"
    r = courtroom("export", "--data", str(data), hid, "--format", "pdf", "-o", str(pdf))
    assert r.returncode == 0, r.stderr
    assert pdf.read_bytes().startswith(b"%PDF-")


def test_export_takes_the_format_from_the_files_suffix(recorded: tuple[Path, str], tmp_path: Path) -> None:
    data, hid = recorded
    for name, magic in (("笔录.docx", b"PK"), ("笔录.pdf", b"%PDF-"), ("笔录.txt", "北京".encode())):
        out = tmp_path / name
        r = courtroom("export", "--data", str(data), hid, "-o", str(out))
        assert r.returncode == 0, r.stderr
        assert out.read_bytes().startswith(magic), name
    r = courtroom("export", "--data", str(data), hid, "-o", str(tmp_path / "笔录.doc"))
    assert r.returncode == 2 and "--format" in r.stderr and not (tmp_path / "笔录.doc").exists()


def test_transcribe_without_a_model_names_the_fix(tmp_path: Path) -> None:
    wav = tmp_path / "a.wav"
    wav.write_bytes(b"RIFF")
    r = courtroom("transcribe", str(wav), "--model", str(tmp_path / "missing"))
    assert r.returncode == 2
    assert "courtroom models download small-cn" in r.stderr and "--model" in r.stderr


def test_serve_refuses_an_emblem_it_cannot_show(tmp_path: Path) -> None:
    for name, problem in (("missing.png", "no such file"), ("emblem.gif", "PNG, JPEG, WebP or SVG")):
        if name.endswith(".gif"):
            (tmp_path / name).write_bytes(b"GIF89a")
        r = courtroom("serve", "--data", str(tmp_path / "data"), "--port", "0", "--emblem", str(tmp_path / name))
        assert r.returncode == 2 and problem in r.stderr, r.stderr


def test_serve_refuses_a_live_stream_size_it_cannot_make(tmp_path: Path) -> None:
    for size in ("big", "641x360", "100x60", "3840x2160"):
        r = courtroom("serve", "--data", str(tmp_path / "data"), "--port", "0", "--live-size", size)
        assert r.returncode == 2 and f"--live-size {size}: give WIDTHxHEIGHT" in r.stderr, r.stderr


def test_serve_names_a_database_or_redis_it_cannot_use(tmp_path: Path) -> None:
    from tests.support import free_port
    for option, problem in ((["--database", "mysql://court/db"], "give a postgresql:// URL"),
                            (["--database", f"postgresql://court:s3cret@127.0.0.1:{free_port()}/db"],
                             "cannot connect to PostgreSQL"),
                            (["--redis", f"redis://127.0.0.1:{free_port()}/0"], "cannot reach Redis"),
                            (["--redis", "http://nope"], "must be a redis:// URL")):
        r = courtroom("serve", "--data", str(tmp_path / "data"), "--port", "0", *option)
        assert r.returncode == 2 and problem in r.stderr and "Traceback" not in r.stderr, r.stderr
        assert "s3cret" not in r.stderr
