"""The public live stream through the hub (courtroom/live_api.py): two
participants publish through the media hub, the judge switches the stream
on with a 10 s delay, the public fetches it with no token, nothing in it
is less than the delay behind the courtroom, and 暂停直播 takes it down at
once. Only the judge may switch it; a hearing not open to the public never
streams."""

from __future__ import annotations

import asyncio
import datetime
import io
import time
from pathlib import Path
from typing import Callable

import av
import httpx
from aiortc import VideoStreamTrack
from aiortc.contrib.media import MediaPlayer

from courtroom.workers.route import home_of
from tests.media.test_media_hub import joined, speech_wav
from tests.support import Client, HubProcess, invites_by_role, run

PEOPLE = [{"role": "judge", "name": "王法官"}, {"role": "clerk", "name": "赵书记"},
          {"role": "plaintiff", "name": "张三"}, {"role": "observer", "name": "旁听人"}]
DELAY = 10


def listed(text: str) -> list[tuple[str, float, float]]:
    """(segment, when its first picture was taken, its duration) as listed."""
    out, taken, duration = [], 0.0, 0.0
    for line in text.splitlines():
        if line.startswith("#EXT-X-PROGRAM-DATE-TIME:"):
            taken = datetime.datetime.fromisoformat(line.split(":", 1)[1].replace("Z", "+00:00")).timestamp()
        elif line.startswith("#EXTINF:"):
            duration = float(line[8:].rstrip(","))
        elif line and not line.startswith("#"):
            out.append((line, taken, duration))
    return out


def test_the_judge_streams_the_hearing_to_the_public_behind_its_delay(speech_hub: HubProcess,
                                                                      tmp_path: Path) -> None:
    hub = speech_hub
    wav = speech_wav(tmp_path, "现在 开庭 。 原告 陈述 诉讼 请求 。 被告 答辩 意见")
    h = hub.create_hearing(PEOPLE)
    hid, inv = h["hearing_id"], invites_by_role(h)
    live = f"{hub.url}/live/{hid}"
    assert httpx.get(live).status_code == 404
    assert httpx.get(live + "/index.m3u8").status_code == 404

    async def main() -> None:
        judge, jt = await joined(hub, h, "judge", video=VideoStreamTrack())
        party, pt = await joined(hub, h, "plaintiff", audio=MediaPlayer(wav, loop=True).audio,
                                 video=VideoStreamTrack())
        for role in ("clerk", "observer", "plaintiff"):
            other = party if role == "plaintiff" else await Client.connect(hub.ws_url(hid, inv[role]["token"]))
            answer = await other.op({"kind": "stream.start"})
            assert answer["type"] == "nack" and answer["error"]["code"] == "forbidden", answer
        started = await judge.op({"kind": "stream.start", "delay_s": DELAY})
        assert started["type"] == "ack"
        on_at = time.time()
        page = httpx.get(live)
        assert page.status_code == 200 and "hls.light.min.js" in page.text
        assert httpx.get(live + "/stream.json").json()["delay_s"] == DELAY
        first_seen: dict[str, float] = {}
        playlists: list[str] = []
        while len(first_seen) < 3:
            assert time.time() - on_at < DELAY + 30, "no segments"
            r = httpx.get(live + "/index.m3u8")
            assert r.status_code == 200 and r.headers["content-type"] == "application/vnd.apple.mpegurl"
            playlists.append(r.text)
            for name, taken, duration in listed(r.text):
                if name not in first_seen:
                    first_seen[name] = time.time()
                    # Nothing in the stream is less than the delay behind the courtroom.
                    assert first_seen[name] - (taken + duration) >= DELAY - 0.05, (name, first_seen[name], taken)
            await asyncio.sleep(0.2)
        # Segments are plain files: H.264 and AAC, pictures moving, sound.
        name = sorted(first_seen)[-1]
        body = httpx.get(f"{live}/{name}")
        assert body.status_code == 200 and body.headers["content-type"] == "video/mp2t"
        with av.open(io.BytesIO(body.content)) as c:
            assert sorted(s.codec_context.name for s in c.streams) == ["aac", "h264"]
            assert sum(1 for _ in c.decode(video=0)) == 50
        # 暂停直播: the playlist and every segment are gone at once.
        stopped = await judge.op({"kind": "stream.stop"})
        assert stopped["type"] == "ack"
        assert httpx.get(live + "/index.m3u8").status_code == 404
        assert httpx.get(f"{live}/{name}").status_code == 404
        assert httpx.get(live).status_code == 404
        await asyncio.sleep(3)  # a segment's time: nothing comes back
        assert httpx.get(live + "/index.m3u8").status_code == 404
        assert not list((hub.data / "live").glob(f"{hid}/*"))
        for client, terminal in ((party, pt), (judge, jt)):
            await terminal.close()
            await client.close()
    run(main())


def test_a_hearing_not_open_to_the_public_is_never_streamed(speech_hub: HubProcess) -> None:
    hub = speech_hub
    h = hub.create_hearing(PEOPLE, public=False)

    async def main() -> None:
        judge = await Client.connect(hub.ws_url(h["hearing_id"], invites_by_role(h)["judge"]["token"]))
        answer = await judge.op({"kind": "stream.start"})
        assert answer["type"] == "nack" and answer["error"]["code"] == "conflict"
        await judge.close()
    run(main())
    assert httpx.get(f"{hub.url}/live/{h['hearing_id']}").status_code == 404


def alive(pid: int) -> bool:
    """Running (not gone, not a zombie waiting to be reaped)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def composers(hub: HubProcess) -> list[int]:
    """The hub's live-stream composer processes (under ``--workers``, the
    workers' children)."""
    found = []
    for pid in hub.descendants():
        try:
            if b"courtroom.live.composer" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
        except OSError:  # ended meanwhile
            pass
    return found


def test_a_stream_stops_with_its_hub_and_goes_on_when_it_starts_again(hub: HubProcess) -> None:
    """Killed (-9) or stopped, the hub leaves no composer running; started
    again, it loads the hearing by itself and the stream goes on."""
    stops_and_goes_on(hub)


def test_under_workers_a_stream_goes_on_when_its_hub_starts_again(tmp_path: Path) -> None:
    """The same with two workers behind the front: started again, the
    worker the front sends the hearing to while nobody holds it (its home)
    takes the stream up by itself, before any screen asks."""
    hub = HubProcess(tmp_path / "data", args=["--workers", "2"]).start()
    try:
        stops_and_goes_on(hub, home=lambda hid: home_of(hid, 2))
    finally:
        hub.stop()


def worker_of(pid: int) -> int | None:
    """The ``--worker`` index of the process that started ``pid``, if any."""
    parent = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]
    args = Path(f"/proc/{parent}/cmdline").read_bytes().decode().split("\0")
    return int(args[args.index("--worker") + 1].split(":")[0]) if "--worker" in args else None


def stops_and_goes_on(hub: HubProcess, home: Callable[[str], int] | None = None) -> None:
    """Start a stream, kill the hub, start it again: the stream goes on by
    itself (on worker ``home(hearing)`` if given); stop the hub, start it:
    the same."""
    h = hub.create_hearing(PEOPLE)
    hid, token = h["hearing_id"], invites_by_role(h)["judge"]["token"]

    async def judge_says(op: dict[str, object]) -> None:
        judge = await Client.connect(hub.ws_url(hid, token))
        assert (await judge.op(op))["type"] == "ack"
        await judge.close()
    def goes_on() -> None:
        hub.start()
        deadline = time.monotonic() + 10
        while len(composers(hub)) != 1:  # nobody asked: the hub went on by itself
            assert time.monotonic() < deadline, "the stream did not go on"
            time.sleep(0.1)
        if home is not None:
            assert worker_of(composers(hub)[0]) == home(hid)
        assert httpx.get(f"{hub.url}/live/{hid}/index.m3u8").status_code == 200

    run(judge_says({"kind": "stream.start", "delay_s": DELAY}))
    (composer,) = composers(hub)
    hub.kill()
    deadline = time.monotonic() + 5
    while alive(composer):
        assert time.monotonic() < deadline, "the composer outlived its hub"
        time.sleep(0.1)
    goes_on()
    (composer,) = composers(hub)
    hub.stop()
    assert not alive(composer)
    goes_on()
    run(judge_says({"kind": "stream.stop"}))
    assert composers(hub) == [] and httpx.get(f"{hub.url}/live/{hid}/index.m3u8").status_code == 404
