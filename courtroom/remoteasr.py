"""Recognition on other machines: an engine that speaks vosk-server's
websocket protocol, with a pool of workers.

Each speaker's stream keeps one session on one worker (a config message,
then binary 16 kHz PCM, each answered with a partial or, at an utterance's
end, a result; ``{"reset" : 1}`` ends an utterance early, ``{"eof" : 1}``
ends the session). Streams are spread over the pool round robin. The audio
of the utterance under way is kept until its result arrives: if the worker
dies or stops answering, the stream opens a session on the next worker,
sends that audio again and goes on, its word times moved to the stream's
clock, so the rest of the hearing is recognized and the utterance that was
interrupted is not lost.

The recognizer is synchronous, like vosk's own: it runs on the speaker
stream's worker thread (``asr.stream``).
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
from contextlib import ExitStack
from typing import Any

from websockets.exceptions import WebSocketException
from websockets.sync.client import ClientConnection, connect

from asr.engine import SAMPLE_RATE, ModelError
from asr.words import Word

log = logging.getLogger(__name__)

#: Seconds a worker may take to answer one chunk before it is given up.
ANSWER_TIMEOUT = 10.0
CONNECT_TIMEOUT = 5.0
EOF = '{"eof" : 1}'
RESET = '{"reset" : 1}'


class WorkersUnavailable(RuntimeError):
    """No worker of the pool answers."""


def _words(doc: dict[str, Any], base: float) -> list[Word]:
    return [Word(w["word"], float(w["start"]) + base, float(w["end"]) + base, float(w.get("conf", 1.0)))
            for w in doc.get("result", ()) if w.get("word") and w["word"] != "[unk]"]


class RemoteEngine:
    """Recognizers on vosk-server workers (``ws://host:2700``, several for a pool)."""

    name = "vosk-server"

    def __init__(self, urls: list[str]) -> None:
        bad = [u for u in urls if not u.startswith(("ws://", "wss://"))]
        if not urls or bad:
            raise ModelError(f"--asr takes ws:// or wss:// URLs of vosk-server workers (got {bad or urls})")
        self.urls = list(urls)
        self._next = itertools.cycle(range(len(urls)))
        self._lock = threading.Lock()

    def first(self) -> int:
        with self._lock:
            return next(self._next)

    def recognizer(self) -> RemoteRecognizer:
        return RemoteRecognizer(self)


class RemoteRecognizer:
    def __init__(self, engine: RemoteEngine) -> None:
        self.engine = engine
        self._worker = engine.first()
        self._ws: ClientConnection | None = None
        self._session = ExitStack()
        #: The stream's time (s) at which the current session's time 0 lies.
        self._base = 0.0
        #: Audio fed so far (s), and the utterance under way: its chunks and start.
        self._fed = 0.0
        self._pending: list[bytes] = []
        self._pending_start = 0.0
        self._partial = ""
        self._result: list[Word] = []
        self._carried: list[Word] = []

    # -- the Recognizer interface -----------------------------------------------------

    def accept(self, pcm: bytes) -> bool:
        self._pending.append(pcm)
        self._fed += len(pcm) / (2 * SAMPLE_RATE)
        reply = self._call(pcm)
        if "result" in reply or "text" in reply:
            self._result = self._carried + _words(reply, self._base)
            self._carried = []
            self._utterance_done()
            return True
        self._partial = str(reply.get("partial", ""))
        if self._carried:  # an utterance ended while its audio was sent again
            self._result, self._carried = self._carried, []
            return True
        return False

    def partial(self) -> str:
        return self._partial

    def result(self) -> list[Word]:
        return self._result

    def flush(self) -> list[Word]:
        """End the utterance under way now (the session goes on)."""
        if self._ws is None and not self._pending:
            return []
        reply = self._call(RESET)
        words = self._carried + _words(reply, self._base)
        self._carried = []
        self._utterance_done()
        return words

    def close(self) -> None:
        if self._ws is not None:
            try:
                self._ws.send(EOF)
            except (OSError, WebSocketException):
                pass
            self._drop()

    # -- the session and its failover --------------------------------------------------

    def _utterance_done(self) -> None:
        self._pending = []
        self._pending_start = self._fed
        self._partial = ""

    def _call(self, message: bytes | str) -> dict[str, Any]:
        tried: list[str] = []
        while len(tried) <= len(self.engine.urls):
            url = self.engine.urls[self._worker]
            try:
                if self._ws is None:
                    self._open(url, resend=self._pending[:-1] if isinstance(message, bytes) else self._pending)
                assert self._ws is not None
                self._ws.send(message)
                return dict(json.loads(self._ws.recv(timeout=ANSWER_TIMEOUT)))
            except (OSError, TimeoutError, WebSocketException, ValueError) as err:
                log.warning("recognition worker %s failed (%s); moving the stream to the next", url, err)
                tried.append(url)
                self._drop()
                self._worker = (self._worker + 1) % len(self.engine.urls)
        raise WorkersUnavailable(f"no recognition worker answers ({', '.join(tried)})")

    def _open(self, url: str, resend: list[bytes]) -> None:
        session = ExitStack()
        ws = session.enter_context(connect(url, open_timeout=CONNECT_TIMEOUT, close_timeout=1, max_size=2**22))
        self._session = session
        ws.send(json.dumps({"config": {"sample_rate": SAMPLE_RATE, "words": 1}}))
        self._ws = ws
        # The new session's clock starts at the utterance under way.
        self._base = self._pending_start
        for chunk in resend:
            ws.send(chunk)
            reply = json.loads(ws.recv(timeout=ANSWER_TIMEOUT))
            if "result" in reply or "text" in reply:
                self._carried += _words(reply, self._base)

    def _drop(self) -> None:
        if self._ws is not None:
            try:
                self._session.close()
            except (OSError, WebSocketException):
                pass
        self._ws = None
