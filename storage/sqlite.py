"""The embedded backend: one SQLite file in the data directory, in WAL mode,
every commit fsync'd.

A hub's commits never copy the WAL into the database file themselves
(that fsync can stall a commit for 100 ms): every ``CHECKPOINT_EVERY``
committed log entries a second connection on its own thread does it, and
closing empties the WAL.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

from .database import Database, Params, Row, StorageError

log = logging.getLogger(__name__)

#: The database file in a data directory.
DB_NAME = "courtroom.db"
#: Committed entries between WAL checkpoints.
CHECKPOINT_EVERY = 1000

_CREATE_TABLE = re.compile(r"^\s*CREATE TABLE", re.I)


def connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    """A connection in durable WAL mode (or a read-only one, for inspecting
    a database a hub may be writing to)."""
    if readonly:
        if not path.exists():
            raise StorageError(f"no database at {path}")
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    # FULL: in WAL mode the WAL is fsync'd at every commit, so a commit that
    # returned survives power loss, not just a process crash.
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


class SqliteDatabase(Database):
    engine = "SQLite"

    def __init__(self, path: Path, *, readonly: bool = False, checkpoints: bool = False,
                 beside_hub: bool = False) -> None:
        """``checkpoints``: the hub's connection, whose WAL is copied by a
        connection of its own off the commit path (see the module's doc);
        ``beside_hub``: another connection of a serving hub's."""
        self.path = path
        self.conn = connect(path, readonly=readonly)
        self._checkpointer: ThreadPoolExecutor | None = None
        self._checkpointing: Future[None] | None = None
        self._since = 0
        if checkpoints or (beside_hub and not readonly):
            # Beside the hub too: SQLite's own checkpoint at a commit of
            # this connection would copy the hub's WAL into the database file
            # on the way; the hub's checkpointer does that, off its commit path.
            self.conn.execute("PRAGMA wal_autocheckpoint=0")
        if checkpoints:
            self._checkpointer = ThreadPoolExecutor(1, thread_name_prefix="checkpoint")
            self._checkpoint_conn = self._checkpointer.submit(connect, path).result()

    def __str__(self) -> str:
        return str(self.path)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        # IMMEDIATE takes the write lock at once: a reader turned writer
        # half-way could otherwise fail with SQLITE_BUSY.
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        # In WAL mode a read transaction sees one snapshot from its first read.
        self.conn.execute("BEGIN")
        try:
            yield
        finally:
            self.conn.execute("COMMIT")

    def execute(self, sql: str, params: Params = ()) -> int:
        return self.conn.execute(sql, params).rowcount

    def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        self.conn.executemany(sql, rows)

    def rows(self, sql: str, params: Params = ()) -> list[Row]:
        return self.conn.execute(sql, params).fetchall()

    def scan(self, sql: str, params: Params = ()) -> Iterator[Row]:
        yield from self.conn.execute(sql, params)

    def create(self, ddl: str) -> None:
        # A table with a primary key is stored as that key's b-tree.
        statements = [s.strip() for s in ddl.split(";") if s.strip()]
        self.conn.executescript("".join(
            s + (" WITHOUT ROWID" if _CREATE_TABLE.match(s) and "PRIMARY KEY" in s else "") + ";\n"
            for s in statements))

    def committed(self, entries: int) -> None:
        if self._checkpointer is None:
            return
        self._since += entries
        if self._since < CHECKPOINT_EVERY or self._checkpointing is not None:
            return
        self._since = 0
        self._checkpointing = self._checkpointer.submit(checkpoint, self._checkpoint_conn)
        self._checkpointing.add_done_callback(self._checkpoint_done)

    def _checkpoint_done(self, done: Future[None]) -> None:
        self._checkpointing = None
        if not done.cancelled() and done.exception():
            log.error("WAL checkpoint failed: %s", done.exception())

    def close(self) -> None:
        if self._checkpointer is not None:
            if self._checkpointing is not None:
                self._checkpointing.result()
            checkpoint(self.conn, truncate=True)
            self._checkpointer.submit(self._checkpoint_conn.close).result()
            self._checkpointer.shutdown()
        self.conn.close()


def checkpoint(conn: sqlite3.Connection, *, truncate: bool = False) -> None:
    """Copy committed WAL frames into the database file. PASSIVE never
    blocks writers; TRUNCATE (at shutdown) also empties the WAL."""
    conn.execute(f"PRAGMA wal_checkpoint({'TRUNCATE' if truncate else 'PASSIVE'})").fetchall()
