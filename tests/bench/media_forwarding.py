"""Media forwarding: what each subscriber costs the hub, against aiortc's
MediaRelay in the same run, and latency through the hub.

    python -m tests.bench.media_forwarding [--seconds 8] [--subscribers 1,2,4,8]

* A real ``courtroom serve`` process (tone stand-in for vosk, media on this
  machine's address). One publisher sends Opus audio, or 640×480 VP8 video
  at 30 fps; N = 0, 1, 2, 4, 8 subscribers receive it (counting encoded
  frames without decoding them). The hub's CPU is read from /proc over the
  window: its serving process; the niced process it starts beside itself to
  compose the 庭审录像 minute by minute during a hearing is counted apart
  (tests.bench.composition measures composing). Per subscriber =
  (CPU(N) − CPU(0)) / N / seconds.
* The baseline: the same publisher and subscribers through a process that
  relays with aiortc's ``MediaRelay`` (tests/bench/relay_baseline.py).
* Mouth-to-ear: a tone burst every 0.5 s; the time from the frame carrying
  its onset leaving the publisher's track to the onset decoded at another
  participant, through the hub, p50/p99.
* Speech end → final: tone-language speech from the publisher; the time
  from each utterance's last word ending to its final segment arriving at
  another participant's websocket, p50/p99; against a hub started with
  ``--endpoints recognizer`` (the recognizer's fixed endpoint silence).
"""

from __future__ import annotations

import argparse
import asyncio
import fractions
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import av
import numpy as np
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AUDIO_PTIME, MediaStreamError

from courtroom.media.forwarding import tap
from courtroom.media.rtpsender import PLAIN_ENV
from devices.terminal import Terminal
from tests.support import SHARED, Client, HubProcess, cpu_seconds

ROOT = Path(__file__).resolve().parents[2]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


class MovingVideo(MediaStreamTrack):
    """640×480 at 30 fps with a moving picture, so VP8 has real work."""
    kind = "video"

    def __init__(self) -> None:
        super().__init__()
        y, x = np.mgrid[0:480, 0:640]
        self._base = np.stack([(x * 255 // 640), (y * 255 // 480), ((x + y) * 255 // 1120)], -1).astype(np.uint8)
        self._n = 0
        self._t0: float | None = None

    async def recv(self) -> av.VideoFrame:
        if self._t0 is None:
            self._t0 = time.monotonic()
        self._n += 1
        await asyncio.sleep(max(0.0, self._t0 + self._n / 30 - time.monotonic()))
        img = np.roll(self._base, self._n * 4, axis=1)
        img[200:280, (self._n * 7) % 560:(self._n * 7) % 560 + 80] = 255
        frame = av.VideoFrame.from_ndarray(img, format="rgb24")
        frame.pts, frame.time_base = self._n * 3000, fractions.Fraction(1, 90_000)
        return frame


class BurstAudio(MediaStreamTrack):
    """20 ms frames in real time; a 1 kHz burst starts every 0.5 s. Records
    when each burst's first frame left the track."""
    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[float] = []
        self._n = 0
        self._t0: float | None = None
        t = np.arange(960) / 48_000
        self._tone = (np.sin(2 * np.pi * 1000 * t) * 12_000).astype(np.int16)

    async def recv(self) -> av.AudioFrame:
        if self._t0 is None:
            self._t0 = time.monotonic()
        await asyncio.sleep(max(0.0, self._t0 + self._n * AUDIO_PTIME - time.monotonic()))
        on = self._n % 25 < 5  # 100 ms of tone every 500 ms
        samples = self._tone if on else np.zeros(960, np.int16)
        if self._n % 25 == 0:
            self.sent.append(time.monotonic())
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = 48_000, self._n * 960, fractions.Fraction(1, 48_000)
        self._n += 1
        return frame


class Prerecorded(MediaStreamTrack):
    """Encoded packets played in a loop in real time (``recv()`` gives
    ``av.Packet``, which aiortc sends without encoding), so that many
    publishers cost this benchmark's process almost nothing."""

    def __init__(self, kind: str, packets: list[bytes], step: int, rate: int) -> None:
        super().__init__()
        self.kind = kind
        self._packets, self._step, self._rate = packets, step, rate
        self._n = 0
        self._t0: float | None = None

    async def recv(self) -> av.Packet:
        if self._t0 is None:
            self._t0 = time.monotonic()
        await asyncio.sleep(max(0.0, self._t0 + self._n * self._step / self._rate - time.monotonic()))
        packet = av.Packet(self._packets[self._n % len(self._packets)])
        packet.pts, packet.time_base = self._n * self._step, fractions.Fraction(1, self._rate)
        self._n += 1
        return packet


async def encoded(kind: str, seconds: float) -> list[bytes]:
    """``seconds`` of MovingVideo as VP8 (~500 kb/s, a keyframe every second:
    a prerecording cannot answer the hub's keyframe requests) or of
    BurstAudio as Opus."""
    if kind == "video":
        enc = av.CodecContext.create("libvpx", "w")
        enc.width, enc.height, enc.pix_fmt = 640, 480, "yuv420p"
        enc.bit_rate, enc.framerate, enc.gop_size = 500_000, fractions.Fraction(30), 30
        enc.time_base = fractions.Fraction(1, 30)
        source: Any = MovingVideo()
        frames = int(seconds * 30)
    else:
        enc = av.CodecContext.create("libopus", "w")
        enc.sample_rate, enc.layout, enc.format = 48_000, "mono", "s16"
        enc.time_base = fractions.Fraction(1, 48_000)
        source, frames = BurstAudio(), int(seconds * 50)
    source._t0 = -1e9  # no pacing: render as fast as possible
    out: list[bytes] = []
    for k in range(frames):
        frame = await source.recv()
        if kind == "video":
            frame = frame.reformat(format="yuv420p")
            frame.pts, frame.time_base = k, fractions.Fraction(1, 30)
        out += [bytes(p) for p in enc.encode(frame)]
    return out


async def hearing_of(hub: HubProcess, parties: int, seconds: float) -> tuple[float, float, int]:
    """``parties`` participants each publishing audio and video and receiving
    everyone else's: the hub's CPU-s/s and the slowest video subscription's
    frames/s."""
    roles = ["judge", "clerk", "plaintiff", "defendant", "agent", "prosecutor", "witness", "witness"]
    people = [{"role": roles[k % len(roles)], "name": f"参与人{k}"} for k in range(parties)]
    hearing = hub.create_hearing(people)
    side = HubSide(hub, hearing)
    video, audio = await encoded("video", 10), await encoded("audio", 10)
    counts: dict[tuple[int, str, str], list[int]] = {}
    for k in range(parties):
        def on_track(pid: str, kind: str, track: MediaStreamTrack, k: int = k) -> None:
            frames = counts.setdefault((k, pid, kind), [0])
            assert side.clients[k][1].pc is not None
            counting(frames)(next(t.receiver for t in side.clients[k][1].pc.getTransceivers()
                                  if t.receiver.track is track))
        await side._connect(k, audio=Prerecorded("audio", audio, 960, 48_000),
                            video=Prerecorded("video", video, 3000, 90_000), on_track=on_track)
    await asyncio.sleep(6)
    before = {key: f[0] for key, f in counts.items()}
    c0, t0, own0, composing0 = side.cpu(), time.monotonic(), time.process_time(), hub.composing_cpu_seconds()
    await asyncio.sleep(seconds)
    elapsed = time.monotonic() - t0
    cpu = (side.cpu() - c0) / elapsed
    composing = (hub.composing_cpu_seconds() - composing0) / elapsed
    video_rates = [(f[0] - before[key]) / elapsed for key, f in counts.items() if key[2] == "video"]
    print(f"    (8 parties: this process {(time.process_time() - own0) / elapsed:.2f} CPU-s/s; the hub's "
          f"composing process beside it (庭审录像 minute by minute, niced) {composing:.2f}; video fps "
          f"{sorted(round(r) for r in video_rates)})", file=sys.stderr, flush=True)
    await side.close()
    return cpu, min(video_rates, default=0.0), len(video_rates)


def counting(frames: list[int]) -> Callable[[Any], None]:
    """A receiver tap that counts encoded frames and never decodes."""
    def install(receiver: Any) -> None:
        tap(receiver, lambda codec, frame: frames.__setitem__(0, frames[0] + 1))
    return install


class HubSide:
    """Publisher and subscribers through the courtroom hub."""

    def __init__(self, hub: HubProcess, hearing: dict[str, Any]) -> None:
        self.hub = hub
        self.invites = hearing["invites"]
        self.hearing_id = hearing["hearing_id"]
        self.clients: list[tuple[Client, Terminal]] = []
        self.cpu = hub.cpu_seconds

    async def _connect(self, k: int, **media: Any) -> tuple[Client, Terminal]:
        client = await Client.connect(self.hub.ws_url(self.hearing_id, self.invites[k]["token"]))
        terminal = Terminal(client.send_json, **media)
        client.terminal = terminal
        await terminal.join()
        self.clients.append((client, terminal))
        return client, terminal

    async def publish(self, track: MediaStreamTrack) -> None:
        await self._connect(0, **{track.kind: track})

    async def subscribe(self, frames: list[int]) -> None:
        install = counting(frames)
        terminal: Terminal | None = None

        def on_track(pid: str, kind: str, track: MediaStreamTrack) -> None:
            assert terminal is not None and terminal.pc is not None
            install(next(t.receiver for t in terminal.pc.getTransceivers() if t.receiver.track is track))
        _, terminal = await self._connect(len(self.clients), on_track=on_track)

    async def close(self) -> None:
        for client, terminal in self.clients:
            await terminal.close()
            await client.close()


class RelaySide:
    """The same through aiortc's MediaRelay in its own process."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.bench.relay_baseline"], cwd=ROOT,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.cpu = lambda: cpu_seconds(self.proc.pid)
        self.pcs: list[RTCPeerConnection] = []

    async def _negotiate(self, pc: RTCPeerConnection, kind: str) -> None:
        await pc.setLocalDescription(await pc.createOffer())
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps({"kind": kind, "sdp": pc.localDescription.sdp}) + "\n")
        self.proc.stdin.flush()
        answer = json.loads(await asyncio.get_running_loop().run_in_executor(None, self.proc.stdout.readline))
        await pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))
        self.pcs.append(pc)

    async def publish(self, track: MediaStreamTrack) -> None:
        pc = RTCPeerConnection()
        pc.addTransceiver(track, direction="sendonly")
        await self._negotiate(pc, "publish")

    async def subscribe(self, frames: list[int], kind: str) -> None:
        pc = RTCPeerConnection()
        install = counting(frames)
        pc.on("track", lambda track: install(next(t.receiver for t in pc.getTransceivers()
                                                   if t.receiver.track is track)))
        pc.addTransceiver(kind, direction="recvonly")
        await self._negotiate(pc, "subscribe")

    async def close(self) -> None:
        for pc in self.pcs:
            await pc.close()
        self.proc.terminate()
        self.proc.wait()


async def cost(side: Any, kind: str, counts: list[int], seconds: float) -> dict[int, tuple[float, float]]:
    """CPU s/s of the serving process and frames/s per subscriber, by N."""
    out: dict[int, tuple[float, float]] = {}
    subs: list[list[int]] = []
    await side.publish(MovingVideo() if kind == "video" else BurstAudio())
    await asyncio.sleep(3)
    for n in counts:
        while len(subs) < n:
            frames = [0]
            subs.append(frames)
            await (side.subscribe(frames) if isinstance(side, HubSide) else side.subscribe(frames, kind))
        await asyncio.sleep(3)
        before = [f[0] for f in subs]
        c0, t0 = side.cpu(), time.monotonic()
        await asyncio.sleep(seconds)
        elapsed = time.monotonic() - t0
        cpu = (side.cpu() - c0) / elapsed
        rate = min((f[0] - b) / elapsed for f, b in zip(subs, before)) if subs else 0.0
        out[n] = (cpu, rate)
        print(f"    ({type(side).__name__} {kind} N={n}: {cpu:.3f} CPU-s/s)", file=sys.stderr, flush=True)
    await side.close()
    return out


async def latency(hub: HubProcess, hearing: dict[str, Any], seconds: float) -> list[float]:
    side = HubSide(hub, hearing)
    source = BurstAudio()
    await side.publish(source)
    heard: list[float] = []

    def on_track(pid: str, kind: str, track: MediaStreamTrack) -> None:
        async def listen() -> None:
            loud = False
            try:
                while True:
                    frame = await track.recv()
                    level = float(np.abs(frame.to_ndarray().astype(np.int32)).mean())
                    if level > 1000 and not loud:
                        heard.append(time.monotonic())
                    loud = level > 1000
            except MediaStreamError:
                pass
        asyncio.ensure_future(listen())
    await side._connect(1, on_track=on_track)
    await asyncio.sleep(seconds)
    await side.close()
    delays = []
    for t in heard:  # pair each onset heard with the latest burst sent before it
        sent = [s for s in source.sent if s <= t]
        if sent and t - sent[-1] < 0.45:
            delays.append(t - sent[-1])
    return delays[2:]  # the first bursts meet a connection still settling


async def speech_to_final(hub: HubProcess, hearing: dict[str, Any]) -> list[float]:
    sys.path.insert(0, str(SHARED / "testing"))
    from aiortc.contrib.media import MediaPlayer
    from tonespeech import synthesize  # type: ignore[import-not-found]

    from tests.asr.support import write_wav
    script = ["原告 陈述 诉讼 请求", "被告 答辩 意见", "证据 质证 有 异议", "法庭 调查 辩论"] * 3
    lines = [(1.0 + 3.5 * k, 0, text) for k, text in enumerate(script)]
    pcm, manifest = synthesize(lines, rate=48_000, channels=1)
    ends, done = [], 0
    for _, _, text in lines:
        done += len(text.split())
        ends.append(manifest[done - 1]["end"])
    with tempfile.TemporaryDirectory() as tmp:
        wav = write_wav(Path(tmp) / "speech.wav", pcm, 48_000)
        player = MediaPlayer(str(wav))
        started: list[float] = []
        inner = player.audio

        class Timed(MediaStreamTrack):
            kind = "audio"

            async def recv(self) -> Any:
                frame = await inner.recv()
                if not started:
                    started.append(time.monotonic() - float(frame.pts * frame.time_base))
                return frame
        side = HubSide(hub, hearing)
        watcher = await Client.connect(hub.ws_url(hearing["hearing_id"], hearing["invites"][1]["token"]))
        arrivals: list[float] = []
        original = watcher.on_message

        def on_message(msg: dict[str, Any]) -> None:
            if msg["type"] == "event" and msg["event"]["kind"] == "segment.added":
                arrivals.append(time.monotonic())
            original(msg)
        watcher.on_message = on_message  # type: ignore[method-assign]
        await side.publish(Timed())
        await asyncio.sleep(lines[-1][0] + 4)
        await side.close()
        await watcher.close()
    return [a - (started[0] + e) for a, e in zip(arrivals, ends)]


def report(name: str, base: dict[int, tuple[float, float]], n: int) -> tuple[float, float]:
    cpu, rate = base[n]
    return (cpu - base[0][0]) / n, rate


def slope(base: dict[int, tuple[float, float]]) -> float:
    """CPU-s/s per subscriber as the least-squares slope over all N: less
    noisy than any one difference, since each window is measured once."""
    xs, ys = np.array(list(base)), np.array([c for c, _ in base.values()])
    return float(np.polyfit(xs, ys, 1)[0])


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=8.0)
    p.add_argument("--subscribers", default="1,2,4,8")
    args = p.parse_args()
    counts = [0] + [int(x) for x in args.subscribers.split(",")]
    people = [{"role": "plaintiff", "name": "发言人"}] + [{"role": "observer", "name": f"旁听{k}"} for k in range(max(counts) + 1)]
    with tempfile.TemporaryDirectory() as tmp:
        hub = HubProcess.with_speech(Path(tmp) / "data").start()
        try:
            print(f"media_forwarding: hub pid {hub.proc.pid}, {os.cpu_count()} cores, {args.seconds:.0f} s windows")
            for kind in ("audio", "video"):
                ours = await cost(HubSide(hub, hub.create_hearing(people)), kind, counts, args.seconds)
                relay = await cost(RelaySide(), kind, counts, args.seconds)
                label = "Opus audio" if kind == "audio" else "640×480 VP8 video, 30 fps"
                print(f"  {label}: CPU-s/s of the serving process (frames/s at the slowest subscriber)")
                print(f"    {'N':>2}  {'hub (forwarding)':>24}  {'MediaRelay':>24}  per subscriber: hub / MediaRelay")
                for n in counts:
                    line = f"    {n:>2}  {ours[n][0]:>10.3f} ({ours[n][1]:>5.1f} fps)     {relay[n][0]:>10.3f} ({relay[n][1]:>5.1f} fps)"
                    if n:
                        h, r = report("hub", ours, n)[0], report("relay", relay, n)[0]
                        line += f"     {h:.4f} / {r:.4f} ({r / h if h > 0 else float('inf'):.0f}×)"
                    print(line)
                h, r = slope(ours), slope(relay)
                print(f"    fitted over all N: hub {h:.4f}, MediaRelay {r:.4f} CPU-s/s per subscriber "
                      f"({r / h if h > 0 else float('inf'):.0f}×)")
            # The 8-party hearing on fresh hubs, the hub's loop and aiortc's
            # own (the baseline) in turn, twice: on the hub above, the
            # hearings already measured would be composing their minutes
            # of 庭审录像 beside it, on the same two cores.
            runs: dict[bool, list[tuple[float, float, int]]] = {False: [], True: []}
            for k in range(4):
                plain = bool(k % 2)
                fresh = HubProcess.with_speech(Path(tmp) / f"eight-{k}")
                if plain:
                    fresh.env = {**(fresh.env or os.environ), PLAIN_ENV: "1"}
                fresh.start()
                try:
                    runs[plain].append(await hearing_of(fresh, 8, args.seconds))
                finally:
                    fresh.stop()
            ours8, base8 = runs[False], runs[True]
            cpu, base_cpu = statistics.median(r[0] for r in ours8), statistics.median(r[0] for r in base8)
            print(f"  an 8-party hearing, everyone publishing Opus and 640×480 VP8 at 30 fps (pre-encoded) and "
                  f"receiving the other 7: hub {' / '.join(f'{r[0]:.2f}' for r in ours8)} CPU-s/s with recognition "
                  f"of all 8; {ours8[0][2]} video subscriptions, the slowest at "
                  f"{min(r[1] for r in ours8):.1f} fps")
            print(f"    the same with aiortc's own RTP sending loop, in turn with it: "
                  f"{' / '.join(f'{r[0]:.2f}' for r in base8)} CPU-s/s (the slowest of {base8[0][2]} video "
                  f"subscriptions at {min(r[1] for r in base8):.1f} fps); the hub's loop: "
                  f"{cpu / base_cpu:.2f}× of it (medians)")
            delays = await latency(hub, hub.create_hearing(people), 20)
            print(f"  mouth-to-ear through the hub (Opus, aiortc at both ends): p50 {percentile(delays, .5) * 1e3:.0f} ms, "
                  f"p99 {percentile(delays, .99) * 1e3:.0f} ms over {len(delays)} bursts")
            finals = await speech_to_final(hub, hub.create_hearing(people))
            plain = HubProcess.with_speech(Path(tmp) / "plain", ["--endpoints", "recognizer"]).start()
            try:
                baseline = await speech_to_final(plain, plain.create_hearing(people))
            finally:
                plain.stop()
            print(f"  speech end → final segment at another participant: p50 {percentile(finals, .5) * 1e3:.0f} ms, "
                  f"p99 {percentile(finals, .99) * 1e3:.0f} ms over {len(finals)} utterances, ending them where "
                  f"the pause is clear; at the recognizer's 500 ms endpoint silence (--endpoints recognizer): "
                  f"p50 {percentile(baseline, .5) * 1e3:.0f} ms, p99 {percentile(baseline, .99) * 1e3:.0f} ms "
                  f"(p99 ratio {percentile(finals, .99) / percentile(baseline, .99):.2f})")
        finally:
            hub.stop()


if __name__ == "__main__":
    asyncio.run(main())
