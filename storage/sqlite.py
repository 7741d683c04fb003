"""SQLite storage of the operation log (WAL, every commit fsync'd).

Synchronous and thread-bound on purpose: the hub runs it on one worker
thread and batches appends (group commit); the command line uses it as is.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Callable, Iterator

from transcript.canonical import canonical_json
from transcript.heads import SignedHead
from transcript.log import LogEntry

SCHEMA = """
CREATE TABLE IF NOT EXISTS log (
    hearing_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    participant_id TEXT NOT NULL,
    op_id TEXT NOT NULL,
    ts_ms INTEGER NOT NULL,
    op TEXT NOT NULL,
    event TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (hearing_id, seq)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS log_op_id ON log (hearing_id, participant_id, op_id);
CREATE TABLE IF NOT EXISTS heads (
    hearing_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL,
    ts_ms INTEGER NOT NULL,
    key_id TEXT NOT NULL,
    signature TEXT NOT NULL
) WITHOUT ROWID;
"""


def open_database(path: Path, *, readonly: bool = False,
                  autocheckpoint: bool = True) -> sqlite3.Connection:
    """Open (creating if needed) the data dir's database in durable WAL mode.

    ``readonly`` opens an existing database for inspection (``verify``,
    ``export``) while a hub may be writing to it. Without ``autocheckpoint``
    commits never copy the WAL into the database file themselves (that
    fsync can stall a commit for 100 ms); the caller runs ``checkpoint``
    on another connection instead."""
    if readonly:
        if not path.exists():
            raise FileNotFoundError(f"no database at {path}")
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    # FULL: in WAL mode the WAL is fsync'd at every commit, so a commit that
    # returned survives power loss, not just a process crash.
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    if not autocheckpoint:
        conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.executescript(SCHEMA)
    return conn


def checkpoint(conn: sqlite3.Connection, *, truncate: bool = False) -> None:
    """Copy committed WAL frames into the database file. PASSIVE never
    blocks writers; TRUNCATE (at shutdown) also empties the WAL."""
    conn.execute(f"PRAGMA wal_checkpoint({'TRUNCATE' if truncate else 'PASSIVE'})").fetchall()


class LogStore:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def append(self, entries: list[LogEntry],
               also: Callable[[sqlite3.Connection], None] | None = None) -> None:
        """Append entries in one durable transaction (all or none); ``also``
        writes other tables in the same transaction."""
        rows = [(e.stream_id, e.seq, e.participant_id, e.op_id, e.ts_ms, canonical_json(e.op),
                 canonical_json(e.event), e.prev_hash, e.hash) for e in entries]
        with self.conn:
            self.conn.execute("BEGIN IMMEDIATE")
            self.conn.executemany("INSERT INTO log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            if also is not None:
                also(self.conn)

    def put_heads(self, heads: list[SignedHead]) -> None:
        """Record hearings' signed heads; call inside the transaction that
        appends the entries they sign."""
        self.conn.executemany("INSERT OR REPLACE INTO heads VALUES (?, ?, ?, ?, ?, ?)",
                              [(h.hearing_id, h.seq, h.hash, h.ts_ms, h.key_id, h.signature) for h in heads])

    def head(self, hearing_id: str) -> SignedHead | None:
        row = self.conn.execute("SELECT hearing_id, seq, hash, ts_ms, key_id, signature FROM heads "
                                "WHERE hearing_id = ?", (hearing_id,)).fetchone()
        return SignedHead(*row) if row else None

    def heads(self) -> list[SignedHead]:
        return [SignedHead(*row) for row in self.conn.execute(
            "SELECT hearing_id, seq, hash, ts_ms, key_id, signature FROM heads ORDER BY hearing_id")]

    def entries(self, hearing_id: str) -> Iterator[LogEntry]:
        cur = self.conn.execute(
            "SELECT hearing_id, seq, participant_id, op_id, ts_ms, op, event, prev_hash, hash "
            "FROM log WHERE hearing_id = ? ORDER BY seq", (hearing_id,))
        for h, seq, pid, op_id, ts, op, event, prev, hsh in cur:
            yield LogEntry(h, seq, pid, op_id, ts, json.loads(op), json.loads(event), prev, hsh)

    def has_hearing(self, hearing_id: str) -> bool:
        row = self.conn.execute("SELECT 1 FROM log WHERE hearing_id = ? AND seq = 1",
                                (hearing_id,)).fetchone()
        return row is not None

    def stream_ids(self, prefix: str) -> list[str]:
        """Every stream whose id starts with ``prefix`` (``h-`` hearings,
        ``c-`` cases), oldest first. (The column is named ``hearing_id``
        from the days when hearings were the only streams.)"""
        return [r[0] for r in self.conn.execute(
            "SELECT hearing_id FROM log WHERE seq = 1 AND hearing_id >= ? AND hearing_id < ? ORDER BY ts_ms",
            (prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)))]
