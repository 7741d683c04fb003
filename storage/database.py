"""The one port through which the hub reaches its database.

Every table the hub keeps (the log and its signed heads, invites, case
links, courtroom equipment, staff accounts) is written in one portable
dialect: ``?`` placeholders, ``BIGINT`` for milliseconds, ``ON CONFLICT``
for upserts. A backend (``sqlite``, ``postgres``) adapts that dialect and
owns everything particular to its engine: how a write transaction starts
(SQLite's ``BEGIN IMMEDIATE``), what its DDL cannot say (``WITHOUT ROWID``),
and its upkeep (SQLite's WAL checkpoints). So a third backend is a new
module, and no other module names an engine.

A ``Database`` is synchronous and used from one thread at a time: the hub
runs it on its store thread and batches appends (group commit), the command
line uses it as is.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from contextlib import AbstractContextManager
from typing import Any, Iterable, Iterator, Sequence

Row = tuple[Any, ...]
Params = Sequence[Any]


class StorageError(Exception):
    """The database cannot be opened or used as asked; the message says why."""


class Database(ABC):
    #: The engine's name, as ``courtroom`` prints it.
    engine: str

    @abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """A write transaction: committed durably when the block ends, rolled
        back if it raises. Statements outside one commit on their own."""

    @abstractmethod
    def snapshot(self) -> AbstractContextManager[None]:
        """A read-only transaction: every query in it sees the database as
        of one moment, whatever other connections commit meanwhile."""

    @abstractmethod
    def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement of the portable dialect; the rows it changed."""

    @abstractmethod
    def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        """Run one statement once per row."""

    @abstractmethod
    def rows(self, sql: str, params: Params = ()) -> list[Row]:
        """Every row a query returns."""

    def scan(self, sql: str, params: Params = ()) -> Iterator[Row]:
        """The rows of a query too large to hold at once, a few at a time."""
        yield from self.rows(sql, params)

    def one(self, sql: str, params: Params = ()) -> Row | None:
        """The first row a query returns, or None."""
        found = self.rows(sql, params)
        return found[0] if found else None

    @abstractmethod
    def create(self, ddl: str) -> None:
        """Create tables and indexes if they do not exist (portable DDL,
        statements separated by ``;``)."""

    def committed(self, entries: int) -> None:
        """Upkeep after a commit of ``entries`` log entries (SQLite copies
        its WAL into the database file now and then); never blocks."""

    @abstractmethod
    def close(self) -> None:
        """Finish upkeep and close the connection."""


_TABLE = re.compile(r"CREATE TABLE IF NOT EXISTS (\w+)", re.I)


def tables(ddl: str) -> list[str]:
    """The tables a schema creates, in its order."""
    return _TABLE.findall(ddl)
