"""A terminal in a network namespace of its own, for test_networks: joins
a hearing, publishes a tone and test video, and prints, as JSON, how many
frames it received from each other participant.

    python -m tests.media.netclient WS_URL SECONDS
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import numpy as np
from aiortc import MediaStreamTrack, VideoStreamTrack
from aiortc.mediastreams import AudioStreamTrack
from av import AudioFrame

from devices.terminal import Terminal
from tests.support import Client


class ToneTrack(AudioStreamTrack):
    """aiortc's audio test track, paced as it is, sounding 440 Hz: its
    silence would not be forwarded (courtroom/media/silence.py)."""

    async def recv(self) -> AudioFrame:
        frame = await super().recv()
        n = frame.samples
        t = (frame.pts + np.arange(n)) / frame.sample_rate
        tone = (0.2 * 32767 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
        frame.planes[0].update(np.repeat(tone, len(frame.layout.channels)).tobytes())
        return frame


async def main(url: str, seconds: float) -> None:
    client = await Client.connect(url)
    frames: dict[str, int] = {}

    def on_track(pid: str, kind: str, track: MediaStreamTrack) -> None:
        key = f"{pid}/{kind}"
        frames[key] = 0

        async def pump() -> None:
            try:
                while True:
                    await track.recv()
                    frames[key] += 1
            except Exception:
                pass
        asyncio.ensure_future(pump())
    terminal = Terminal(client.send_json, audio=ToneTrack(), video=VideoStreamTrack(), on_track=on_track)
    client.terminal = terminal
    await terminal.join()
    await asyncio.sleep(seconds)
    pair: Any = None
    if terminal.pc is not None:
        pair = terminal.pc.getTransceivers()[0].receiver.transport.transport._connection._nominated
    print(json.dumps({"frames": frames, "pair": str(pair)}), flush=True)
    await terminal.close()
    await client.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], float(sys.argv[2])))
