"""Who may order a stream's ops: one node at a time, by lease, with fencing.

A node that serves a hearing (or a case) as its authority holds the
stream's lease: its node id, an epoch that grows with every change of
holder, and an expiry the holder keeps pushing forward. Another node takes
the lease only once it has expired, and taking it raises the epoch.

Fencing is what makes this safe rather than merely likely: every commit
checks, in its own transaction, that the lease of each stream it writes is
still this node's at the epoch it was taken with (``fence``). The check
updates the lease's row, so it holds the row's lock until the commit ends:
a node taking the lease waits for that commit and then loads a log that
includes it, or it took the lease first and the stale node's commit fails.
A paused node that wakes up after its lease was taken can never commit an
op, whatever its clock says. Clocks only decide how soon a lease expires.
"""

from __future__ import annotations

from dataclasses import dataclass

from .database import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS leases (
    stream_id TEXT PRIMARY KEY,
    node TEXT NOT NULL,
    epoch BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS leases_by_node ON leases (node);
CREATE TABLE IF NOT EXISTS nodes (
    node TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    seen_ms BIGINT NOT NULL
);
"""


class Fenced(Exception):
    """A commit wrote streams whose lease this node no longer holds; none of
    it was written. ``streams``: those streams."""

    def __init__(self, streams: set[str]) -> None:
        super().__init__(f"lease lost for {', '.join(sorted(streams))}")
        self.streams = streams


@dataclass(frozen=True, slots=True)
class Lease:
    stream_id: str
    node: str
    epoch: int
    expires_ms: int


class Leases:
    def __init__(self, db: Database) -> None:
        self.db = db
        db.create(SCHEMA)

    def acquire(self, stream_id: str, node: str, now_ms: int, ttl_ms: int) -> Lease:
        """Take the stream's lease if it is free or expired (a new epoch), or
        renew it if it is already ``node``'s. Returns the lease as it now
        stands: another node's if that one still holds it."""
        with self.db.transaction():
            self.db.execute(
                "INSERT INTO leases VALUES (?, ?, 1, ?) ON CONFLICT (stream_id) DO UPDATE SET "
                "node = excluded.node, epoch = leases.epoch + 1, expires_ms = excluded.expires_ms "
                "WHERE leases.expires_ms < ?", (stream_id, node, now_ms + ttl_ms, now_ms))
            self.db.execute("UPDATE leases SET expires_ms = ? WHERE stream_id = ? AND node = ?",
                            (now_ms + ttl_ms, stream_id, node))
            row = self.db.one("SELECT stream_id, node, epoch, expires_ms FROM leases WHERE stream_id = ?",
                              (stream_id,))
        assert row is not None
        return Lease(*row)

    def claim_new(self, stream_id: str, node: str, now_ms: int, ttl_ms: int) -> Lease:
        """The lease of a stream being created; call in its creating transaction."""
        self.db.execute("INSERT INTO leases VALUES (?, ?, 1, ?)", (stream_id, node, now_ms + ttl_ms))
        return Lease(stream_id, node, 1, now_ms + ttl_ms)

    def renew(self, node: str, held: dict[str, int], now_ms: int, ttl_ms: int) -> set[str]:
        """Push forward every lease ``node`` holds; returns the streams of
        ``held`` (stream → epoch) it no longer holds."""
        with self.db.transaction():
            self.db.execute("UPDATE leases SET expires_ms = ? WHERE node = ?", (now_ms + ttl_ms, node))
            mine = dict(self.db.rows("SELECT stream_id, epoch FROM leases WHERE node = ?", (node,)))
        return {s for s, epoch in held.items() if mine.get(s) != epoch}

    def release(self, stream_id: str, node: str, epoch: int) -> None:
        """Give a lease up (the stream left memory): another node may take
        it at once rather than after it expires."""
        self.db.execute("DELETE FROM leases WHERE stream_id = ? AND node = ? AND epoch = ?",
                        (stream_id, node, epoch))

    def fence(self, node: str, held: dict[str, int]) -> None:
        """Inside a commit's transaction: raise ``Fenced`` unless ``node``
        still holds every lease of ``held`` (stream → epoch), and lock them
        until the commit ends."""
        if not held:
            return
        items = sorted(held.items())  # one lock order for every node
        where = " OR ".join("(stream_id = ? AND epoch = ?)" for _ in items)
        params = [node] + [v for item in items for v in item]
        if self.db.execute(f"UPDATE leases SET node = node WHERE node = ? AND ({where})", params) == len(items):
            return
        mine = dict(self.db.rows(f"SELECT stream_id, epoch FROM leases WHERE node = ? AND ({where})", params))
        raise Fenced({s for s, epoch in items if mine.get(s) != epoch})

    def clear(self) -> None:
        """Drop every lease: only for a store that no other live node uses
        (the embedded one, when its one front starts). A dying holder's
        last commit then fails its fence instead of landing."""
        self.db.execute("DELETE FROM leases")

    def holder(self, stream_id: str) -> Lease | None:
        row = self.db.one("SELECT stream_id, node, epoch, expires_ms FROM leases WHERE stream_id = ?", (stream_id,))
        return Lease(*row) if row else None

    def holders(self, stream_ids: list[str]) -> dict[str, Lease]:
        if not stream_ids:
            return {}
        marks = ", ".join("?" * len(stream_ids))
        return {row[0]: Lease(*row) for row in self.db.rows(
            f"SELECT stream_id, node, epoch, expires_ms FROM leases WHERE stream_id IN ({marks})", stream_ids)}

    # -- nodes ------------------------------------------------------------------------

    def announce(self, node: str, url: str, now_ms: int) -> None:
        """Say where a node is reached (for redirects and proxying), and that it lives."""
        self.db.execute("INSERT INTO nodes VALUES (?, ?, ?) ON CONFLICT (node) DO UPDATE SET "
                        "url = excluded.url, seen_ms = excluded.seen_ms", (node, url, now_ms))

    def url_of(self, node: str) -> str | None:
        row = self.db.one("SELECT url FROM nodes WHERE node = ?", (node,))
        return row[0] if row else None
