from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from storage import open_database
from storage.database import Database


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """The hub's database on each backend: the embedded SQLite file, and a
    fresh database on the test run's private PostgreSQL."""
    url = request.getfixturevalue("postgres") if request.param == "postgresql" else None
    database = open_database(url, tmp_path, hub=True)
    yield database
    database.close()
