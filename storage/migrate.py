"""Copy a hub's database into another (a courthouse's SQLite file into the
province's PostgreSQL) and prove the copy: every stream's chain replays and
ends at its signed head.

The copy and its proof are one transaction on the target, so a migration
that fails, is interrupted or does not verify leaves the target as it was;
a target that already holds any log is refused rather than merged into.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from transcript.heads import check_head
from transcript.log import ChainError, replay

from . import TABLES, Store
from .database import Database, StorageError

#: Rows per insert batch.
BATCH = 2000


@dataclass
class Report:
    rows: dict[str, int] = field(default_factory=dict)
    streams: int = 0
    entries: int = 0


def copy(source: Database, target: Database, check: Callable[[Database], None] = lambda db: None,
         progress: Callable[[str, int], None] = lambda t, n: None) -> Report:
    """Copy every table of ``source`` into an empty ``target``; ``check``
    reads the copy before it is committed and raises to abandon it."""
    Store.on(target)  # creates the tables
    if target.one("SELECT 1 FROM log LIMIT 1") is not None:
        raise StorageError(f"{target} already holds hearings: migrate only into an empty database")
    report = Report()
    with target.transaction():
        for table in TABLES:
            n = 0
            for batch in _batches(source.scan(f"SELECT * FROM {table}")):
                marks = ", ".join("?" * len(batch[0]))
                # A target made by an earlier hub run may hold settings (the admin token) already.
                target.executemany(f"INSERT INTO {table} VALUES ({marks})"
                                   + (" ON CONFLICT DO NOTHING" if table == "settings" else ""), batch)
                n += len(batch)
                progress(table, n)
            report.rows[table] = n
        check(target)
    return report


def _batches(rows: Iterable[tuple]) -> Iterable[list[tuple]]:  # type: ignore[type-arg]
    batch: list[tuple] = []  # type: ignore[type-arg]
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def verify_all(db: Database, keys: list[Ed25519PublicKey],
               machine_for: Callable[[str], object | None]) -> tuple[int, int]:
    """Replay every stream in ``db`` and check it against its head, signed
    by one of the court's ``keys``. Returns (streams, entries); raises
    ``StorageError`` naming the first that fails."""
    store = Store.on(db)
    streams = entries = 0
    for prefix in ("h-", "c-"):
        for stream_id in store.log.stream_ids(prefix):
            logged = list(store.log.entries(stream_id))
            machine = machine_for(stream_id)
            try:
                _, last_hash, last_seq = replay(logged, stream_id, machine)  # type: ignore[arg-type]
            except ChainError as err:
                raise StorageError(f"{stream_id}: chain broken at seq {err.seq}: {err.reason}") from None
            problem = check_head(store.log.head(stream_id), last_seq, last_hash, keys)
            if problem is not None:
                raise StorageError(f"{stream_id}: {problem}")
            streams += 1
            entries += len(logged)
    return streams, entries
