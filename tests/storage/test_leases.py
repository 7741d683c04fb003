"""Leases and fencing, on both backends: one authority per stream, and a
node that lost a lease can never commit to that stream."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from storage import open_database
from storage.database import Database
from storage.leases import Fenced, Leases
from storage.log import LogStore
from tests.storage.test_database import chain

TTL = 1000


def test_one_holder_until_the_lease_expires(db: Database) -> None:
    leases = Leases(db)
    a = leases.acquire("h-1", "node-a", 10_000, TTL)
    assert (a.node, a.epoch) == ("node-a", 1)
    assert leases.acquire("h-1", "node-b", 10_500, TTL).node == "node-a"  # still held
    assert leases.acquire("h-1", "node-a", 10_600, TTL).epoch == 1         # renewing keeps the epoch
    b = leases.acquire("h-1", "node-b", 11_700, TTL)                     # expired at 11 600
    assert (b.node, b.epoch) == ("node-b", 2)
    assert leases.renew("node-a", {"h-1": 1}, 11_800, TTL) == {"h-1"}
    assert leases.renew("node-b", {"h-1": 2}, 11_800, TTL) == set()
    leases.release("h-1", "node-b", 2)
    assert leases.acquire("h-1", "node-c", 11_900, TTL).node == "node-c"  # released: free at once


def test_a_commit_under_a_lost_lease_writes_nothing(db: Database) -> None:
    leases, log = Leases(db), LogStore(db)
    leases.acquire("h-1", "node-a", 0, TTL)
    leases.acquire("h-2", "node-a", 0, TTL)
    leases.acquire("h-1", "node-b", 5_000, TTL)  # node-a was away too long
    entries = chain("h-1", 1) + chain("h-2", 1)
    with pytest.raises(Fenced) as fenced:
        log.append(entries, lambda: leases.fence("node-a", {"h-1": 1, "h-2": 1}))
    assert fenced.value.streams == {"h-1"}
    assert list(log.entries("h-1")) == [] and list(log.entries("h-2")) == []
    log.append(entries[1:], lambda: leases.fence("node-a", {"h-2": 1}))  # the stream it still holds
    assert len(list(log.entries("h-2"))) == 1


def test_taking_a_lease_waits_for_the_holders_commit(postgres: str, tmp_path: Path) -> None:
    """Two nodes on one PostgreSQL: node-b takes an expired lease while
    node-a is inside a commit that passed its fence. node-b's take waits
    for that commit, so the log it loads afterwards holds node-a's entry;
    node-a's next commit is fenced."""
    a_db, b_db = open_database(postgres, tmp_path), open_database(postgres, tmp_path)
    a_leases, a_log, b_leases, b_log = Leases(a_db), LogStore(a_db), Leases(b_db), LogStore(b_db)
    a_leases.acquire("h-1", "node-a", 0, TTL)
    inside, taken = threading.Event(), threading.Event()
    seen: list[int] = []

    def take() -> None:
        inside.wait()
        b_leases.acquire("h-1", "node-b", 5_000, TTL)
        seen.append(len(list(b_log.entries("h-1"))))
        taken.set()
    thread = threading.Thread(target=take)
    thread.start()

    def fence_then_linger() -> None:
        a_leases.fence("node-a", {"h-1": 1})
        inside.set()
        time.sleep(0.3)
        assert not taken.is_set()  # node-b is waiting on the lease's row
    a_log.append(chain("h-1", 1), fence_then_linger)
    thread.join(10)
    assert seen == [1]
    with pytest.raises(Fenced):
        a_log.append(chain("h-1", 2)[1:], lambda: a_leases.fence("node-a", {"h-1": 1}))
    a_db.close()
    b_db.close()
