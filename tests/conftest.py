from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Callable, Iterator

import pytest

from tests.servers import PrivatePostgres, PrivateRedis, ServerMissing
from tests.support import HubProcess, PrivatePulse


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubProcess]:
    proc = HubProcess(tmp_path / "data").start()
    yield proc
    proc.stop()


@pytest.fixture
def speech_hub(tmp_path: Path) -> Iterator[HubProcess]:
    """A hub recognizing the tone-language stand-in for vosk, media on this
    machine's address."""
    proc = HubProcess.with_speech(tmp_path / "data").start()
    yield proc
    proc.stop()


@pytest.fixture
def small_disk() -> Iterator[Callable[[Path, int], Path]]:
    """Mounts a file system of a few MiB (tmpfs) on a folder, to fill up:
    ``small_disk(folder, mib)``. Unmounted afterwards. Where mounting is not
    allowed the test skips, except under CI, where it fails."""
    mounted: list[Path] = []

    def mount(folder: Path, mib: int) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={mib}m", "tmpfs", str(folder)], capture_output=True)
        if r.returncode != 0:
            message = f"cannot mount a small file system here: {r.stderr.decode().strip()}"
            pytest.fail(message) if os.environ.get("CI") else pytest.skip(message)
        mounted.append(folder)
        return folder
    yield mount
    for folder in mounted:
        subprocess.run(["umount", "-l", str(folder)], check=False)


@pytest.fixture
def interface(tmp_path: Path) -> Iterator[PrivatePulse]:
    """A private PulseAudio holding one courtroom audio interface and
    nothing else: seat inputs (``room``, 4 channels) and loudspeakers
    (``ceiling``). With no other device to move its streams to, pulling it
    out (``unplug`` both) stops them, as an ALSA device does."""
    try:
        server = PrivatePulse(tmp_path / "pulse").start({"room": 4, "ceiling": 2})
    except FileNotFoundError as err:
        pytest.fail(str(err)) if os.environ.get("CI") else pytest.skip(str(err))
    yield server
    server.stop()


@pytest.fixture
def pulse(tmp_path: Path) -> Iterator[PrivatePulse]:
    """A private PulseAudio with a mono sink ``mic`` (what a terminal's
    microphone hears: its ``mic.monitor``), a stereo sink ``speakers``, and
    for a courtroom a 4-channel sink ``room`` (its seat microphones:
    ``room.monitor``) and a stereo ``ceiling`` (its loudspeakers).
    Without PulseAudio the test skips, except under CI, where it fails."""
    try:
        server = PrivatePulse(tmp_path / "pulse").start({"mic": 1, "speakers": 2, "room": 4, "ceiling": 2})
    except FileNotFoundError as err:
        pytest.fail(str(err)) if os.environ.get("CI") else pytest.skip(str(err))
    yield server
    server.stop()


def _missing(err: Exception) -> None:
    pytest.fail(str(err)) if os.environ.get("CI") else pytest.skip(str(err))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PrivatePostgres]:
    """One private PostgreSQL for the whole run (tests take a database each)."""
    try:
        server = PrivatePostgres().start()
    except ServerMissing as err:
        _missing(err)
    yield server
    server.stop()


@pytest.fixture
def postgres(postgres_server: PrivatePostgres) -> str:
    """The URL of a fresh, empty PostgreSQL database."""
    return postgres_server.new_database()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A private Redis, for this test alone."""
    try:
        server = PrivateRedis(tmp_path / "redis").start()
    except ServerMissing as err:
        _missing(err)
    yield server
    server.stop()
