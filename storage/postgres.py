"""The cluster's backend: PostgreSQL through psycopg 3.

Several hub nodes share one database, so schema creation takes an advisory
lock (two nodes starting together must not both create a table), and a
session that finds ``synchronous_commit`` off turns it on: a commit the hub
acknowledges must be on the server's disk, as with SQLite.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from functools import lru_cache
from typing import Iterable, Iterator

import psycopg

from .database import Database, Params, Row, StorageError

log = logging.getLogger(__name__)

#: Any fixed number: the advisory lock that serializes schema creation.
_SCHEMA_LOCK = 0x636F7572


@lru_cache(maxsize=512)
def dialect(sql: str) -> str:
    """The portable dialect in psycopg's terms: ``?`` placeholders become
    ``%s`` (and a literal ``%`` is escaped)."""
    return sql.replace("%", "%%").replace("?", "%s")


def redacted(url: str) -> str:
    """A connection URL fit to print: without its password."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "postgresql://…"
    return f"postgresql://{info.get('user', '')}@{info.get('host', '')}:{info.get('port', '5432')}/{info.get('dbname', '')}"


class PostgresDatabase(Database):
    engine = "PostgreSQL"

    def __init__(self, url: str, *, readonly: bool = False) -> None:
        self.url = url
        try:
            self.conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
        except psycopg.Error as err:
            raise StorageError(f"cannot connect to PostgreSQL at {redacted(url)}: {err}") from None
        if readonly:
            self.conn.execute("SET default_transaction_read_only = on")
        if self.conn.execute("SHOW synchronous_commit").fetchone() == ("off",):
            self.conn.execute("SET synchronous_commit = on")
        if self.conn.execute("SHOW fsync").fetchone() == ("off",):
            log.warning("PostgreSQL runs with fsync off: acknowledged ops can be lost in a power cut")

    def __str__(self) -> str:
        return redacted(self.url)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self.conn.transaction():
            yield

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        self.conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            yield
        finally:
            self.conn.execute("COMMIT")

    def execute(self, sql: str, params: Params = ()) -> int:
        return self.conn.execute(dialect(sql), params).rowcount

    def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(dialect(sql), rows)

    def rows(self, sql: str, params: Params = ()) -> list[Row]:
        return self.conn.execute(dialect(sql), params).fetchall()

    def scan(self, sql: str, params: Params = ()) -> Iterator[Row]:
        # A server-side cursor lives in a transaction.
        with self.conn.transaction(), self.conn.cursor(name="scan") as cur:
            cur.itersize = 2000
            cur.execute(dialect(sql), params)
            yield from cur

    def create(self, ddl: str) -> None:
        with self.conn.transaction():
            self.conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            for statement in ddl.split(";"):
                if statement.strip():
                    self.conn.execute(statement)

    def close(self) -> None:
        self.conn.close()
