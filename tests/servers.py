"""Database servers the tests start themselves: Debian's PostgreSQL and
Redis, each in a temporary directory on a free port (no Docker, nothing of
the machine's own servers touched). ``conftest`` turns them into fixtures;
without the packages a test skips, except under ``CI``, where it fails."""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Callable

from tests.support import end_process, free_port


def wait_ready(proc: subprocess.Popen[bytes], ready: Callable[[], bool], what: str, log: Path,
               timeout: float) -> None:
    """Wait until ``ready()`` (exceptions count as not yet) while the server lives."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if ready():
                return
        except Exception:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not start: {log.read_text()[-800:]}")


class ServerMissing(Exception):
    """The server's package is not installed; the message says which."""


def _postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    raise ServerMissing("PostgreSQL is missing (apt-get install postgresql)")


class PrivatePostgres:
    """A PostgreSQL cluster of the test's own. As root it runs as the
    ``postgres`` user (PostgreSQL refuses root); ``fsync`` stays on, so a
    commit the hub acknowledges is on disk as in production."""

    def __init__(self) -> None:
        # Its own folder directly in the temporary directory: as root, the
        # ``postgres`` user must be able to reach it, and a test's tmp_path
        # is private to root.
        self.folder = Path(tempfile.mkdtemp(prefix="courtroom-pg-"))
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @staticmethod
    def _owner() -> dict[str, str]:
        """Popen's arguments that run a program as ``postgres`` when we are
        root (the program itself, not a wrapper: signals must reach it)."""
        return {"user": "postgres", "group": "postgres"} if os.geteuid() == 0 else {}

    def start(self) -> PrivatePostgres:
        bindir = _postgres_bin()
        data = self.folder / "data"
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.folder, user.pw_uid, user.pw_gid)
        done = subprocess.run([str(bindir / "initdb"), "-D", str(data), "-A", "trust",
                               "-U", "courtroom", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
                              capture_output=True, text=True, cwd=self.folder, timeout=180, **self._owner())
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed: {done.stderr[-800:]}")
        self.log = open(self.folder / "postgres.log", "ab")
        self.proc = subprocess.Popen(
            [str(bindir / "postgres"), "-D", str(data), "-p", str(self.port), "-k", str(self.folder),
             "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200", "-c", "shared_buffers=64MB"],
            stdout=self.log, stderr=subprocess.STDOUT, cwd=self.folder, **self._owner())
        import psycopg

        def ready() -> bool:
            psycopg.connect(self.url("postgres"), connect_timeout=2).close()
            return True
        wait_ready(self.proc, ready, "PostgreSQL", self.folder / "postgres.log", 30)
        return self

    def url(self, database: str) -> str:
        return f"postgresql://courtroom@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database; its URL."""
        import psycopg
        name = "t_" + secrets.token_hex(6)
        with psycopg.connect(self.url("postgres"), autocommit=True, connect_timeout=10) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        end_process(self.proc, signal.SIGINT, 20)  # "fast" shutdown (SIGTERM's "smart" one waits for clients)
        if hasattr(self, "log"):
            self.log.close()
        shutil.rmtree(self.folder, ignore_errors=True)


class PrivateRedis:
    """A Redis server of the test's own, on a free port, keeping nothing on disk."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> PrivateRedis:
        binary = shutil.which("redis-server")
        if binary is None:
            raise ServerMissing("Redis is missing (apt-get install redis-server)")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.log = open(self.folder / "redis.log", "ab")
        self.proc = subprocess.Popen([binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", str(self.folder)],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        import redis
        wait_ready(self.proc, lambda: bool(redis.Redis(port=self.port, socket_connect_timeout=1).ping()), "Redis",
                   self.folder / "redis.log", 15)
        return self

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        end_process(self.proc)
        if hasattr(self, "log"):
            self.log.close()
