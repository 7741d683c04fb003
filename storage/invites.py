"""Participants' invites and the admin token, stored only as hashes."""

from __future__ import annotations

from transcript.log import LogEntry

from .database import Database
from .tokens import hash_token

SCHEMA = """
CREATE TABLE IF NOT EXISTS invites (
    token_hash TEXT PRIMARY KEY,
    hearing_id TEXT NOT NULL,
    participant_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""



class InviteStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        db.create(SCHEMA)

    def insert(self, hearing_id: str, invites: list[tuple[str, str]]) -> None:
        """Add (participant_id, token) pairs; call inside the hearing's creating transaction."""
        self.db.executemany("INSERT INTO invites VALUES (?, ?, ?)",
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
            self.db.execute("DELETE FROM invites WHERE hearing_id = ? AND participant_id = ?",
                            (e.stream_id, participant_id))
            if kind == "invite.reissued":
                self.db.execute("INSERT INTO invites VALUES (?, ?, ?)",
                                (e.op["token_hash"], e.stream_id, participant_id))

    def lookup(self, hearing_id: str, token: str) -> str | None:
        """The participant id an invite token stands for in this hearing, or None."""
        row = self.db.one("SELECT participant_id FROM invites WHERE token_hash = ? AND hearing_id = ?",
                          (hash_token(token), hearing_id))
        return row[0] if row else None

    def admin_hash(self) -> str | None:
        row = self.db.one("SELECT value FROM settings WHERE key = 'admin_token_hash'")
        return row[0] if row else None

    def set_admin_hash(self, token_hash: str) -> None:
        self.db.execute("INSERT INTO settings VALUES ('admin_token_hash', ?) "
                        "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (token_hash,))
