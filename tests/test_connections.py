"""Slow and idle connections against a real hub whose open-file limit is
1,024 (Debian's default): the hub keeps serving."""

from __future__ import annotations

import asyncio
import inspect
import json
import random
import socket
import time
from pathlib import Path

import httpx
import websockets
from uvicorn.protocols.http.auto import AutoHTTPProtocol

from tests.support import HubProcess, invites_by_role


def test_the_uvicorn_hooks_the_guard_uses_exist() -> None:
    for name in ("connection_made", "data_received", "on_response_complete", "connection_lost"):
        assert callable(getattr(AutoHTTPProtocol, name)), name
    source = inspect.getsource(AutoHTTPProtocol)
    for attribute in ("self.connections", "self.cycle", "self.transport", "response_complete",
                      "set_protocol"):
        assert attribute in source, attribute


def slowloris(port: int, n: int) -> list[socket.socket]:
    """``n`` connections that each send half a request head and stop."""
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        socks.append(s)
    return socks


def closed_by_peer(s: socket.socket) -> bool:
    s.settimeout(0.01)
    try:
        return s.recv(1) == b""
    except socket.timeout:
        return False
    except OSError:
        return True


def test_more_slowloris_sockets_than_file_descriptors_do_not_starve_healthz(tmp_path: Path) -> None:
    hub = HubProcess(tmp_path / "data", open_files=1024, args=["--head-timeout", "5"]).start()
    socks: list[socket.socket] = []
    try:
        socks = slowloris(hub.port, 1100)  # more than the hub has file descriptors
        for _ in range(5):
            started = time.monotonic()
            r = httpx.get(hub.url + "/healthz", timeout=5)
            assert r.status_code == 200 and time.monotonic() - started < 2
        # A hearing still works meanwhile.
        assert hub.create_hearing()["hearing_id"]
        time.sleep(7)  # past the head timeout: every half-sent head has been dropped
        assert all(closed_by_peer(s) for s in socks)
    finally:
        for s in socks:
            s.close()
        hub.stop()


def test_websockets_and_keep_alive_requests_are_not_timed_out(tmp_path: Path) -> None:
    hub = HubProcess(tmp_path / "data", args=["--head-timeout", "2"]).start()
    try:
        h = hub.create_hearing()
        token = invites_by_role(h)["judge"]["token"]

        async def main() -> None:
            async with websockets.connect(hub.ws_url(h["hearing_id"], token)) as ws:
                await ws.recv()
                async with httpx.AsyncClient() as client:  # one keep-alive connection
                    for _ in range(4):
                        assert (await client.get(hub.url + "/healthz")).status_code == 200
                        await asyncio.sleep(1)
                await ws.send('{"type": "sync", "since": 0}')
                await asyncio.wait_for(ws.recv(), 5)  # the socket outlived the head timeout
        asyncio.run(main())
    finally:
        hub.stop()


def test_a_storm_of_new_screens_is_queued_then_turned_away_to_retry(tmp_path: Path) -> None:
    """600 screens at once: some are queued and taken in, the rest are turned
    away with 503 and Retry-After; retrying as the page does (after a
    randomized delay), every one of them gets in, and the hub stays up."""
    hub = HubProcess(tmp_path / "data").start()
    try:
        h = hub.create_hearing()
        url = hub.ws_url(h["hearing_id"], invites_by_role(h)["observer"]["token"])
        turned_away: list[int] = []

        async def one() -> None:
            for _ in range(20):
                try:
                    async with websockets.connect(url, open_timeout=30) as ws:
                        assert json.loads(await ws.recv())["type"] == "welcome"
                        await asyncio.sleep(1)
                        return
                except websockets.InvalidStatus as err:
                    assert err.response.status_code == 503 and err.response.headers["Retry-After"] == "1"
                    turned_away.append(1)
                    await asyncio.sleep(random.uniform(0.5, 1.5))
            raise AssertionError("never admitted")

        async def storm() -> None:
            await asyncio.gather(*(one() for _ in range(600)))
        started = time.monotonic()
        asyncio.run(storm())
        assert turned_away and time.monotonic() - started < 30
        assert httpx.get(hub.url + "/healthz").status_code == 200
    finally:
        hub.stop()
