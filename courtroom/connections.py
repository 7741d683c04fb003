"""Connections to the hub: how many it holds, and how long one may take to
say what it wants.

uvicorn closes idle keep-alive connections, but a connection that never
finishes its request head (slowloris) is held for ever, and enough of them
exhaust the process's file descriptors: the hub stops accepting anyone,
``/healthz`` included. Here every connection must complete a request head
within ``head_timeout`` seconds of arriving (or of its previous answer),
and the hub holds at most ``max_connections``: at the cap, the connection
that has waited longest without completing a head is dropped to make room
for the new one, so an honest client is served however many idle sockets
an attacker keeps open. A real deployment still puts a reverse proxy in
front (README: what it must do); this makes the hub itself hold up.

This subclasses uvicorn's HTTP protocol (the one ``http="auto"`` picks)
and relies on its ``connections`` set, ``cycle``, ``transport`` and
``on_response_complete``; uvicorn is pinned and tests/test_connections.py
checks those hooks.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

HEAD_TIMEOUT = 10.0
#: File descriptors kept for everything that is not a client connection:
#: the database, recordings, evidence, media sockets.
RESERVED_FDS = 256
MAX_CONNECTIONS = 10_000


def raise_fd_limit() -> int:
    """Raise this process's open-file limit to what the system allows it
    (Debian's default soft limit is 1,024); the soft limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = max(soft, 1 << 20)
    if soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    return soft


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    max_connections: int
    head_timeout: float = HEAD_TIMEOUT

    @classmethod
    def for_this_process(cls, wanted: int = MAX_CONNECTIONS, head_timeout: float = HEAD_TIMEOUT) -> ConnectionLimits:
        """At most ``wanted``, and always fewer than the open-file limit allows."""
        return cls(max(16, min(wanted, raise_fd_limit() - RESERVED_FDS)), head_timeout)


class Guard:
    """Shared by every connection of one server."""

    def __init__(self, limits: ConnectionLimits) -> None:
        self.limits = limits
        #: Connections without a complete request head, oldest first, with
        #: the time they started waiting.
        self.waiting: dict[Any, float] = {}
        self._sweeping: asyncio.TimerHandle | None = None
        self.dropped = 0

    def arrived(self, conn: Any) -> None:
        self.waiting[conn] = time.monotonic()
        if self._sweeping is None:
            self._sweeping = asyncio.get_running_loop().call_later(1.0, self._sweep)
        if len(conn.connections) <= self.limits.max_connections:
            return
        victim = next((c for c in self.waiting if c is not conn), conn)
        log.warning("%d connections: dropping one that has not sent a request", len(conn.connections))
        self._drop(victim)

    def read(self, conn: Any) -> None:
        """After data arrived: has a request head been completed, or has the
        connection become a websocket?"""
        if conn not in self.waiting:
            return
        upgraded = conn.transport.get_protocol() is not conn
        cycle = conn.cycle
        if upgraded or (cycle is not None and not cycle.response_complete):
            del self.waiting[conn]

    def answered(self, conn: Any) -> None:
        """A response is complete: the next request head is waited for anew."""
        if not conn.transport.is_closing():
            self.waiting.pop(conn, None)
            self.waiting[conn] = time.monotonic()

    def gone(self, conn: Any) -> None:
        self.waiting.pop(conn, None)

    def _drop(self, conn: Any) -> None:
        self.waiting.pop(conn, None)
        self.dropped += 1
        conn.transport.close()

    def _sweep(self) -> None:
        deadline = time.monotonic() - self.limits.head_timeout
        for conn, since in list(self.waiting.items()):
            if since > deadline:
                break  # the rest waited less
            self._drop(conn)
        self._sweeping = asyncio.get_running_loop().call_later(1.0, self._sweep)


def guarded(base: type, guard: Guard) -> type:
    """uvicorn's HTTP protocol ``base``, with ``guard`` watching it."""

    class GuardedProtocol(base):  # type: ignore[misc, valid-type]
        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            guard.arrived(self)

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            guard.read(self)

        def on_response_complete(self) -> None:
            super().on_response_complete()
            guard.answered(self)

        def connection_lost(self, exc: Exception | None) -> None:
            guard.gone(self)
            super().connection_lost(exc)

    GuardedProtocol.__name__ = f"Guarded{base.__name__}"
    return GuardedProtocol
