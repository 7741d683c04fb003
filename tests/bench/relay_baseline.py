"""The baseline for tests/bench/media_forwarding: aiortc's own MediaRelay
(decode once, re-encode per subscriber) in a process of its own.

Reads one JSON offer per line on stdin (``{"kind": "publish"|"subscribe",
"sdp"}``) and writes the answer's SDP as one JSON line on stdout."""

from __future__ import annotations

import asyncio
import json
import sys

from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaRelay


async def main() -> None:
    relay = MediaRelay()
    source: asyncio.Future = asyncio.get_running_loop().create_future()
    pcs = []
    reader = asyncio.StreamReader()
    await asyncio.get_running_loop().connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        msg = json.loads(line)
        pc = RTCPeerConnection()
        pcs.append(pc)
        if msg["kind"] == "publish":
            pc.on("track", lambda t: source.done() or source.set_result(t))
        else:
            pc.addTrack(relay.subscribe(await source, buffered=False))
        await pc.setRemoteDescription(RTCSessionDescription(msg["sdp"], "offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        print(json.dumps({"sdp": pc.localDescription.sdp}), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
