from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

import pytest

from tests.servers import PrivateRedis
from tests.support import UNLIMITED, HubProcess


@pytest.fixture
def nodes(tmp_path: Path, postgres: str, redis_server: PrivateRedis) -> Iterator[Callable[[int], list[HubProcess]]]:
    """``nodes(n)``: n hub processes forming one cluster (one PostgreSQL
    database, one Redis, the same admin token and signing key, a shared
    data directory for files), started."""
    started: list[HubProcess] = []

    def start(n: int) -> list[HubProcess]:
        for _ in range(n):
            node = HubProcess(tmp_path / "data", args=UNLIMITED + ["--database", postgres,
                                                                  "--redis", redis_server.url])
            started.append(node.start())
        return started[-n:]
    yield start
    for node in started:
        node.stop()
