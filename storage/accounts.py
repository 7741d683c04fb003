"""Court staff accounts: judges, clerks, mediators and administrators who
sign in to the staff console with a password.

Passwords are kept only as Argon2id hashes (argon2-cffi, its default
parameters; a hash made under older parameters is renewed at the next
sign-in). After ``LOCK_AFTER`` wrong passwords in a row an account is locked
for ``LOCK_FOR`` (kept in the database, so a restart does not reset it).
A sign-in opens a session, stored as a hash, that ends at logout, after
``SESSION_HOURS``, or when the account is disabled.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from .database import Database
from .tokens import hash_token, new_token

SCHEMA = """
CREATE TABLE IF NOT EXISTS staff_accounts (
    staff_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    disabled_ms BIGINT,
    failures INTEGER NOT NULL DEFAULT 0,
    locked_until_ms BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS staff_sessions (
    session_hash TEXT PRIMARY KEY,
    staff_id TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL,
    ended_ms BIGINT
);
CREATE INDEX IF NOT EXISTS staff_sessions_staff ON staff_sessions (staff_id);
"""

ROLES = ("judge", "clerk", "mediator", "admin")
ROLE_LABELS = {"judge": "法官", "clerk": "书记员", "mediator": "调解员", "admin": "管理员"}
LOCK_AFTER = 5
LOCK_FOR_MS = 15 * 60 * 1000
SESSION_HOURS = 12
MIN_PASSWORD = 10
MAX_PASSWORD = 256
_STAFF_ID = re.compile(r"[a-z0-9][a-z0-9_.-]{0,31}\Z")


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True, slots=True)
class Account:
    staff_id: str
    name: str
    role: str
    disabled: bool = False

    def to_dict(self) -> dict[str, object]:
        return {"staff_id": self.staff_id, "name": self.name, "role": self.role, "disabled": self.disabled}


class AccountError(Exception):
    """A request about accounts that cannot be done; the message says why."""


class SignInRefused(Exception):
    """Wrong staff id or password (never said which), or a locked account;
    ``retry_after`` (seconds) when locked."""

    def __init__(self, message: str, retry_after: int = 0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def check_new(staff_id: str, name: str, role: str, password: str) -> None:
    if not _STAFF_ID.match(staff_id):
        raise AccountError("staff_id must be 1 to 32 lowercase letters, digits, '_', '.' or '-'")
    if staff_id == "admin":
        raise AccountError("'admin' is the hub's own administrator; choose another staff_id")
    if not name.strip() or len(name) > 50:
        raise AccountError("name must be 1 to 50 characters")
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    check_password(password)


def check_password(password: str) -> None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise AccountError(f"a password has {MIN_PASSWORD} to {MAX_PASSWORD} characters")


class Accounts:
    """Synchronous, on the hub's store thread (hashing takes tens of ms)."""

    def __init__(self, db: Database, hasher: PasswordHasher | None = None) -> None:
        self.db = db
        self.hasher = hasher or PasswordHasher()
        db.create(SCHEMA)
        # Verifying an unknown id costs as much as a known one.
        self._dummy = self.hasher.hash(new_token())

    def create(self, staff_id: str, name: str, role: str, password: str) -> Account:
        check_new(staff_id, name, role, password)
        with self.db.transaction():
            if self.db.one("SELECT 1 FROM staff_accounts WHERE staff_id = ?", (staff_id,)):
                raise AccountError(f"there is already an account {staff_id}")
            self.db.execute("INSERT INTO staff_accounts (staff_id, name, role, password_hash, created_ms) "
                            "VALUES (?, ?, ?, ?, ?)",
                            (staff_id, name.strip(), role, self.hasher.hash(password), now_ms()))
        return Account(staff_id, name.strip(), role)

    def get(self, staff_id: str) -> Account | None:
        row = self.db.one("SELECT staff_id, name, role, disabled_ms FROM staff_accounts WHERE staff_id = ?",
                          (staff_id,))
        return None if row is None else Account(row[0], row[1], row[2], row[3] is not None)

    def all(self) -> list[Account]:
        return [Account(r[0], r[1], r[2], r[3] is not None) for r in self.db.rows(
            "SELECT staff_id, name, role, disabled_ms FROM staff_accounts ORDER BY staff_id")]

    def set_password(self, staff_id: str, password: str) -> None:
        check_password(password)
        with self.db.transaction():
            if not self.db.execute("UPDATE staff_accounts SET password_hash = ?, failures = 0, locked_until_ms = 0 "
                                   "WHERE staff_id = ?", (self.hasher.hash(password), staff_id)):
                raise AccountError(f"no account {staff_id}")
            self.db.execute("UPDATE staff_sessions SET ended_ms = ? WHERE staff_id = ? AND ended_ms IS NULL",
                            (now_ms(), staff_id))

    def disable(self, staff_id: str) -> bool:
        """Disable an account and end its sessions; whether it existed."""
        with self.db.transaction():
            changed = self.db.execute("UPDATE staff_accounts SET disabled_ms = ? WHERE staff_id = ? "
                                      "AND disabled_ms IS NULL", (now_ms(), staff_id))
            self.db.execute("UPDATE staff_sessions SET ended_ms = ? WHERE staff_id = ? AND ended_ms IS NULL",
                            (now_ms(), staff_id))
        return bool(changed)

    def sign_in(self, staff_id: str, password: str) -> tuple[Account, str]:
        """A new session for the right password, or ``SignInRefused``."""
        row = self.db.one("SELECT password_hash, disabled_ms, failures, locked_until_ms FROM staff_accounts "
                          "WHERE staff_id = ?", (staff_id,))
        now = now_ms()
        if row is not None and row[3] > now:
            raise SignInRefused("the account is locked after repeated wrong passwords; try again later",
                                (row[3] - now + 999) // 1000)
        try:
            self.hasher.verify(row[0] if row else self._dummy, password)
            good = row is not None and row[1] is None
        except (VerificationError, InvalidHashError):
            good = False
        if not good:
            if row is not None:
                failures = row[2] + 1
                locked = now + LOCK_FOR_MS if failures >= LOCK_AFTER else 0
                self.db.execute("UPDATE staff_accounts SET failures = ?, locked_until_ms = ? WHERE staff_id = ?",
                                (0 if locked else failures, locked, staff_id))
            raise SignInRefused("wrong staff id or password")
        session = new_token()
        with self.db.transaction():
            if self.hasher.check_needs_rehash(row[0]):
                self.db.execute("UPDATE staff_accounts SET password_hash = ? WHERE staff_id = ?",
                                (self.hasher.hash(password), staff_id))
            self.db.execute("UPDATE staff_accounts SET failures = 0 WHERE staff_id = ?", (staff_id,))
            self.db.execute("INSERT INTO staff_sessions VALUES (?, ?, ?, ?, NULL)",
                            (hash_token(session), staff_id, now, now + SESSION_HOURS * 3600 * 1000))
        account = self.get(staff_id)
        assert account is not None
        return account, session

    def session(self, session: str) -> Account | None:
        """The account a live session belongs to, or None."""
        row = self.db.one(
            "SELECT a.staff_id, a.name, a.role FROM staff_sessions s JOIN staff_accounts a USING (staff_id) "
            "WHERE s.session_hash = ? AND s.ended_ms IS NULL AND s.expires_ms > ? AND a.disabled_ms IS NULL",
            (hash_token(session), now_ms()))
        return None if row is None else Account(*row)

    def sign_out(self, session: str) -> None:
        self.db.execute("UPDATE staff_sessions SET ended_ms = ? WHERE session_hash = ? AND ended_ms IS NULL",
                        (now_ms(), hash_token(session)))
