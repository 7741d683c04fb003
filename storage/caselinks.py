"""The ways a party reaches its case space, stored as hashes only.

An entry link (what the party's QR code holds) names the party; it lets
its holder try the identity check, nothing more. A passed check signs the
device in: a device session, kept until the case closes or the court
revokes it. Failed checks are counted per party and per address, so a
guessed link or a guessed ID number soon stops being tried.
"""

from __future__ import annotations

import time

from transcript.log import LogEntry

from .database import Database
from .tokens import hash_token, new_token

SCHEMA = """
CREATE TABLE IF NOT EXISTS case_links (
    token_hash TEXT PRIMARY KEY,
    case_id TEXT NOT NULL,
    party_id TEXT NOT NULL,
    issued_ms BIGINT NOT NULL,
    revoked_ms BIGINT
);
CREATE INDEX IF NOT EXISTS case_links_party ON case_links (case_id, party_id);
CREATE TABLE IF NOT EXISTS case_devices (
    session_hash TEXT PRIMARY KEY,
    case_id TEXT NOT NULL,
    party_id TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    revoked_ms BIGINT
);
CREATE INDEX IF NOT EXISTS case_devices_party ON case_devices (case_id, party_id);
"""


def now_ms() -> int:
    return int(time.time() * 1000)


class CaseLinks:
    def __init__(self, db: Database) -> None:
        self.db = db
        db.create(SCHEMA)

    def issue(self, case_id: str, party_ids: list[str]) -> dict[str, str]:
        """A new entry link token per party (call inside the transaction that
        creates the case or adds the party); the tokens are shown once."""
        tokens = {pid: new_token() for pid in party_ids}
        self.db.executemany("INSERT INTO case_links VALUES (?, ?, ?, ?, NULL)",
                            [(hash_token(t), case_id, pid, now_ms()) for pid, t in tokens.items()])
        return tokens

    def reissue(self, case_id: str, party_id: str) -> str:
        """Replace a party's entry link: the old one stops working."""
        with self.db.transaction():
            self.db.execute("UPDATE case_links SET revoked_ms = ? WHERE case_id = ? AND party_id = ? "
                            "AND revoked_ms IS NULL", (now_ms(), case_id, party_id))
            return self.issue(case_id, [party_id])[party_id]

    def party_of_link(self, case_id: str, token: str) -> str | None:
        row = self.db.one("SELECT party_id FROM case_links WHERE token_hash = ? AND case_id = ? "
                          "AND revoked_ms IS NULL", (hash_token(token), case_id))
        return row[0] if row else None

    def sign_in(self, case_id: str, party_id: str) -> str:
        """A device session for a party that has just proved who it is."""
        session = new_token()
        self.db.execute("INSERT INTO case_devices VALUES (?, ?, ?, ?, NULL)",
                        (hash_token(session), case_id, party_id, now_ms()))
        return session

    def party_of_device(self, case_id: str, session: str) -> str | None:
        row = self.db.one("SELECT party_id FROM case_devices WHERE session_hash = ? AND case_id = ? "
                          "AND revoked_ms IS NULL", (hash_token(session), case_id))
        return row[0] if row else None

    def follow(self, entries: list[LogEntry]) -> None:
        """A case that closes signs every device out, and the court signing
        a party out signs out that party's devices, in the transaction
        that logs it."""
        for e in entries:
            kind = e.event.get("kind")
            if kind == "case.closed":
                self.db.execute("UPDATE case_devices SET revoked_ms = ? WHERE case_id = ? AND revoked_ms IS NULL",
                                (e.ts_ms, e.stream_id))
            elif kind == "party.signed_out":
                self.db.execute("UPDATE case_devices SET revoked_ms = ? WHERE case_id = ? AND party_id = ? "
                                "AND revoked_ms IS NULL", (e.ts_ms, e.stream_id, e.event["party"]["party_id"]))
