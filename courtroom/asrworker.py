"""``courtroom asr-worker``: a recognition worker for other machines, speaking
vosk-server's websocket protocol, so a hub's ``--asr`` pool can mix these
with vosk-server's own servers.

Per connection: an optional text message ``{"config": {"sample_rate": …,
"words": …}}``, then binary PCM (s16 mono), each message answered with
vosk's ``PartialResult`` or, when an utterance ends, its ``Result``;
``{"reset" : 1}`` answers the ``FinalResult`` and goes on, ``{"eof" : 1}``
answers it and ends the session. Recognition runs on a thread pool (one
thread per core), so one worker serves many streams.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from asr.engine import VoskEngine

log = logging.getLogger(__name__)

EOF = '{"eof" : 1}'
RESET = '{"reset" : 1}'


class Worker:
    def __init__(self, engine: VoskEngine, sample_rate: float = 16_000) -> None:
        self.engine = engine
        self.sample_rate = sample_rate
        self.pool = ThreadPoolExecutor(os.cpu_count() or 1, thread_name_prefix="recognize")

    async def session(self, ws: ServerConnection) -> None:
        import vosk
        loop = asyncio.get_running_loop()
        rec: Any = None
        rate, words = self.sample_rate, True
        try:
            async for message in ws:
                if isinstance(message, str) and "config" in message:
                    try:
                        config = json.loads(message)["config"]
                        rate = float(config.get("sample_rate", rate))
                        words = bool(config.get("words", words))
                    except (ValueError, TypeError, KeyError, AttributeError):
                        await ws.close(1003, "config must be {\"config\": {\"sample_rate\": …}}")
                        return
                    continue
                if rec is None:
                    rec = vosk.KaldiRecognizer(self.engine.model, rate)
                    rec.SetWords(words)
                answer, stop = await loop.run_in_executor(self.pool, self._chunk, rec, message)
                await ws.send(answer)
                if stop:
                    return
        except ConnectionClosed:
            pass

    @staticmethod
    def _chunk(rec: Any, message: str | bytes) -> tuple[str, bool]:
        if message == EOF:
            return rec.FinalResult(), True
        if message == RESET:
            return rec.FinalResult(), False
        if isinstance(message, str):
            return json.dumps({"error": "send audio as binary messages"}), False
        if rec.AcceptWaveform(message):
            return rec.Result(), False
        return rec.PartialResult(), False

    async def run(self, host: str, port: int) -> None:
        async with serve(self.session, host, port, max_size=2**22, compression=None):
            print(f"recognition worker: vosk model {self.engine.model_dir}; listening on ws://{host}:{port}",
                  flush=True)
            await asyncio.Future()
