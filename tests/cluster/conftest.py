from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

import pytest

from tests.servers import PrivateRedis
from tests.support import UNLIMITED, HubProcess, free_port


@pytest.fixture
def nodes(tmp_path: Path, postgres: str, redis_server: PrivateRedis) -> Iterator[Callable[..., list[HubProcess]]]:
    """``nodes(n)``: n hub processes forming one cluster (one PostgreSQL
    database, one Redis, the same admin token and signing key, a shared
    data directory for files), started. ``hosts``: each node's own host
    name in its address (listening on every interface), so that a browser
    sees each node as a site of its own, as it would across machines."""
    started: list[HubProcess] = []

    def start(n: int, hosts: list[str] | None = None) -> list[HubProcess]:
        for k in range(n):
            port = free_port()
            own = ["--host", "0.0.0.0", "--node-url", f"http://{hosts[k]}:{port}"] if hosts else []
            node = HubProcess(tmp_path / "data", port=port, args=UNLIMITED + ["--database", postgres,
                                                                             "--redis", redis_server.url, *own])
            started.append(node.start())
        return started[-n:]
    yield start
    for node in started:
        node.stop()
