"""Start vosk-server's ``asr_server.py`` as it is, on the ``websockets``
library's legacy server, whose handlers take ``(websocket, path)`` as the
script's does. Port, model and sample rate come from the script's own
environment variables (VOSK_SERVER_PORT, VOSK_MODEL_PATH, VOSK_SAMPLE_RATE)."""

from __future__ import annotations

import asyncio
import sys
import warnings
from pathlib import Path

warnings.filterwarnings("ignore", category=DeprecationWarning)

import websockets  # noqa: E402
import websockets.legacy.server  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
import asr_server  # type: ignore[import-not-found]  # noqa: E402

websockets.serve = websockets.legacy.server.serve  # type: ignore[assignment]

if __name__ == "__main__":
    asyncio.run(asr_server.start())
