"""Concurrent 8-party video hearings on this machine: what each costs the
hub with ``--workers 2`` against one process, in the same run, and what
the parties receive.

    python -m tests.bench.hearings [--hearings 1,2,4,8] [--seconds 10]

* A real ``courtroom serve`` (no recognition: the hearings' own media).
  Every party publishes Opus and 640×480 VP8 at 30 fps (pre-encoded, so
  that 64 publishers cost this process little) and receives the other 7
  parties' audio and video. Hearings are added one set at a time; after
  each, the hub's CPU-s/s over the window, summed over its serving
  processes (the niced processes that compose the 庭审录像 during a
  hearing are shown apart).
* The parties are aiortc peers in this process. Decrypting and
  reassembling 60,000 packets a second in Python would take this machine's
  two cores on its own, so once a party's connection is up its socket is
  read by a counter: each RTP packet's SSRC and marker bit are read from
  its clear header and the packet is dropped undecrypted (STUN and DTLS
  still go to aiortc). A video stream's frames are its packets with the
  marker bit; frames/s are reported per (party, stream).
* Speaking: as a browser does, every party marks each audio packet with
  its level (RFC 6464); here they speak in turns of 3 s, one at a time
  (-30 dBov), the others quiet (-90 dBov), so the hub forwards the
  speaker's audio and holds the others' silence back (``silence``). The
  Opus payloads are the same either way.
* Baselines: the same hearings on ``--workers 1``; and, at the smallest
  count, a hearing in which all eight speak at once (nothing to hold back).

The parties share the two cores with the hub, so past some number of
hearings the machine, not the hub, runs out: the table shows this
process's CPU too.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from aioice.ice import StunProtocol

from devices.terminal import Terminal
from tests.bench.media_forwarding import Prerecorded, encoded
from tests.support import Client, HubProcess, machine_busy, media_address

ROLES = ["judge", "clerk", "plaintiff", "defendant", "agent", "prosecutor", "witness", "witness"]
PARTIES = 8


class Counter:
    """RTP arriving on one party's connection, counted from the clear header
    and dropped: packets and marker bits per SSRC."""

    def __init__(self) -> None:
        self.packets: dict[bytes, list[int]] = {}
        self.video_types: set[int] = set()
        self.installed = False

    def install(self, terminal: Terminal) -> bool:
        """Once the connection is up: read its socket here from now on."""
        pc = terminal.pc
        if self.installed or pc is None or pc.connectionState != "connected":
            return self.installed
        sdp = pc.remoteDescription.sdp if pc.remoteDescription else ""
        self.video_types = {int(pt) for pt in re.findall(r"a=rtpmap:(\d+) VP8/90000", sdp)}
        connection = pc.getTransceivers()[0].receiver.transport.transport._connection
        pair = connection._nominated.get(1)
        if pair is None or type(pair.protocol) is not StunProtocol:
            return False
        protocol = pair.protocol
        passed_on = protocol.datagram_received
        packets = self.packets

        def datagram_received(data: bytes, addr: Any) -> None:
            # RTP: version 2 and a second byte outside RTCP's 192–223.
            if len(data) >= 12 and 128 <= data[0] < 192 and not 192 <= data[1] <= 223:
                entry = packets.get(data[8:12])
                if entry is None:
                    entry = packets[data[8:12]] = [0, 0, data[1] & 0x7F]
                entry[0] += 1
                entry[1] += data[1] >> 7
                return
            passed_on(data, addr)
        protocol.datagram_received = datagram_received  # type: ignore[method-assign]
        self.installed = True
        return True

    def snapshot(self) -> dict[bytes, tuple[int, int, int]]:
        return {ssrc: (p, m, pt) for ssrc, (p, m, pt) in self.packets.items()}


#: Seconds each party speaks in its turn.
TURN = 3.0


def speaking(terminal: Terminal, k: int, clock0: float, everyone: bool) -> bool:
    """Mark the party's audio packets with a level, as a browser does: loud
    in its turn (or always, ``everyone``), quiet otherwise. False until its
    audio sender exists."""
    pc = terminal.pc
    sender = next((s for s in pc.getSenders() if s.track is not None and s.track.kind == "audio"), None) \
        if pc is not None else None
    if sender is None:
        return False
    encoded = sender._next_encoded_frame

    async def with_level(codec: Any) -> Any:
        frame = await encoded(codec)
        if frame is not None:
            turn = int((time.monotonic() - clock0) / TURN) % PARTIES
            frame.audio_level = -30 if everyone or turn == k else -90
        return frame
    sender._next_encoded_frame = with_level  # type: ignore[method-assign]
    return True


class Hearing:
    def __init__(self, hub: HubProcess, video: list[bytes], audio: list[bytes], everyone: bool = False) -> None:
        people = [{"role": ROLES[k % len(ROLES)], "name": f"参与人{k}"} for k in range(PARTIES)]
        created = hub.create_hearing(people)
        self.hub, self.id, self.invites = hub, created["hearing_id"], created["invites"]
        self.clock0 = time.monotonic()
        self.video, self.audio, self.everyone = video, audio, everyone
        self.parties: list[tuple[Client, Terminal, Counter]] = []
        self._speaking: set[int] = set()

    async def join(self) -> None:
        for k in range(PARTIES):
            client = await Client.connect(self.hub.ws_url(self.id, self.invites[k]["token"]))
            terminal = Terminal(client.send_json, audio=Prerecorded("audio", self.audio, 960, 48_000),
                                video=Prerecorded("video", self.video, 3000, 90_000))
            client.terminal = terminal
            await terminal.join()
            self.parties.append((client, terminal, Counter()))

    async def counting(self, within: float = 20.0) -> bool:
        """Every party's counter installed (its connection up)."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            for k, (_, terminal, _) in enumerate(self.parties):
                if k not in self._speaking and speaking(terminal, k, self.clock0, self.everyone):
                    self._speaking.add(k)
            if all(counter.install(terminal) for _, terminal, counter in self.parties) \
                    and len(self._speaking) == PARTIES:
                return True
            await asyncio.sleep(0.2)
        return False

    async def close(self) -> None:
        for client, terminal, _ in self.parties:
            await terminal.close()
            await client.close()


def rates(hearings: list[Hearing], before: list[list[dict[bytes, tuple[int, int, int]]]],
          elapsed: float) -> tuple[list[float], list[float]]:
    """Video frames/s per (party, stream) and audio packets/s per (party,
    stream) over the window; a stream that never arrived counts as 0."""
    video: list[float] = []
    audio: list[float] = []
    for hearing, snaps in zip(hearings, before):
        for (_, _, counter), snap in zip(hearing.parties, snaps):
            now = counter.snapshot()
            got_video = got_audio = 0
            for ssrc, (packets, markers, pt) in now.items():
                p0, m0, _ = snap.get(ssrc, (0, 0, pt))
                if pt in counter.video_types:
                    video.append((markers - m0) / elapsed)
                    got_video += 1
                else:
                    audio.append((packets - p0) / elapsed)
                    got_audio += 1
            video += [0.0] * max(0, PARTIES - 1 - got_video)
            audio += [0.0] * max(0, PARTIES - 1 - got_audio)
    return video, audio


async def run(workers: int, counts: list[int], seconds: float, tmp: Path,
              video: list[bytes], audio: list[bytes], everyone: bool = False) -> dict[int, dict[str, float]]:
    label = f"--workers {workers}" + (", all speaking" if everyone else "")
    hub = HubProcess(tmp / f"workers-{workers}{'-all' if everyone else ''}",
                     args=["--workers", str(workers), "--network", f"test={media_address()}"])
    hub.env = dict(os.environ)
    hub.start()
    out: dict[int, dict[str, float]] = {}
    hearings: list[Hearing] = []
    try:
        for n in counts:
            while len(hearings) < n:
                hearing = Hearing(hub, video, audio, everyone)
                hearings.append(hearing)
                await hearing.join()
            up = [await h.counting() for h in hearings]
            await asyncio.sleep(4)
            before = [[counter.snapshot() for _, _, counter in h.parties] for h in hearings]
            c0, own0, t0, composing0 = hub.cpu_seconds(), time.process_time(), time.monotonic(), \
                hub.composing_cpu_seconds()
            busy0 = machine_busy()
            await asyncio.sleep(seconds)
            elapsed = time.monotonic() - t0
            cpu, own = (hub.cpu_seconds() - c0) / elapsed, (time.process_time() - own0) / elapsed
            composing = (hub.composing_cpu_seconds() - composing0) / elapsed
            busy1 = machine_busy()
            machine = (busy1[0] - busy0[0]) / (busy1[1] - busy0[1]) * (os.cpu_count() or 1)
            v, a = rates(hearings, before, elapsed)
            out[n] = {"cpu": cpu, "per": cpu / n, "own": own, "fps_min": min(v),
                      "fps_median": statistics.median(v), "audio": sum(a) / n,
                      "up": sum(up), "machine": machine}
            print(f"    ({label}, {n} hearings: hub {cpu:.2f} CPU-s/s, its niced composing {composing:.2f}, "
                  f"parties {own:.2f}, the whole machine {machine:.2f} of {os.cpu_count()} cores; video "
                  f"fps min {min(v):.1f} median {statistics.median(v):.1f}; audio packets/s {sum(a) / n:.0f} per "
                  f"hearing; {sum(up)}/{n} hearings counted)",
                  file=sys.stderr, flush=True)
    finally:
        for h in hearings:
            await h.close()
        hub.stop()
    return out


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--hearings", default="1,2,4,8")
    p.add_argument("--seconds", type=float, default=10.0)
    args = p.parse_args()
    counts = [int(x) for x in args.hearings.split(",")]
    video, audio = await encoded("video", 10), await encoded("audio", 10)
    print(f"hearings: 8-party hearings, everyone publishing Opus + 640×480 VP8 at 30 fps and receiving the other 7; "
          f"{os.cpu_count()} cores, {args.seconds:.0f} s windows")
    with tempfile.TemporaryDirectory() as tmp:
        results = {w: await run(w, counts, args.seconds, Path(tmp), video, audio) for w in (2, 1)}
        loud = await run(1, counts[:1], args.seconds, Path(tmp), video, audio, everyone=True)
    print(f"  {'hearings':>8}  {'--workers 2: hub CPU-s/s (per hearing)':>40}  {'video fps min/median':>20}"
          f"  {'--workers 1: hub (per hearing)':>32}  {'video fps min/median':>20}  {'parties CPU-s/s':>15}"
          f"  {'whole machine':>13}")
    for n in counts:
        two, one = results[2][n], results[1][n]
        print(f"  {n:>8}  {two['cpu']:>30.2f} ({two['per']:.3f})  {two['fps_min']:>11.1f} / {two['fps_median']:<6.1f}"
              f"  {one['cpu']:>22.2f} ({one['per']:.3f})  {one['fps_min']:>11.1f} / {one['fps_median']:<6.1f}"
              f"  {two['own']:>6.2f} / {one['own']:.2f}  {two['machine']:>6.2f} / {one['machine']:.2f}")
    for n in counts:
        two, one = results[2][n], results[1][n]
        ratio = f"{two['fps_median'] / one['fps_median']:.2f}" if one["fps_median"] else "— (none arrived on one process)"
        print(f"  {n} hearings: {n * PARTIES * (PARTIES - 1)} video streams; median fps --workers 2 / --workers 1 = "
              f"{ratio}; hub CPU per hearing {two['per'] / one['per']:.2f}× of one process's; audio packets/s "
              f"forwarded per hearing {two['audio']:.0f} / {one['audio']:.0f}")
    n = counts[0]
    first, all_loud = results[1][n], loud[n]
    print(f"  {n} hearing(s) on --workers 1, one speaking at a time / all eight speaking at once: hub CPU per hearing "
          f"{first['per']:.3f} / {all_loud['per']:.3f} ({first['per'] / all_loud['per']:.2f}×); audio packets/s "
          f"forwarded per hearing {first['audio']:.0f} / {all_loud['audio']:.0f}; video fps median "
          f"{first['fps_median']:.1f} / {all_loud['fps_median']:.1f}")


if __name__ == "__main__":
    asyncio.run(main())
