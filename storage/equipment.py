"""Courtroom equipment: the device credentials court staff issue to a
courtroom's PC (its seat microphones, loudspeakers and cameras), and which
hearing each courtroom is holding.

A device credential is not a participant's invite: it names a courtroom,
not a person, and lets the device join whatever hearing that courtroom
holds now, publishing the speech of the participants seated there. It is
shown once when issued and stored only as a hash; revoking it refuses it
at once. Every issue and revocation is written to ``device_log`` with who
did it and when, in the same transaction as the change.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from .database import Database
from .tokens import hash_token, new_token

SCHEMA = """
CREATE TABLE IF NOT EXISTS devices (
    device_id TEXT PRIMARY KEY,
    courtroom TEXT NOT NULL,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    issued_ms BIGINT NOT NULL,
    revoked_ms BIGINT
);
CREATE TABLE IF NOT EXISTS device_log (
    at_ms BIGINT NOT NULL,
    device_id TEXT NOT NULL,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    courtroom TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS courtroom_hearings (
    hearing_id TEXT PRIMARY KEY,
    courtroom TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS courtroom_hearings_by_room ON courtroom_hearings (courtroom, created_ms);
"""

#: Device ids: not participant ids (``p-``), so the two never mix.
DEVICE_PREFIX = "d-"


def is_device_id(value: str) -> bool:
    return value.startswith(DEVICE_PREFIX)


@dataclass(frozen=True, slots=True)
class Device:
    device_id: str
    courtroom: str
    name: str
    issued_ms: int
    revoked_ms: int | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"device_id": self.device_id, "courtroom": self.courtroom, "name": self.name,
                             "issued_ms": self.issued_ms}
        if self.revoked_ms is not None:
            d["revoked_ms"] = self.revoked_ms
        return d


class EquipmentStore:
    """On the hub's store connection (its thread); each change is one
    transaction with its ``device_log`` line."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.create(SCHEMA)

    def issue(self, courtroom: str, name: str, actor: str) -> tuple[Device, str]:
        device = Device(DEVICE_PREFIX + secrets.token_hex(6), courtroom, name, int(time.time() * 1000))
        token = new_token()
        with self.db.transaction():
            self.db.execute("INSERT INTO devices VALUES (?, ?, ?, ?, ?, NULL)",
                            (device.device_id, courtroom, name, hash_token(token), device.issued_ms))
            self._log(device.issued_ms, device.device_id, "issued", actor, courtroom)
        return device, token

    def revoke(self, device_id: str, actor: str) -> Device | None:
        """Revoke a device's credential; None if there is no such device.
        Revoking twice changes nothing (and logs nothing)."""
        now = int(time.time() * 1000)
        with self.db.transaction():
            device = self.get(device_id)
            if device is None or device.revoked_ms is not None:
                return device
            self.db.execute("UPDATE devices SET revoked_ms = ? WHERE device_id = ?", (now, device_id))
            self._log(now, device_id, "revoked", actor, device.courtroom)
        return Device(device.device_id, device.courtroom, device.name, device.issued_ms, now)

    def _log(self, at_ms: int, device_id: str, action: str, actor: str, courtroom: str) -> None:
        self.db.execute("INSERT INTO device_log VALUES (?, ?, ?, ?, ?)",
                        (at_ms, device_id, action, actor, courtroom))

    def get(self, device_id: str) -> Device | None:
        row = self.db.one("SELECT device_id, courtroom, name, issued_ms, revoked_ms FROM devices "
                          "WHERE device_id = ?", (device_id,))
        return Device(*row) if row else None

    def lookup(self, token: str) -> Device | None:
        """The device a credential stands for, unless it was revoked."""
        row = self.db.one("SELECT device_id, courtroom, name, issued_ms, revoked_ms FROM devices "
                          "WHERE token_hash = ? AND revoked_ms IS NULL", (hash_token(token),))
        return Device(*row) if row else None

    def revoked_among(self, device_ids: list[str]) -> set[str]:
        """Which of ``device_ids`` have been revoked (by any process)."""
        if not device_ids:
            return set()
        marks = ", ".join("?" * len(device_ids))
        return {row[0] for row in self.db.rows(
            f"SELECT device_id FROM devices WHERE device_id IN ({marks}) AND revoked_ms IS NOT NULL", device_ids)}

    def all(self) -> list[Device]:
        return [Device(*row) for row in self.db.rows(
            "SELECT device_id, courtroom, name, issued_ms, revoked_ms FROM devices ORDER BY issued_ms")]

    def history(self) -> list[dict[str, Any]]:
        return [{"at_ms": at, "device_id": d, "action": a, "actor": who, "courtroom": room}
                for at, d, a, who, room in self.db.rows(
                    "SELECT at_ms, device_id, action, actor, courtroom FROM device_log "
                    "ORDER BY at_ms, device_id, action")]

    # -- which hearing a courtroom holds ------------------------------------------------

    def place(self, hearing_id: str, courtroom: str, created_ms: int) -> None:
        """Record where a hearing is held; call inside its creating transaction."""
        self.db.execute("INSERT INTO courtroom_hearings VALUES (?, ?, ?)", (hearing_id, courtroom, created_ms))

    def hearings_in(self, courtroom: str, limit: int = 20) -> list[str]:
        """The courtroom's hearings, newest first."""
        return [row[0] for row in self.db.rows(
            "SELECT hearing_id FROM courtroom_hearings WHERE courtroom = ? ORDER BY created_ms DESC LIMIT ?",
            (courtroom, limit))]
