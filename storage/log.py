"""The operation log and its signed heads, on any ``Database``.

Entries are stored as written (canonical JSON text), so what ``verify``
hashes is byte for byte what was committed, whatever the engine.
"""

from __future__ import annotations

import json
from typing import Callable, Iterator

from transcript.canonical import canonical_json
from transcript.heads import SignedHead
from transcript.log import LogEntry

from .database import Database

# The stream id column is named ``hearing_id`` from the days when hearings
# were the only streams; a case's entries live here too.
SCHEMA = """
CREATE TABLE IF NOT EXISTS log (
    hearing_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    participant_id TEXT NOT NULL,
    op_id TEXT NOT NULL,
    ts_ms BIGINT NOT NULL,
    op TEXT NOT NULL,
    event TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (hearing_id, seq)
);
CREATE UNIQUE INDEX IF NOT EXISTS log_op_id ON log (hearing_id, participant_id, op_id);
CREATE INDEX IF NOT EXISTS log_first ON log (ts_ms) WHERE seq = 1;
CREATE TABLE IF NOT EXISTS heads (
    hearing_id TEXT PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL,
    ts_ms BIGINT NOT NULL,
    key_id TEXT NOT NULL,
    signature TEXT NOT NULL
);
"""

_COLUMNS = "hearing_id, seq, participant_id, op_id, ts_ms, op, event, prev_hash, hash"
_HEAD = "hearing_id, seq, hash, ts_ms, key_id, signature"


class LogStore:
    def __init__(self, db: Database, *, create: bool = True) -> None:
        self.db = db
        if create:
            db.create(SCHEMA)

    def append(self, entries: list[LogEntry], also: Callable[[], None] | None = None) -> None:
        """Append entries in one durable transaction (all or none); ``also``
        writes other tables in the same transaction."""
        rows = [(e.stream_id, e.seq, e.participant_id, e.op_id, e.ts_ms, canonical_json(e.op),
                 canonical_json(e.event), e.prev_hash, e.hash) for e in entries]
        with self.db.transaction():
            self.db.executemany(f"INSERT INTO log ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            if also is not None:
                also()
        self.db.committed(len(entries))

    def put_heads(self, heads: list[SignedHead]) -> None:
        """Record streams' signed heads; call inside the transaction that
        appends the entries they sign."""
        self.db.executemany(
            f"INSERT INTO heads ({_HEAD}) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (hearing_id) DO UPDATE SET "
            "seq = excluded.seq, hash = excluded.hash, ts_ms = excluded.ts_ms, key_id = excluded.key_id, "
            "signature = excluded.signature",
            [(h.hearing_id, h.seq, h.hash, h.ts_ms, h.key_id, h.signature) for h in heads])

    def head(self, stream_id: str) -> SignedHead | None:
        row = self.db.one(f"SELECT {_HEAD} FROM heads WHERE hearing_id = ?", (stream_id,))
        return SignedHead(*row) if row else None

    def heads(self) -> list[SignedHead]:
        return [SignedHead(*row) for row in self.db.rows(f"SELECT {_HEAD} FROM heads ORDER BY hearing_id")]

    def entries(self, stream_id: str, after: int = 0) -> Iterator[LogEntry]:
        """A stream's entries in order (those after seq ``after``)."""
        rows = self.db.rows(f"SELECT {_COLUMNS} FROM log WHERE hearing_id = ? AND seq > ? ORDER BY seq",
                            (stream_id, after))
        for h, seq, pid, op_id, ts, op, event, prev, hsh in rows:
            yield LogEntry(h, seq, pid, op_id, ts, json.loads(op), json.loads(event), prev, hsh)

    def read(self, stream_id: str, after: int = 0) -> tuple[list[LogEntry], SignedHead | None]:
        """A stream's entries (those after seq ``after``) and its signed head
        as of one moment (another node may be committing to it)."""
        with self.db.snapshot():
            return list(self.entries(stream_id, after)), self.head(stream_id)

    def exists(self, stream_id: str) -> bool:
        return self.db.one("SELECT 1 FROM log WHERE hearing_id = ? AND seq = 1", (stream_id,)) is not None

    def stream_ids(self, prefix: str) -> list[str]:
        """Every stream whose id starts with ``prefix`` (``h-`` hearings,
        ``c-`` cases), oldest first."""
        return [r[0] for r in self.db.rows(
            "SELECT hearing_id FROM log WHERE seq = 1 AND substr(hearing_id, 1, ?) = ? ORDER BY ts_ms",
            (len(prefix), prefix))]
