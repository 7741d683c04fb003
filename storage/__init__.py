"""Where the hub keeps what it must not lose, behind one port
(``database.Database``): the embedded SQLite file (``sqlite``, the default)
or a PostgreSQL server shared by a cluster (``postgres``). The tables are
written once, in the port's portable dialect (``log``, ``invites``,
``caselinks``, ``equipment``, ``accounts``); a backend is one module."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import accounts, caselinks, equipment, invites, log
from .accounts import Accounts
from .caselinks import CaseLinks
from .database import Database, StorageError, tables
from .equipment import EquipmentStore
from .invites import InviteStore
from .log import LogStore
from .sqlite import DB_NAME, SqliteDatabase

__all__ = ["Store", "StorageError", "open_database", "open_store", "describe", "TABLES"]

#: Every table the hub keeps, in the order a copy writes them.
TABLES = [t for module in (log, invites, caselinks, equipment, accounts) for t in tables(module.SCHEMA)]

URL_SCHEMES = ("postgresql://", "postgres://")


def open_database(url: str | None, data: Path, *, readonly: bool = False, hub: bool = False,
                  beside_hub: bool = False) -> Database:
    """The database ``url`` names (``postgresql://…``), or without one the
    data directory's SQLite file. ``hub``: the serving hub's own
    connection (SQLite then checkpoints off the commit path); ``beside_hub``:
    another connection of a serving hub's (leases' upkeep, the front's
    lookups), which leaves checkpoints to the hub's."""
    if not url:
        return SqliteDatabase(data / DB_NAME, readonly=readonly, checkpoints=hub and not readonly,
                              beside_hub=beside_hub)
    if url.startswith(URL_SCHEMES):
        from .postgres import PostgresDatabase  # psycopg is needed only here
        return PostgresDatabase(url, readonly=readonly)
    raise StorageError(f"unknown database {url!r}: give a postgresql:// URL, or none for the "
                       "embedded SQLite store in the data directory")


def describe(url: str | None, data: Path) -> str:
    """Where the store is, fit to print (no password)."""
    if not url:
        return f"SQLite {data / DB_NAME}"
    from .postgres import redacted
    return f"PostgreSQL {redacted(url)}"


@dataclass
class Store:
    """Every table of one database, for the hub's store thread."""
    db: Database
    log: LogStore
    invites: InviteStore
    equipment: EquipmentStore
    case_links: CaseLinks
    accounts: Accounts

    @classmethod
    def on(cls, db: Database) -> Store:
        return cls(db, LogStore(db), InviteStore(db), EquipmentStore(db), CaseLinks(db), Accounts(db))


def open_store(url: str | None, data: Path, *, hub: bool = False) -> Store:
    return Store.on(open_database(url, data, hub=hub))
