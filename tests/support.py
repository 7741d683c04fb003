"""Shared by tests and benchmarks: a real hub process and a websocket client."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Awaitable, Callable

import httpx
import websockets

ADMIN = "test-admin-token"
PARTIES = [{"role": "judge", "name": "王法官"}, {"role": "clerk", "name": "李书记员"},
           {"role": "plaintiff", "name": "张三"}, {"role": "defendant", "name": "李四", "site": "remote"},
           {"role": "observer", "name": "旁听者"}]


#: For load tests and benchmarks, which send as fast as the hub commits: no
#: per-participant rate limit or annotation quota.
UNLIMITED = ["--rate-limit", "0", "--quota", "annotations=0", "--quota", "annotation_bytes=0"]


def end_process(proc: subprocess.Popen[bytes] | None, sig: int = signal.SIGTERM, wait: float = 10) -> None:
    """Stop a server the tests started: ``sig``, then SIGKILL if it lingers."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(wait)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def cpu_seconds(pid: int) -> float:
    """CPU time a process has used so far (user + system), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine so far, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def _processes() -> dict[int, tuple[int, int]]:
    """Every live process on the machine: its parent and its niceness."""
    table: dict[int, tuple[int, int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if stat[0] != "Z":
                table[int(entry.name)] = (int(stat[1]), int(stat[16]))
    return table


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SHARED = Path(__file__).resolve().parents[2] / "shared"
TONE_VOSK = SHARED / "testing" / "tone_vosk"
TONE_MODEL = SHARED / "testing" / "tone-model"


def media_address() -> str:
    """An address of this machine for WebRTC: aioice skips 127.0.0.1 unless
    named, so take the first other IPv4 address, else name loopback."""
    import ifaddr
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if isinstance(ip.ip, str) and not ip.ip.startswith("127."):
                return ip.ip
    return "127.0.0.1"


class HubProcess:
    """``courtroom serve`` as a child process on a free port."""

    def __init__(self, data: Path, port: int | None = None, args: list[str] | None = None,
                 env: dict[str, str] | None = None, open_files: int | None = None) -> None:
        self.data = data
        self.port = port or free_port()
        self.args = args or []
        self.env = env
        #: The hub's open-file limit, soft and hard (None: this process's).
        self.open_files = open_files
        self.proc: subprocess.Popen[bytes] | None = None

    @classmethod
    def with_speech(cls, data: Path, extra: list[str] | None = None) -> HubProcess:
        """A hub whose recognizer is the tone-language stand-in for vosk, with
        media on this machine's address (and ``extra`` options)."""
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TONE_VOSK), os.environ.get("PYTHONPATH", "")]))
        return cls(data, args=["--model", str(TONE_MODEL), "--network", f"test={media_address()}", *(extra or [])],
                   env=env)

    @property
    def key(self) -> Path:
        """This hub's signing key: beside its data directory, never inside."""
        return self.data.parent / f"{self.data.name}-signing-key.pem"

    def verify(self, hearing_id: str, *extra: str) -> subprocess.CompletedProcess[str]:
        """``courtroom verify`` of a hearing in this hub's data directory."""
        return subprocess.run([sys.executable, "-m", "courtroom.cli", "verify", "--data", str(self.data),
                               "--key", str(self.key), *extra, hearing_id], capture_output=True, text=True,
                              timeout=120)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ws_url(self, hearing_id: str, token: str) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/hearings/{hearing_id}?token={token}"

    def start(self) -> HubProcess:
        self.log = open(self.data.parent / f"hub-{self.port}.log", "ab")
        # One process unless a test chooses (the default, one per core, costs
        # the suite 8 minutes of CI's 30); COURTROOM_TEST_WORKERS=N runs every
        # hub of the suite as N workers behind a front (all pass with 2).
        workers = os.environ.get("COURTROOM_TEST_WORKERS", "1")
        extra = ["--workers", workers] if "--workers" not in self.args and "--redis" not in self.args else []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "courtroom.cli", "serve", "--port", str(self.port), "--data",
             str(self.data), "--admin-token", ADMIN, "--log-level", "warning", *extra, *self.args],
            stdout=self.log, stderr=subprocess.STDOUT, preexec_fn=self._limits,
            env={**(self.env or os.environ), "COURTROOM_SIGNING_KEY": str(self.key)})
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"hub exited with {self.proc.returncode}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("hub did not start")

    def _limits(self) -> None:
        if self.open_files is not None:
            import resource
            resource.setrlimit(resource.RLIMIT_NOFILE, (self.open_files, self.open_files))

    def pids(self) -> list[int]:
        """The hub's processes: the one started and, with several workers,
        its children (a hub's memory and CPU are theirs together)."""
        return self._pids(_processes())

    def _pids(self, table: dict[int, tuple[int, int]]) -> list[int]:
        assert self.proc is not None
        return [self.proc.pid] + [pid for pid, (parent, _) in table.items() if parent == self.proc.pid]

    def proc_total(self, field: str) -> int:
        """A /proc/PID/status field in kB (VmRSS, …), summed over ``pids()``."""
        total = 0
        for pid in self.pids():
            status = Path(f"/proc/{pid}/status").read_text()
            total += int(next(line.split()[1] for line in status.splitlines() if line.startswith(field + ":")))
        return total

    def cpu_seconds(self) -> float:
        """CPU time used so far by the hub's serving processes: ``pids()``
        less the composing processes a hub starts niced beside itself (the
        庭审录像 made minute by minute during a hearing, a live stream's
        composer), whose cost ``composing_cpu_seconds`` gives apart."""
        assert self.proc is not None
        table = _processes()
        own = table.get(self.proc.pid, (0, 0))[1]
        return sum(cpu_seconds(pid) for pid in self._pids(table) if table.get(pid, (0, own))[1] == own)

    def composing_cpu_seconds(self) -> float:
        """CPU time used so far by the niced processes the hub started, at
        any depth (under ``--workers`` they are the workers' children)."""
        assert self.proc is not None
        table = _processes()
        own = table.get(self.proc.pid, (0, 0))[1]
        found = 0.0
        for pid in self._descendants(table):
            if table[pid][1] > own:
                try:
                    found += cpu_seconds(pid)
                except OSError:  # ended meanwhile
                    pass
        return found

    def descendants(self) -> list[int]:
        """Every live process the hub started, at any depth."""
        return self._descendants(_processes())

    def _descendants(self, table: dict[int, tuple[int, int]]) -> list[int]:
        assert self.proc is not None
        below, found = [self.proc.pid], []
        while below:
            parent = below.pop()
            children = [pid for pid, (ppid, _) in table.items() if ppid == parent]
            below += children
            found += children
        return found

    def kill(self) -> None:
        assert self.proc
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()

    def create_hearing(self, participants: list[dict[str, str]] | None = None, **extra: Any) -> dict[str, Any]:
        r = httpx.post(self.url + "/api/hearings", headers={"Authorization": f"Bearer {ADMIN}"},
                       json={"case_number": "(2026)京0105民初1号", "title": "买卖合同纠纷",
                             "court": "北京市朝阳区人民法院", "participants": participants or PARTIES, **extra})
        r.raise_for_status()
        return r.json()

    def transcript(self, hearing_id: str, token: str) -> dict[str, Any]:
        r = httpx.get(f"{self.url}/api/hearings/{hearing_id}/transcript",
                      headers={"Authorization": f"Bearer {token}"})
        r.raise_for_status()
        return r.json()


class Client:
    """A hearing websocket client that sorts messages by type."""

    def __init__(self, ws: websockets.ClientConnection) -> None:
        self.ws = ws
        self.welcome: dict[str, Any] = {}
        self.events: list[dict[str, Any]] = []
        self.answers: dict[str, dict[str, Any]] = {}
        self.others: list[dict[str, Any]] = []
        self.seq = 0
        self._changed = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None
        self._n = 0
        self.terminal: Any = None  # a devices.terminal.Terminal that gets the rtc.* messages

    @classmethod
    async def connect(cls, url: str, sync: bool = True, since: int = 0) -> Client:
        c = cls(await websockets.connect(url, max_size=8 * 2**20, compression=None, open_timeout=10))
        try:
            # A hub that took the connection owes a welcome (or an error) at
            # once; one that never sends it fails the test, not hangs it.
            c.welcome = json.loads(await asyncio.wait_for(c.ws.recv(), 15))
        except BaseException:
            c.ws.transport.abort()
            raise
        c._reader = asyncio.create_task(c._read())
        if sync:
            c.seq = since
            await c.sync(since)
        return c

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                self.on_message(json.loads(raw))
                self._changed.set()
        except websockets.ConnectionClosed:
            pass
        self._changed.set()

    def on_message(self, msg: dict[str, Any]) -> None:
        t = msg["type"]
        if t == "events":  # a batched catch-up
            for event in msg["events"]:
                self.on_message(event)
        elif t == "snapshot":  # the state at seq; the events after it follow
            self.seq = msg["seq"]
            self.others.append(msg)
        elif t == "event":
            assert msg["seq"] == self.seq + 1, f"gap or duplicate: {msg['seq']} after {self.seq}"
            self.seq = msg["seq"]
            self.events.append(msg)
        elif t in ("ack", "nack"):
            self.answers[msg["op_id"]] = msg
        else:
            self.others.append(msg)
            if t.startswith("rtc.") and self.terminal is not None:
                asyncio.ensure_future(self.terminal.handle(msg))

    async def send_json(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.others if m["type"] == kind]

    async def wait_for(self, predicate: Any, timeout: float = 10) -> None:
        async def loop() -> None:
            while not predicate():
                self._changed.clear()
                if self.ws.state.name == "CLOSED" and self._reader and self._reader.done():
                    raise ConnectionError("socket closed")
                await self._changed.wait()
        await asyncio.wait_for(loop(), timeout)

    async def sync(self, since: int = 0) -> None:
        n = len([m for m in self.others if m["type"] == "synced"])
        await self.ws.send(json.dumps({"type": "sync", "since": since}))
        await self.wait_for(lambda: len([m for m in self.others if m["type"] == "synced"]) > n)

    async def send_op(self, op: dict[str, Any], op_id: str | None = None) -> str:
        if op_id is None:
            self._n += 1
            op_id = f"{id(self)}-{self._n}"
        await self.ws.send(json.dumps({"type": "op", "op_id": op_id, "op": op}))
        return op_id

    async def answer(self, op: dict[str, Any], op_id: str | None = None,
                     timeout: float = 10) -> dict[str, Any]:
        """Send an op and wait for its ack or nack."""
        self.answers.pop(op_id or "", None)
        op_id = await self.send_op(op, op_id)
        await self.wait_for(lambda: op_id in self.answers, timeout)
        return self.answers[op_id]

    async def op(self, op: dict[str, Any], op_id: str | None = None, timeout: float = 10) -> dict[str, Any]:
        """Send an op and wait for its answer (and, for an ack, its event)."""
        answer = await self.answer(op, op_id, timeout)
        if answer["type"] == "ack":
            await self.wait_for(lambda: self.seq >= answer["seq"], timeout)
        return answer

    async def close(self) -> None:
        await self.ws.close()
        if self._reader:
            await self._reader


async def back_after_restart(hub: HubProcess, url: str, connected: Callable[[Client], Awaitable[Any]],
                             most: float = 10.0) -> Client:
    """``kill -9`` of the hub and a restart; a screen at ``url`` then waits
    until ``connected`` (a device or terminal back in the hearing), which
    must take at most ``most`` seconds from the restart. The screen is
    returned, open."""
    hub.kill()
    await asyncio.sleep(2)
    await asyncio.to_thread(hub.start)
    back = time.monotonic()
    screen = await Client.connect(url)
    await connected(screen)
    took = time.monotonic() - back
    assert took <= most, f"back in the hearing {took:.1f} s after the hub"
    return screen


def run(coro: Any) -> Any:
    """Run a test's coroutine on a fresh event loop."""
    return asyncio.run(coro)


def invites_by_role(hearing: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["role"]: i for i in hearing["invites"]}


def env_flag(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0", "false")


#: ALSA's channel order, which PortAudio's ALSA path (the pulse plugin)
#: asks PulseAudio for. Sinks and players use the same map, so that seat i
#: stays channel i (with PulseAudio's own default map it remixes them).
ALSA_CHANNEL_MAPS = {
    1: "mono", 2: "front-left,front-right", 4: "front-left,front-right,rear-left,rear-right",
    6: "front-left,front-right,rear-left,rear-right,front-center,lfe",
    8: "front-left,front-right,rear-left,rear-right,front-center,lfe,side-left,side-right"}


class PrivatePulse:
    """A PulseAudio server of the test's own (its socket in a temporary
    folder; nothing of the machine's sound is touched), with null sinks that
    stand in for hardware: play into a sink with ``play`` and PortAudio
    programs given ``env(source=SINK + ".monitor")`` hear it as their
    microphone in real time; what they play into a sink can be read back
    from its monitor with ``record``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.socket = folder / "native"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, sinks: dict[str, int]) -> PrivatePulse:
        import shutil
        for tool in ("pulseaudio", "pacat", "pactl"):
            if shutil.which(tool) is None:
                raise FileNotFoundError(f"{tool} is missing (apt-get install pulseaudio pulseaudio-utils "
                                        "libportaudio2 libasound2-plugins)")
        self.folder.mkdir(parents=True, exist_ok=True)
        modules = [f"module-native-protocol-unix socket={self.socket} auth-anonymous=1"]
        modules += [f"module-null-sink sink_name={name} channels={channels} rate=48000 "
                    f"channel_map={ALSA_CHANNEL_MAPS[channels]}" for name, channels in sinks.items()]
        args = ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no",
                "--disable-shm=yes", "--log-target=stderr"]
        for module in modules:
            args += ["-L", module]
        self.log = open(self.folder / "pulse.log", "ab")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT,
                                     env={**os.environ, "HOME": str(self.folder), "XDG_RUNTIME_DIR": str(self.folder)})
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if subprocess.run(["pactl", "list", "short", "sinks"], env=self.env(), capture_output=True).returncode == 0:
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"PulseAudio did not start: {(self.folder / 'pulse.log').read_text()[-500:]}")

    def unplug(self, sink: str) -> None:
        """The sink (and its monitor) disappears, as a USB device pulled out."""
        modules = subprocess.run(["pactl", "list", "short", "modules"], env=self.env(), capture_output=True,
                                 text=True, check=True).stdout
        module = next(line.split()[0] for line in modules.splitlines() if f"sink_name={sink} " in line + " ")
        subprocess.run(["pactl", "unload-module", module], env=self.env(), check=True)

    def plug(self, sink: str, channels: int) -> None:
        """The sink is back (the device plugged in again)."""
        subprocess.run(["pactl", "load-module", "module-null-sink", f"sink_name={sink}", f"channels={channels}",
                        "rate=48000", f"channel_map={ALSA_CHANNEL_MAPS[channels]}"], env=self.env(), check=True,
                       capture_output=True)

    def env(self, source: str | None = None, sink: str | None = None) -> dict[str, str]:
        """The environment a PortAudio program uses these devices through."""
        env = {**os.environ, "PULSE_SERVER": f"unix:{self.socket}", "HOME": str(self.folder),
               "XDG_RUNTIME_DIR": str(self.folder)}
        if source:
            env["PULSE_SOURCE"] = source
        if sink:
            env["PULSE_SINK"] = sink
        return env

    def play(self, sink: str, pcm: Any, channels: int = 1, latency_ms: int | None = None) -> subprocess.Popen[bytes]:
        """Play int16 samples (48 kHz) into ``sink`` in real time
        (``latency_ms``: pacat's buffer, for timing measurements)."""
        latency = [f"--latency-msec={latency_ms}"] if latency_ms is not None else []
        proc = subprocess.Popen(["pacat", f"--device={sink}", "--rate=48000", f"--channels={channels}",
                                 f"--channel-map={ALSA_CHANNEL_MAPS[channels]}", "--format=s16le", "--raw",
                                 *latency], stdin=subprocess.PIPE, env=self.env())
        assert proc.stdin is not None
        proc.stdin.write(pcm.astype("<i2").tobytes())
        proc.stdin.close()
        return proc

    def record(self, source: str, seconds: float, channels: int = 2) -> Any:
        """``seconds`` of what ``source`` (a sink's monitor) carries, as int16
        samples shaped (n, channels)."""
        import numpy as np
        proc = subprocess.Popen(["parec", f"--device={source}", "--rate=48000", f"--channels={channels}",
                                 f"--channel-map={ALSA_CHANNEL_MAPS[channels]}", "--format=s16le", "--raw"],
                                stdout=subprocess.PIPE, env=self.env())
        time.sleep(seconds)
        proc.terminate()
        data, _ = proc.communicate(timeout=5)
        usable = len(data) // (2 * channels) * (2 * channels)
        return np.frombuffer(data[:usable], dtype="<i2").reshape(-1, channels)

    def stop(self) -> None:
        end_process(self.proc, wait=5)
        if hasattr(self, "log"):
            self.log.close()
