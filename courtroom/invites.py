"""Invite and admin tokens: unguessable, shown once, stored only as hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3

from transcript.log import LogEntry

SCHEMA = """
CREATE TABLE IF NOT EXISTS invites (
    token_hash TEXT PRIMARY KEY,
    hearing_id TEXT NOT NULL,
    participant_id TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
"""


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def tokens_match(token: str, token_hash: str) -> bool:
    return hmac.compare_digest(hash_token(token), token_hash)


class InviteStore:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        conn.executescript(SCHEMA)

    def insert(self, hearing_id: str, invites: list[tuple[str, str]]) -> None:
        """Add (participant_id, token) pairs; call inside the hearing's creating transaction."""
        self.conn.executemany("INSERT INTO invites VALUES (?, ?, ?)",
                              [(hash_token(t), hearing_id, pid) for pid, t in invites])

    def follow(self, entries: list[LogEntry]) -> None:
        """Revoke and replace invites as committed entries say; called inside
        the transaction that appends them, so a token stops working exactly
        when the log says it was revoked."""
        for e in entries:
            kind = e.event.get("kind")
            if kind not in ("invite.revoked", "invite.reissued"):
                continue
            participant_id = e.event["participant"]["participant_id"]
            self.conn.execute("DELETE FROM invites WHERE hearing_id = ? AND participant_id = ?",
                              (e.stream_id, participant_id))
            if kind == "invite.reissued":
                self.conn.execute("INSERT INTO invites VALUES (?, ?, ?)",
                                  (e.op["token_hash"], e.stream_id, participant_id))

    def lookup(self, hearing_id: str, token: str) -> str | None:
        """The participant id an invite token stands for in this hearing, or None."""
        row = self.conn.execute("SELECT participant_id FROM invites WHERE token_hash = ? AND hearing_id = ?",
                                (hash_token(token), hearing_id)).fetchone()
        return row[0] if row else None

    def admin_hash(self) -> str | None:
        row = self.conn.execute("SELECT value FROM settings WHERE key = 'admin_token_hash'").fetchone()
        return row[0] if row else None

    def set_admin_hash(self, token_hash: str) -> None:
        with self.conn:
            self.conn.execute("INSERT OR REPLACE INTO settings VALUES ('admin_token_hash', ?)", (token_hash,))
