"""The courtroom's devices: what the agent costs per seat, how soon a seat's
words reach the other screens, what live crosstalk suppression adds, and
how soon the agent and a terminal are back after the hub.

    python -m tests.bench.courtroom_devices [--rounds 3]

* A real hub (tone stand-in for vosk) and ``courtroom room`` in its own
  process, reading an 8-channel interface through PortAudio (a private
  PulseAudio's null sink fed by ``pacat``: real time, the real ALSA path).
  Eight seats speak a script with every seat's words on the other seats'
  microphones at -12 dB. The agent's CPU is read from /proc over the
  script; the baseline in the same run is the same agent with one seat.
* Seat speech end → final: from each utterance's last word leaving
  ``pacat`` to its segment at the judge's websocket, p50/p99, 8 seats
  (crosstalk arbitrated) against 1 seat (nothing to arbitrate).
* Added latency of live crosstalk suppression: the asr arbiter fed each
  seat's live finals in the order and at the audio position they came;
  how long it held each before writing it (audio seconds), p50/p99/max.
* Back after the hub: ``kill -9`` of the hub, restart; seconds until the
  agent's seats and a terminal are connected again, per round.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from tests.bench.media_forwarding import cpu_seconds, percentile
from tests.support import ADMIN, SHARED, TONE_MODEL, TONE_VOSK, Client, HubProcess, PrivatePulse, run

ROOM = "第一法庭"
SEATED = [{"role": "judge", "name": "王法官"}, {"role": "clerk", "name": "赵书记员"},
          {"role": "plaintiff", "name": "张三"}, {"role": "agent", "name": "原告代理人"},
          {"role": "defendant", "name": "李四"}, {"role": "agent", "name": "被告代理人"},
          {"role": "witness", "name": "周证人"}, {"role": "prosecutor", "name": "孙检察官"}]
REMOTE = {"role": "witness", "name": "远程证人", "site": "remote"}
LINES = ["现在 开庭", "原告 陈述 诉讼 请求", "被告 答辩 意见", "证据 质证 有 异议", "借款 本金 利息 万元",
         "没有 异议", "法庭 调查 辩论", "同意 调解", "核对 当事人 身份", "请 陈述 事实 理由", "认可", "最后 意见"]


def script(seats: int, seconds: float = 30.0) -> list[tuple[float, int, str]]:
    """Seats taking turns, one utterance every 1.9 s."""
    out, t, i = [], 0.0, 0
    while t < seconds:
        out.append((t, i % seats, LINES[i % len(LINES)]))
        t += 1.9
        i += 1
    return out


def synthesize(lines: list[tuple[float, int, str]], channels: int) -> tuple[np.ndarray, list[dict[str, Any]]]:
    sys.path.insert(0, str(SHARED / "testing"))
    from tonespeech import synthesize as tones  # type: ignore[import-not-found]
    return tones(lines, rate=48_000, channels=channels, bleed_db=-12 if channels > 1 else None)


def utterance_ends(lines: list[tuple[float, int, str]], manifest: list[dict[str, Any]]) -> list[tuple[int, float]]:
    """(channel, end of its last word in the recording) per utterance, in order."""
    ends = []
    for start, ch, text in lines:
        n = len(text.split())
        words = [m for m in manifest if m["channel"] == ch and m["start"] >= start]
        ends.append((ch, words[n - 1]["end"]))
    return ends


def room_config(folder: Path, hub: HubProcess, credential: str, seats: int) -> Path:
    (folder / "credential").write_text(credential)
    text = f'hub = "{hub.url}"\ncredential_file = "credential"\n'
    text += "".join(f'[[seat]]\nchannel = {i + 1}\nrole = "{SEATED[i]["role"]}"\nname = "{SEATED[i]["name"]}"\n'
                    for i in range(seats))
    path = folder / "room.toml"
    path.write_text(text, encoding="utf-8")
    return path


class Courtroom:
    """A hub, a courtroom with ``seats`` seats, its agent, a judge's screen."""

    def __init__(self, folder: Path, pulse: PrivatePulse, seats: int, terminal: bool = False) -> None:
        self.folder, self.pulse, self.seats = folder, pulse, seats
        self.hub = HubProcess.with_speech(folder / "data").start()
        staff = {"Authorization": f"Bearer {ADMIN}"}
        device = httpx.post(self.hub.url + "/api/devices", headers=staff,
                            json={"courtroom": ROOM, "name": "主机"}).json()
        self.hearing = self.hub.create_hearing(SEATED[:seats] + [REMOTE], courtroom=ROOM)
        self.invites = self.hearing["invites"]
        self.seat_pids = [i["participant_id"] for i in self.invites[:seats]]
        self.agent = subprocess.Popen(
            [sys.executable, "-m", "courtroom.cli", "room", "--config",
             str(room_config(folder, self.hub, device["credential"], seats))],
            stdout=(folder / "agent.log").open("ab"), stderr=subprocess.STDOUT,
            env=pulse.env(source=f"room{8 if seats > 1 else 1}.monitor", sink="ceiling"))
        self.terminal = subprocess.Popen(
            [sys.executable, "-m", "courtroom.cli", "terminal", "--join-url", self.invites[-1]["join_url"]],
            stdout=(folder / "terminal.log").open("ab"), stderr=subprocess.STDOUT,
            env=pulse.env(source="mic.monitor", sink="speakers")) if terminal else None

    def ws(self, i: int = 0) -> str:
        return self.hub.ws_url(self.hearing["hearing_id"], self.invites[i]["token"])

    async def connected(self, judge: Client, pids: list[str], timeout: float, via: bool = True) -> float:
        t0 = time.monotonic()

        def ok() -> bool:
            presence = judge.of_type("presence")
            now = presence[-1]["participants"] if presence else {}
            return all(now.get(p, {}).get("media") == "connected" and now[p].get("audio")
                       and (bool(now[p].get("via")) or not via) for p in pids)
        await judge.wait_for(ok, timeout=timeout)
        return time.monotonic() - t0

    def stop(self) -> None:
        for proc in (self.agent, self.terminal):
            if proc is not None:
                proc.kill()
                proc.wait()
        self.hub.stop()


async def speak(room: Courtroom, seconds: float) -> dict[str, Any]:
    """Play the script into the seats; the agent's CPU over it and each
    utterance's end → final at the judge's screen."""
    lines = script(room.seats, seconds)
    pcm, manifest = synthesize(lines, room.seats if room.seats > 1 else 1)
    if room.seats > 1:
        pcm = np.pad(pcm, ((0, 0), (0, 8 - room.seats)))
    judge = await Client.connect(room.ws())
    await room.connected(judge, room.seat_pids, 30)
    await asyncio.sleep(2)
    arrivals: list[tuple[float, dict[str, Any]]] = []
    judge_on = judge.on_message

    def on_message(msg: dict[str, Any]) -> None:
        judge_on(msg)
        if msg["type"] == "event" and msg["event"]["kind"] == "segment.added":
            arrivals.append((time.time(), msg["event"]["segment"]))
    judge.on_message = on_message  # type: ignore[method-assign]
    cpu0 = cpu_seconds(room.agent.pid)
    started = time.time()
    # (pacat takes the samples at their pace: writing them blocks, off the loop)
    player = await asyncio.to_thread(room.pulse.play, f"room{8 if room.seats > 1 else 1}", pcm,
                                     8 if room.seats > 1 else 1, 20)
    length = len(pcm) / 48_000
    await asyncio.to_thread(player.wait, length + 10)
    cpu = (cpu_seconds(room.agent.pid) - cpu0) / (time.time() - started)
    await asyncio.sleep(3)
    await judge.close()
    delays, counts = [], {"utterances": len(lines), "segments": len(arrivals)}
    by_seat: dict[str, list[float]] = {}
    for at, segment in arrivals:
        by_seat.setdefault(segment["speaker"]["participant_id"], []).append(at)
    for seat, pid in enumerate(room.seat_pids):
        ends = [end for ch, end in utterance_ends(lines, manifest) if ch == seat]
        got = by_seat.get(pid, [])
        if len(got) != len(ends):
            counts.setdefault("mismatched_seats", []).append(seat + 1)
        delays += [at - (started + end) for at, end in zip(got, ends)]
    # Characters: the hub joins words its vocabulary spells as one (诉讼请求).
    written = sum(len(w["word"]) for _, s in arrivals for w in s.get("words", []))
    return {"cpu": cpu, "delays": delays, "words": written, "words_said": sum(len(m["word"]) for m in manifest),
            **counts}


def arbiter_hold(seconds: float = 60.0) -> list[float]:
    """How long the arbiter holds each live final (audio seconds)."""
    sys.path.insert(0, str(TONE_VOSK))
    from asr.crosstalk import HOP, LiveArbiter
    from asr.endpointing import Endpointer
    from asr.engine import VoskEngine
    from asr.stream import SpeakerStream
    from asr.words import Result

    lines = script(8, seconds)
    sys.path.insert(0, str(SHARED / "testing"))
    from tonespeech import synthesize as tones  # type: ignore[import-not-found]
    pcm, _ = tones(lines, rate=16_000, channels=8, bleed_db=-12)
    engine = VoskEngine(TONE_MODEL)
    finals: list[tuple[float, str, Result]] = []
    streams: list[SpeakerStream] = []
    for ch in range(8):
        def collect(r: Result, ch: int = ch) -> None:
            if r.final:
                finals.append((streams[ch].decoded_seconds, str(ch), r))
        streams.append(SpeakerStream(engine, str(ch), collect, endpointer=Endpointer()))
    for ch, stream in enumerate(streams):
        stream.feed(np.ascontiguousarray(pcm[:, ch]), 16_000)
    for stream in streams:
        stream.close()
    came: dict[tuple[str, float], float] = {}  # (channel, a word's start) → when its final came
    held: list[float] = []
    now = [0.0]
    arbiter = LiveArbiter(lambda ch, r: held.append(now[0] - came[(ch, r.words[0].start)]))
    hop = int(16_000 * HOP)
    for ch in range(8):
        x = pcm[: len(pcm) // hop * hop, ch].astype(np.float64).reshape(-1, hop)
        arbiter.levels(str(ch), 0.0, (x ** 2).mean(axis=1))
    for at, ch, result in sorted(finals, key=lambda f: f[0]):
        for t in np.arange(now[0], at, 0.1):  # the hub ticks every 0.1 s
            now[0] = float(t)
            arbiter.tick(now[0])
        now[0] = at
        came.update({(ch, w.start): at for w in result.words})
        arbiter.final(ch, result)
    end = now[0] + 5
    while now[0] < end:
        now[0] += 0.1
        arbiter.tick(now[0])
    return held


async def restarts(room: Courtroom, rounds: int) -> list[tuple[float, float]]:
    back = []
    terminal_pid = room.invites[-1]["participant_id"]
    judge = await Client.connect(room.ws())
    await room.connected(judge, room.seat_pids, 30)
    await room.connected(judge, [terminal_pid], 30, via=False)
    await judge.close()
    for _ in range(rounds):
        room.hub.kill()
        await asyncio.sleep(2)
        await asyncio.to_thread(room.hub.start)
        t0 = time.monotonic()
        judge = await Client.connect(room.ws())
        seats = asyncio.create_task(room.connected(judge, room.seat_pids, 30))
        terminal = asyncio.create_task(room.connected(judge, [terminal_pid], 30, via=False))
        await asyncio.gather(seats, terminal)
        back.append((t0, time.monotonic()))
        await judge.close()
        await asyncio.sleep(1)
    return back


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=30.0, help="length of the seat script")
    p.add_argument("--rounds", type=int, default=3, help="hub restarts")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pulse = PrivatePulse(folder / "pulse").start({"room8": 8, "room1": 1, "ceiling": 2, "mic": 1, "speakers": 2})
        try:
            results = {}
            for seats in (1, 8):
                (folder / str(seats)).mkdir()
                room = Courtroom(folder / str(seats), pulse, seats, terminal=seats == 8)
                try:
                    results[seats] = await speak(room, args.seconds)
                    if seats == 8:
                        back = await restarts(room, args.rounds)
                finally:
                    room.stop()
            held = await asyncio.to_thread(arbiter_hold, 60.0)
        finally:
            pulse.stop()
    one, eight = results[1], results[8]
    print(f"courtroom_devices: {os.cpu_count()} cores, a {args.seconds:.0f} s seat script, bleed -12 dB")
    print(f"  agent CPU: 8 seats {eight['cpu']:.3f} CPU-s/s ({eight['cpu'] / 8:.4f} per seat); "
          f"1 seat {one['cpu']:.3f}; each seat beyond the first {(eight['cpu'] - one['cpu']) / 7:.4f} "
          f"(8 seats / 1 seat: {eight['cpu'] / one['cpu']:.1f}×)")
    for label, r in (("8 seats", eight), ("1 seat", one)):
        print(f"  seat speech end → final at the judge's screen, {label}: p50 {percentile(r['delays'], .5) * 1e3:.0f} ms, "
              f"p99 {percentile(r['delays'], .99) * 1e3:.0f} ms over {len(r['delays'])} utterances "
              f"({r['segments']} segments for {r['utterances']} utterances; {r['words']} characters written for "
              f"{r['words_said']} said{'; seats off: ' + str(r['mismatched_seats']) if 'mismatched_seats' in r else ''})")
    print(f"  ratio 8 seats / 1 seat: p50 {percentile(eight['delays'], .5) / percentile(one['delays'], .5):.2f}, "
          f"p99 {percentile(eight['delays'], .99) / percentile(one['delays'], .99):.2f}")
    print(f"  crosstalk arbiter hold per final (8 seats, 60 s, live order): p50 {percentile(held, .5) * 1e3:.0f} ms, "
          f"p99 {percentile(held, .99) * 1e3:.0f} ms, max {max(held) * 1e3:.0f} ms over {len(held)} finals")
    print("  back in the hearing after kill -9 of the hub and a restart (s): "
          + ", ".join(f"{b - a:.1f}" for a, b in back) + f" (agent's 8 seats and a terminal, {args.rounds} rounds)")
    print(json.dumps({"cpu": {k: v["cpu"] for k, v in results.items()}, "held_max": max(held)}))


if __name__ == "__main__":
    run(main())
