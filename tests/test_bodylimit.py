"""Request bodies against a real hub: limits hold while the bytes arrive,
and nobody's body is read before they have shown who they are."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import httpx
import pytest

from tests.support import ADMIN, HubProcess, invites_by_role


def chunked_post(hub: HubProcess, path: str, headers: dict[str, str], chunks: int, size: int = 64 * 1024,
                 finish: bool = False) -> tuple[int, float]:
    """POST a chunked body of ``chunks`` pieces without (unless ``finish``)
    ever ending it; the status the hub answers with, and how long it took."""
    sock = socket.create_connection(("127.0.0.1", hub.port))
    sock.settimeout(10)
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    started = time.monotonic()
    sock.sendall(head.encode())
    piece = f"{size:x}\r\n".encode() + b" " * size + b"\r\n"
    try:
        for _ in range(chunks):
            sock.sendall(piece)
        if finish:
            sock.sendall(b"0\r\n\r\n")
    except OSError:
        pass  # the hub answered and closed while we were still sending
    try:
        answer = sock.recv(4096)
    finally:
        sock.close()
    return int(answer.split(b" ", 2)[1]), time.monotonic() - started


def test_a_body_is_not_read_before_the_token_is_checked(hub: HubProcess) -> None:
    # Two chunks of an endless body: the hub must answer without waiting for the rest.
    status, took = chunked_post(hub, "/api/hearings", {}, chunks=2)
    assert status == 401 and took < 5
    status, _ = chunked_post(hub, "/api/hearings", {"Authorization": "Bearer wrong"}, chunks=2)
    assert status == 401


def test_a_chunked_body_is_refused_once_it_passes_the_limit(hub: HubProcess) -> None:
    # 320 KiB of an endless chunked body, with the admin token: 413 as soon as
    # 256 KiB have arrived, without waiting for the end.
    status, took = chunked_post(hub, "/api/hearings", {"Authorization": f"Bearer {ADMIN}"}, chunks=5)
    assert status == 413 and took < 5
    inv = invites_by_role(hub.create_hearing())["plaintiff"]
    h = inv["join_url"].split("/hearings/")[1].split("?")[0]
    status, _ = chunked_post(hub, f"/api/hearings/{h}/evidence?name=a.pdf", {"Authorization": f"Bearer {inv['token']}"},
                             chunks=21, size=1024 * 1024)
    assert status == 413


def test_names_must_be_visible_text(hub: HubProcess) -> None:
    for bad in ({"title": "   "}, {"court": "法院\x00"}, {"case_number": "\u0085"},
                {"participants": [{"role": "judge", "name": "王\x00法官"}]}):
        body = {"case_number": "(2026)京0105民初1号", "title": "买卖合同纠纷", "court": "朝阳法院",
                "participants": [{"role": "judge", "name": "王法官"}], **bad}
        r = httpx.post(hub.url + "/api/hearings", headers={"Authorization": f"Bearer {ADMIN}"}, json=body)
        assert r.status_code == 400 and r.json()["error"]["code"] == "invalid", bad
    h = hub.create_hearing([{"role": "judge", "name": "  王法官 "}])
    assert h["invites"][0]["name"] == "王法官"


@pytest.mark.parametrize("token", ["x", "short-token"])
def test_serve_refuses_a_guessable_admin_token(tmp_path, token: str) -> None:  # noqa: ANN001
    r = subprocess.run([sys.executable, "-m", "courtroom.cli", "serve", "--data", str(tmp_path), "--admin-token", token],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "at least 16 characters" in r.stderr
