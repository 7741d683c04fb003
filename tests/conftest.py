from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from tests.support import HubProcess


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubProcess]:
    proc = HubProcess(tmp_path / "data").start()
    yield proc
    proc.stop()
