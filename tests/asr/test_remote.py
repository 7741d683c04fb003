"""Recognition on workers over vosk-server's protocol (``courtroom
asr-worker`` processes, and vosk-server's own ``asr_server.py``, with the
tone-language stand-in model): the same finals and word times as the
engine in the hub, and a worker killed in the middle of an utterance loses
nothing."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest

from asr.stream import SpeakerStream
from courtroom.remoteasr import RemoteEngine
from tests.asr.conftest import TONE_MODEL, TONE_VOSK
from tests.asr.support import speech
from tests.asr.test_stream import EXPECTED, SCRIPT, Collector
from tests.support import end_process, free_port


#: vosk-server's own websocket server (tests/asr/vosk_server/README.md).
VOSK_SERVER = Path(__file__).parent / "vosk_server" / "run.py"


class WorkerProcess:
    def __init__(self, folder: Path, kind: str = "asr-worker") -> None:
        """``kind``: ``asr-worker`` (``courtroom asr-worker``) or
        ``vosk-server`` (vosk-server's ``asr_server.py``)."""
        self.port = free_port()
        self.log = open(folder / f"worker-{self.port}.log", "ab")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TONE_VOSK), os.environ.get("PYTHONPATH", "")])}
        if kind == "vosk-server":
            command = [sys.executable, str(VOSK_SERVER)]
            env.update(VOSK_SERVER_INTERFACE="127.0.0.1", VOSK_SERVER_PORT=str(self.port),
                       VOSK_MODEL_PATH=str(TONE_MODEL), VOSK_SAMPLE_RATE="16000")
        else:
            command = [sys.executable, "-m", "courtroom.cli", "asr-worker", "--port", str(self.port),
                       "--model", str(TONE_MODEL)]
        self.proc = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the recognition worker did not start")

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def stop(self) -> None:
        end_process(self.proc)
        self.log.close()


@pytest.fixture(params=["asr-worker", "vosk-server"])
def workers(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[list[WorkerProcess]]:
    started = [WorkerProcess(tmp_path, request.param), WorkerProcess(tmp_path, request.param)]
    yield started
    for w in started:
        w.stop()


def feed(stream: SpeakerStream, pcm: np.ndarray, rate: int = 16_000) -> None:
    for at in range(0, len(pcm), rate // 10):
        stream.feed(pcm[at:at + rate // 10], rate, 1)


def test_workers_recognize_as_the_hub_does(workers: list[WorkerProcess], engine) -> None:  # noqa: ANN001
    pcm, _ = speech(SCRIPT)
    results = []
    for eng in (engine, RemoteEngine([w.url for w in workers])):
        got = Collector()
        stream = SpeakerStream(eng, "p-1", got)
        feed(stream, pcm)
        stream.close()
        results.append(got.finals())
    local, remote = results
    assert [r.text for r in remote] == EXPECTED == [r.text for r in local]
    for a, b in zip(local, remote):
        assert [(w.word, round(w.start, 2), round(w.end, 2)) for w in a.words] == \
            [(w.word, round(w.start, 2), round(w.end, 2)) for w in b.words]


def test_a_worker_killed_mid_utterance_loses_nothing(workers: list[WorkerProcess], engine) -> None:  # noqa: ANN001
    pcm, manifest = speech(SCRIPT)
    got = Collector()
    stream = SpeakerStream(RemoteEngine([w.url for w in workers]), "p-1", got)
    middle = int((manifest[1]["start"] + manifest[1]["end"]) / 2 * 16_000)  # inside the second utterance
    feed(stream, pcm[:middle])
    deadline = time.monotonic() + 10
    while len(got.finals()) < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    workers[0].proc.send_signal(signal.SIGKILL)
    feed(stream, pcm[middle:])
    stream.close()
    finals = got.finals()
    assert [r.text for r in finals] == EXPECTED
    words = [w for r in finals for w in r.words]
    assert abs(words[-1].end - manifest[-1]["end"]) < 0.06  # still on the stream's clock


def test_no_worker_at_all_is_reported(engine) -> None:  # noqa: ANN001
    got = Collector()
    stream = SpeakerStream(RemoteEngine([f"ws://127.0.0.1:{free_port()}"]), "p-1", got)
    pcm, _ = speech(SCRIPT)
    feed(stream, pcm[:16_000])
    with pytest.raises(RuntimeError, match="no recognition worker answers"):
        stream.close()
