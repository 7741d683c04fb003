"""The media hub against a real ``courtroom serve`` with the tone-language
recognizer, joined by aiortc terminals (devices.terminal) as a detention
centre's terminal would join."""

from __future__ import annotations

import asyncio
import io
import os
import time
from pathlib import Path
from typing import Any, Iterator

import av
import httpx
import pytest
from aiortc import MediaStreamTrack, VideoStreamTrack
from aiortc.contrib.media import MediaPlayer

from devices.terminal import Terminal
from tests.support import SHARED, Client, HubProcess, invites_by_role, run

PEOPLE = [{"role": "judge", "name": "王法官"}, {"role": "plaintiff", "name": "张三"},
          {"role": "defendant", "name": "李四", "site": "detention"}]


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubProcess]:
    proc = HubProcess.with_speech(tmp_path / "data").start()
    yield proc
    proc.stop()


def speech_wav(tmp_path: Path, text: str, name: str = "speech.wav") -> str:
    import sys
    sys.path.insert(0, str(SHARED / "testing"))
    from tonespeech import synthesize  # type: ignore[import-not-found]

    from tests.asr.support import write_wav
    lines, at = [], 0.5
    for utterance in text.split("。"):
        if utterance.strip():
            lines.append((at, 0, utterance.strip()))
            at += 0.45 * len(utterance.split()) + 1.5
    pcm, _ = synthesize(lines, rate=48_000, channels=1)
    return str(write_wav(tmp_path / name, pcm, 48_000))


class Counter:
    """Counts frames received per (participant, kind)."""

    def __init__(self) -> None:
        self.frames: dict[tuple[str, str], int] = {}

    def __call__(self, pid: str, kind: str, track: MediaStreamTrack) -> None:
        self.frames[(pid, kind)] = 0

        async def pump() -> None:
            try:
                while True:
                    await track.recv()
                    self.frames[(pid, kind)] += 1
            except Exception:
                pass
        asyncio.ensure_future(pump())


async def joined(hub: HubProcess, h: dict[str, Any], role: str, **media: Any) -> tuple[Client, Terminal]:
    inv = invites_by_role(h)[role]
    client = await Client.connect(hub.ws_url(h["hearing_id"], inv["token"]))
    terminal = Terminal(client.send_json, **media)
    client.terminal = terminal
    await terminal.join()
    return client, terminal


async def hang_up(*pairs: tuple[Client, Terminal]) -> None:
    for client, terminal in pairs:
        await terminal.close()
        await client.close()


def codecs_arriving(terminal: Terminal, track: MediaStreamTrack, arrived: set[str]) -> None:
    """Note which codec each RTP packet of ``track`` arrives in."""
    assert terminal.pc is not None
    receiver = next(t.receiver for t in terminal.pc.getTransceivers() if t.receiver.track is track)
    handle, codecs = receiver._handle_rtp_packet, receiver._RTCRtpReceiver__codecs

    async def seen(packet: Any, arrival_time_ms: int) -> None:
        arrived.add(codecs[packet.payload_type].mimeType if packet.payload_type in codecs else "?")
        await handle(packet, arrival_time_ms)
    receiver._handle_rtp_packet = seen


def segments_of(client: Client) -> list[dict[str, Any]]:
    return [e["event"]["segment"] for e in client.events if e["event"]["kind"] == "segment.added"]


def test_speech_is_forwarded_and_transcribed_under_the_speakers_name(hub: HubProcess, tmp_path: Path) -> None:
    wav = speech_wav(tmp_path, "现在 开庭 。 原告 陈述 诉讼 请求")

    async def main() -> None:
        h = hub.create_hearing(PEOPLE)
        frames = Counter()
        judge, jt = await joined(hub, h, "judge", on_track=frames)
        party, pt = await joined(hub, h, "plaintiff", audio=MediaPlayer(wav).audio, video=VideoStreamTrack())
        pid = invites_by_role(h)["plaintiff"]["participant_id"]
        await judge.wait_for(lambda: len(segments_of(judge)) >= 2, timeout=20)
        partials = [m["text"] for m in judge.of_type("partial") if m["participant_id"] == pid]
        assert "现在" in partials[0] or "现在开庭" in partials
        segs = segments_of(judge)
        assert [s["text"] for s in segs] == ["现在开庭。", "原告陈述诉讼请求。"]
        assert all(s["speaker"]["name"] == "张三" and s["speaker"]["participant_id"] == pid for s in segs)
        assert [w["word"] for w in segs[0]["words"]] == ["现在", "开庭"] and segs[0]["words"][0]["conf"] == 1.0
        assert 0 < segs[0]["start"] < segs[0]["end"] < segs[1]["start"]
        # The speech is in the log under the speaker: the REST view agrees.
        assert [s["text"] for s in hub.transcript(h["hearing_id"], invites_by_role(h)["judge"]["token"])["segments"]] \
            == ["现在开庭。", "原告陈述诉讼请求。"]
        assert frames.frames[(pid, "audio")] > 100 and frames.frames[(pid, "video")] > 30
        await pt.close()
        await party.close()
        await asyncio.sleep(1)  # the hub closes the party's recordings
        # Click-to-play: the segment's audio, cut from the recording by its times.
        seg = segs[1]
        r = httpx.get(f"{hub.url}/api/hearings/{h['hearing_id']}/recording",
                      params={"participant_id": pid, "start": seg["start"], "end": seg["end"],
                              "token": invites_by_role(h)["judge"]["token"]})
        assert r.status_code == 200 and r.headers["content-type"] == "audio/ogg"
        with av.open(io.BytesIO(r.content)) as c:
            samples = sum(f.samples for f in c.decode(c.streams.audio[0]))
        assert samples / 48_000 == pytest.approx(seg["end"] - seg["start"], abs=0.1)
        kinds = sorted(p.name.split("-")[2] for p in (hub.data / "recordings" / h["hearing_id"]).iterdir())
        assert kinds == ["audio", "video"]
        bad = httpx.get(f"{hub.url}/api/hearings/{h['hearing_id']}/recording",
                        params={"participant_id": pid, "start": 5, "end": 2, "token": invites_by_role(h)["judge"]["token"]})
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid"
        await jt.close()
        await judge.close()
    run(main())


def test_a_muted_participant_is_neither_forwarded_nor_transcribed(hub: HubProcess, tmp_path: Path) -> None:
    wav = speech_wav(tmp_path, "原告 陈述 。 诉讼 请求 。 事实 理由 。 证据 质证")

    async def main() -> None:
        h = hub.create_hearing(PEOPLE)
        frames = Counter()
        judge, jt = await joined(hub, h, "judge", on_track=frames)
        party, pt = await joined(hub, h, "plaintiff", audio=MediaPlayer(wav).audio)
        pid = invites_by_role(h)["plaintiff"]["participant_id"]
        await judge.wait_for(lambda: len(segments_of(judge)) >= 1, timeout=20)
        ack = await judge.op({"kind": "participant.mute", "participant_id": pid, "muted": True})
        assert ack["type"] == "ack"
        await asyncio.sleep(0.5)  # frames already on their way
        at_mute = frames.frames[(pid, "audio")]
        partials_at_mute = len(judge.of_type("partial"))
        await asyncio.sleep(5)  # the rest of the recording is spoken while muted
        assert frames.frames[(pid, "audio")] - at_mute < 10
        assert len(judge.of_type("partial")) == partials_at_mute
        texts = [s["text"] for s in segments_of(judge)]
        assert "原告陈述。" in texts and not any("事实" in t or "证据" in t for t in texts)
        await hang_up((judge, jt), (party, pt))
    run(main())


def test_a_paused_hearing_is_not_transcribed_and_resumes_on_the_hearings_clock(
        hub: HubProcess, tmp_path: Path) -> None:
    # Utterances start at 0.5, 2.9, 5.3, 7.7, 10.1 s (speech_wav's spacing).
    wav = speech_wav(tmp_path, "原告 陈述 。 诉讼 请求 。 事实 理由 。 证据 质证 。 被告 答辩")

    async def main() -> None:
        h = hub.create_hearing(PEOPLE)
        judge, jt = await joined(hub, h, "judge")
        assert (await judge.op({"kind": "hearing.start"}))["type"] == "ack"
        party, pt = await joined(hub, h, "plaintiff", audio=MediaPlayer(wav).audio)
        await judge.wait_for(lambda: len(segments_of(judge)) >= 1, timeout=20)
        assert (await judge.op({"kind": "hearing.pause"}))["type"] == "ack"
        await asyncio.sleep(5.5)  # 诉讼请求 and 事实理由 are said during the pause
        assert (await judge.op({"kind": "hearing.start"}))["type"] == "ack"
        await judge.wait_for(lambda: any("被告" in s["text"] for s in segments_of(judge)), timeout=20)
        texts = [s["text"] for s in segments_of(judge)]
        assert texts[0] == "原告陈述。" and not any("诉讼" in t or "事实" in t for t in texts), texts
        segs = segments_of(judge)
        # A new stream after the pause keeps segment times on the hearing's clock.
        assert all(a["end"] <= b["start"] for a, b in zip(segs, segs[1:]))
        assert segs[-1]["start"] - segs[0]["start"] == pytest.approx(10.1 - 0.5, abs=0.3)
        await hang_up((judge, jt), (party, pt))
    run(main())


def test_three_terminals_each_receive_the_other_two(hub: HubProcess) -> None:
    async def main() -> None:
        h = hub.create_hearing(PEOPLE)
        counters = {r: Counter() for r in ("judge", "plaintiff", "defendant")}
        clients = []
        for role in counters:
            from aiortc.mediastreams import AudioStreamTrack
            clients.append(await joined(hub, h, role, audio=AudioStreamTrack(), video=VideoStreamTrack(),
                                        on_track=counters[role]))
        ids = {r: invites_by_role(h)[r]["participant_id"] for r in counters}

        def complete() -> bool:
            return all(counters[r].frames.get((ids[o], k), 0) > 20
                       for r in counters for o in counters if o != r for k in ("audio", "video"))
        for _ in range(100):
            if complete():
                break
            await asyncio.sleep(0.2)
        assert complete(), {r: c.frames for r, c in counters.items()}
        for r in counters:
            assert (ids[r], "audio") not in counters[r].frames  # nobody receives themselves
        # The defendant's terminal vanishes mid-call: the others' connections
        # are renegotiated without it and the hearing carries on.
        clients[2][0].ws.transport.abort()
        judge = clients[0][0]
        await judge.wait_for(lambda: len(judge.of_type("rtc.offer")) >= 1 and not any(
            t["participant_id"] == ids["defendant"] for t in judge.of_type("rtc.offer")[-1]["tracks"].values()),
            timeout=15)
        assert (await judge.op({"kind": "hearing.start"}))["type"] == "ack"
        for c, t in clients:
            await t.close()
        for c, _ in clients[:2]:
            await c.close()
    run(main())


def test_bad_signalling_gets_clear_errors_and_the_hearing_goes_on(hub: HubProcess) -> None:
    async def main() -> None:
        h = hub.create_hearing(PEOPLE)
        inv = invites_by_role(h)
        c = await Client.connect(hub.ws_url(h["hearing_id"], inv["plaintiff"]["token"]))
        errors = lambda: [m["error"]["code"] for m in c.of_type("error")]  # noqa: E731
        await c.send_json({"type": "rtc.answer", "sdp": "v=0"})
        await c.wait_for(lambda: errors() == ["conflict"])  # not joined
        await c.send_json({"type": "rtc.join", "audio": "yes"})
        await c.wait_for(lambda: len(errors()) == 2)
        assert errors()[-1] == "invalid"
        await c.send_json({"type": "rtc.join", "audio": True, "video": False})
        await c.wait_for(lambda: c.of_type("rtc.offer"))
        for bad in ("garbage", "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 96\r\n", 12, "x" * 70_000):
            await c.send_json({"type": "rtc.answer", "sdp": bad})
        await c.wait_for(lambda: len(errors()) == 6)
        assert errors()[2:] == ["invalid", "invalid", "invalid", "too_large"]
        for k in range(70):
            await c.send_json({"type": "rtc.candidate", "candidate": {
                "candidate": f"candidate:{k} 1 udp 2122260223 192.0.2.{k % 250 + 1} {40000 + k} typ host",
                "sdpMid": "0", "sdpMLineIndex": 0}})
        await c.send_json({"type": "rtc.candidate", "candidate": {"candidate": "candidate:nonsense"}})
        await c.wait_for(lambda: "too_large" in errors()[6:])
        # The offer is still open: a real answer completes it.
        t = Terminal(c.send_json, audio=MediaPlayer(str(SHARED / "audio" / "zh" / "aishell1_BAC009S0724W0121.wav")).audio)
        c.terminal = t
        await t.handle(c.of_type("rtc.offer")[-1])
        await asyncio.sleep(1)
        assert (await c.op({"kind": "annotation.add", "segment_id": "S9", "start": 0, "end": 1,
                            "style": "highlight"}))["error"]["code"] == "not_found"
        assert c.of_type("rtc.error") == []
        await t.leave()  # media ends; the websocket stays
        await c.send_json({"type": "rtc.answer", "sdp": "v=0"})
        await c.wait_for(lambda: errors()[-1:] == ["conflict"] and len(errors()) > 7)
        await c.close()
    run(main())


def test_waiting_room_keeps_media_out_until_admitted(hub: HubProcess) -> None:
    async def main() -> None:
        h = hub.create_hearing(PEOPLE, waiting_room=True)
        inv = invites_by_role(h)
        judge = await Client.connect(hub.ws_url(h["hearing_id"], inv["judge"]["token"]))
        # Waiting: the sync is answered with "waiting" and completes on admission.
        detainee = await Client.connect(hub.ws_url(h["hearing_id"], inv["defendant"]["token"]), sync=False)
        await detainee.send_json({"type": "sync", "since": 0})
        await detainee.wait_for(lambda: detainee.of_type("waiting"))
        await detainee.send_json({"type": "rtc.join", "audio": True, "video": True})
        await detainee.wait_for(lambda: detainee.of_type("error"))
        assert detainee.of_type("error")[0]["error"]["code"] == "forbidden"
        assert (await judge.op({"kind": "participant.admit", "participant_id": inv["defendant"]["participant_id"]}))["type"] == "ack"
        await detainee.wait_for(lambda: any(e["event"]["kind"] == "participant.admitted" for e in detainee.events))
        await detainee.send_json({"type": "rtc.join", "audio": True, "video": True})
        await detainee.wait_for(lambda: detainee.of_type("rtc.offer"))
        assert (await judge.op({"kind": "participant.remove", "participant_id": inv["defendant"]["participant_id"]}))["type"] == "ack"
        await detainee.wait_for(lambda: detainee.of_type("rtc.closed"))
        assert detainee.of_type("rtc.closed")[0]["reason"] == "removed"
        await judge.close()
        await detainee.close()
    run(main())


def test_a_late_subscriber_gets_a_keyframe_promptly(hub: HubProcess) -> None:
    """The publisher's encoder makes keyframes rarely; the hub asks it for one
    (PLI) when a subscriber starts, and forwards the subscriber's own PLIs."""
    async def main() -> None:
        h = hub.create_hearing(PEOPLE)
        party, pt = await joined(hub, h, "plaintiff", video=VideoStreamTrack())
        await asyncio.sleep(4)  # well past the publisher's first keyframe
        first: list[float] = []
        t0 = asyncio.get_running_loop().time()

        def on_track(pid: str, kind: str, track: MediaStreamTrack) -> None:
            async def first_frame() -> None:
                await track.recv()  # decoded: the stream starts at a keyframe
                first.append(asyncio.get_running_loop().time() - t0)
            asyncio.ensure_future(first_frame())
        judge, jt = await joined(hub, h, "judge", on_track=on_track)
        for _ in range(50):
            if first:
                break
            await asyncio.sleep(0.1)
        assert first and first[0] < 3.0, first
        await hang_up((judge, jt), (party, pt))
    run(main())


def h264_only(sdp: str) -> str:
    """The SDP with VP8 (and its retransmission) struck from its video sections."""
    import re
    out, drop = [], set()
    for section in re.split(r"(?=^m=)", sdp, flags=re.M):
        if section.startswith("m=video"):
            vp8 = set(re.findall(r"^a=rtpmap:(\d+) VP8/", section, re.M))
            drop = vp8 | {pt for pt, apt in re.findall(r"^a=fmtp:(\d+) apt=(\d+)", section, re.M) if apt in vp8}
            lines = []
            for line in section.splitlines(keepends=True):
                m = re.match(r"a=(?:rtpmap|fmtp|rtcp-fb):(\d+)", line)
                if m and m.group(1) in drop:
                    continue
                if line.startswith("m=video"):
                    head, *pts = line.split()
                    line = " ".join([head] + [p for p in pts if p not in drop]) + "\r\n"
                lines.append(line)
            section = "".join(lines)
        out.append(section)
    return "".join(out)


def hub_log(hub: HubProcess) -> str:
    return (hub.data.parent / f"hub-{hub.port}.log").read_text()


def h264_terminal(client: Client, **media: Any) -> Terminal:
    """A terminal that knows only H.264 video, as many hardware terminals:
    it never sees VP8 in the hub's offers."""
    terminal = Terminal(client.send_json, **media)
    handle = terminal.handle

    async def h264_offers(msg: dict[str, Any]) -> None:
        if msg["type"] == "rtc.offer":
            msg = {**msg, "sdp": h264_only(msg["sdp"])}
        await handle(msg)
    terminal.handle = h264_offers  # type: ignore[method-assign]
    client.terminal = terminal
    return terminal


def test_a_subscriber_that_cannot_decode_vp8_gets_a_transcoded_copy(hub: HubProcess) -> None:
    async def main() -> None:
        h = hub.create_hearing(PEOPLE)
        party, pt = await joined(hub, h, "plaintiff", video=VideoStreamTrack())
        inv = invites_by_role(h)["judge"]
        judge = await Client.connect(hub.ws_url(h["hearing_id"], inv["token"]))
        decoded: list[Any] = []
        arrived: set[str] = set()

        def on_track(pid: str, kind: str, track: MediaStreamTrack) -> None:
            codecs_arriving(jt, track, arrived)

            async def pump() -> None:
                while len(decoded) < 30:
                    decoded.append(await track.recv())
            asyncio.ensure_future(pump())
        jt = h264_terminal(judge, on_track=on_track)
        await jt.join()
        for _ in range(100):
            if len(decoded) >= 30:
                break
            await asyncio.sleep(0.1)
        assert len(decoded) >= 30 and decoded[-1].width == 640
        assert arrived == {"video/H264"}
        assert "transcoding" in hub_log(hub)
        await hang_up((judge, jt), (party, pt))
    run(main())


def test_serve_says_whether_it_recognizes_speech(hub: HubProcess, tmp_path: Path) -> None:
    health = httpx.get(hub.url + "/healthz").json()
    assert (health["status"], health["media"], health["asr"]) == ("ok", True, True)
    env = {k: v for k, v in os.environ.items() if k != "COURTROOM_VOSK_MODEL"}
    plain = HubProcess(tmp_path / "plain", env={**env, "XDG_CACHE_HOME": str(tmp_path / "cache")}).start()
    try:
        assert httpx.get(plain.url + "/healthz").json()["asr"] is False
    finally:
        plain.stop()
    log = (tmp_path / f"hub-{plain.port}.log").read_text()
    assert "running WITHOUT speech recognition" in log and "COURTROOM_VOSK_MODEL" in log


def test_h264_from_a_publisher_that_offers_only_h264_is_forwarded_as_is(hub: HubProcess) -> None:
    async def main() -> None:
        h = hub.create_hearing(PEOPLE)
        inv = invites_by_role(h)
        party = await Client.connect(hub.ws_url(h["hearing_id"], inv["plaintiff"]["token"]))
        pt = h264_terminal(party, video=VideoStreamTrack())
        await pt.join()
        decoded: list[Any] = []
        arrived: set[str] = set()
        judge, jt = None, None

        def on_track(pid: str, kind: str, track: MediaStreamTrack) -> None:
            assert jt is not None
            codecs_arriving(jt, track, arrived)

            async def pump() -> None:
                while len(decoded) < 30:
                    decoded.append(await track.recv())
            asyncio.ensure_future(pump())
        judge, jt = await joined(hub, h, "judge", on_track=on_track)
        for _ in range(100):
            if len(decoded) >= 30:
                break
            await asyncio.sleep(0.1)
        assert len(decoded) >= 30 and arrived == {"video/H264"}
        assert "transcoding" not in hub_log(hub)
        await hang_up((judge, jt), (party, pt))
    run(main())


def test_an_answer_with_no_codec_in_common_is_refused_and_the_offer_stays_open(hub: HubProcess) -> None:
    from aiortc.mediastreams import AudioStreamTrack

    async def main() -> None:
        h = hub.create_hearing(PEOPLE)
        frames = Counter()
        judge, jt = await joined(hub, h, "judge", on_track=frames)
        party = await Client.connect(hub.ws_url(h["hearing_id"], invites_by_role(h)["plaintiff"]["token"]))
        answers: list[dict[str, Any]] = []

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "rtc.answer" and not answers:
                answers.append(message)  # first: as from a peer that speaks no Opus
                message = {**message, "sdp": message["sdp"].replace("opus/48000", "x-unknown/48000")}
            await party.send_json(message)
        pt = Terminal(send, audio=AudioStreamTrack())
        party.terminal = pt
        await pt.join()
        await party.wait_for(lambda: party.of_type("error"))
        error = party.of_type("error")[0]["error"]
        assert error["code"] == "invalid" and "SDP" in error["message"]
        await party.send_json(answers[0])  # the true answer still completes the open offer
        pid = invites_by_role(h)["plaintiff"]["participant_id"]
        for _ in range(50):
            if frames.frames.get((pid, "audio"), 0) > 20:
                break
            await asyncio.sleep(0.1)
        assert frames.frames.get((pid, "audio"), 0) > 20 and len(party.of_type("error")) == 1
        await hang_up((judge, jt), (party, pt))
    run(main())


def test_presence_tells_every_screen_who_is_connected_and_their_media(hub: HubProcess, tmp_path: Path) -> None:
    from aiortc.mediastreams import AudioStreamTrack

    async def main() -> None:
        h = hub.create_hearing(PEOPLE)
        inv = invites_by_role(h)
        ids = {r: inv[r]["participant_id"] for r in ("judge", "plaintiff", "defendant")}
        judge = await Client.connect(hub.ws_url(h["hearing_id"], inv["judge"]["token"]))
        latest = lambda: judge.of_type("presence")[-1]["participants"]  # noqa: E731
        await judge.wait_for(lambda: judge.of_type("presence"))  # it follows `synced`
        assert latest()[ids["judge"]]["connected"] and not latest()[ids["plaintiff"]]["connected"]
        assert "last_seen" not in latest()[ids["plaintiff"]]  # never connected
        t0 = time.time() * 1000
        party, pt = await joined(hub, h, "plaintiff", audio=AudioStreamTrack())
        await judge.wait_for(lambda: latest()[ids["plaintiff"]].get("media") == "connected"
                             and latest()[ids["plaintiff"]].get("audio"), timeout=15)
        assert latest()[ids["plaintiff"]]["video"] is False
        await judge.wait_for(lambda: latest()[ids["plaintiff"]].get("loss") == 0.0, timeout=15)  # a clean line
        assert latest()[ids["plaintiff"]]["level"] <= -60  # it sends silence: the judge is told
        talker, tt = await joined(hub, h, "defendant", audio=MediaPlayer(speech_wav(tmp_path, "原告 陈述 诉讼 请求"),
                                                                         loop=True).audio)
        await judge.wait_for(lambda: (latest()[ids["defendant"]].get("level") or -200) > -30, timeout=15)
        await hang_up((talker, tt))
        await pt.close()
        await party.close()
        await judge.wait_for(lambda: not latest()[ids["plaintiff"]]["connected"]
                             and latest()[ids["plaintiff"]]["media"] == "none", timeout=15)
        # Since when a terminal that dropped out has been gone.
        assert t0 <= latest()[ids["plaintiff"]]["last_seen"] <= time.time() * 1000
        assert "last_seen" not in latest()[ids["judge"]]
        await judge.close()
    run(main())


def test_the_hearings_vocabulary_changes_live_recognition(hub: HubProcess, tmp_path: Path) -> None:
    wav = speech_wav(tmp_path, "原告 陈述 。 诉讼 请求")

    async def main() -> None:
        h = hub.create_hearing(PEOPLE)
        inv = invites_by_role(h)
        judge, jt = await joined(hub, h, "judge")
        r = httpx.get(f"{hub.url}/api/hearings/{h['hearing_id']}/vocabulary", params={"token": inv["judge"]["token"]})
        assert r.json()["default"] is True and "诉讼请求" in r.json()["terms"]
        # 速送 sounds like 诉讼 (su song): with it as the court's term, the words are spelled so.
        assert (await judge.op({"kind": "vocabulary.set", "terms": ["速送"]}))["type"] == "ack"
        party, pt = await joined(hub, h, "plaintiff", audio=MediaPlayer(wav).audio)
        await judge.wait_for(lambda: len(segments_of(judge)) >= 2, timeout=20)
        assert [s["text"] for s in segments_of(judge)] == ["原告陈述。", "速送请求。"]
        r = httpx.get(f"{hub.url}/api/hearings/{h['hearing_id']}/vocabulary", params={"token": inv["judge"]["token"]})
        assert r.json() == {"terms": ["速送"], "default": False}
        await hang_up((judge, jt), (party, pt))
    run(main())


def test_speech_cut_by_the_lock_is_shown_not_dropped_and_its_grey_line_cleared(
        hub: HubProcess, tmp_path: Path) -> None:
    wav = speech_wav(tmp_path, "原告 陈述 诉讼 请求 事实 理由 证据 质证")

    async def main() -> None:
        h = hub.create_hearing(PEOPLE)
        judge, jt = await joined(hub, h, "judge")
        assert (await judge.op({"kind": "hearing.start"}))["type"] == "ack"
        party, pt = await joined(hub, h, "plaintiff", audio=MediaPlayer(wav).audio)
        pid = invites_by_role(h)["plaintiff"]["participant_id"]
        await judge.wait_for(lambda: any(m["participant_id"] == pid and m["text"] for m in judge.of_type("partial")),
                             timeout=20)
        locked = await judge.op({"kind": "transcript.lock"})
        assert locked["type"] == "ack"
        lock_event = next(e["event"] for e in judge.events if e["event"]["kind"] == "transcript.locked")
        assert lock_event["status"] == "ended"  # the lock closed the hearing
        await judge.wait_for(lambda: judge.of_type("speech.unrecorded"), timeout=10)
        unrecorded = judge.of_type("speech.unrecorded")[0]
        assert unrecorded["participant_id"] == pid and unrecorded["reason"] == "locked"
        assert unrecorded["text"].startswith("原告陈述")
        # The speaker's grey line ends with a clearing partial, and the
        # closed hearing is no longer recognized (the rest of the sentence
        # is still being spoken).
        await judge.wait_for(lambda: [m["text"] for m in judge.of_type("partial")
                                      if m["participant_id"] == pid][-1] == "", timeout=5)
        def spoken() -> int:
            return len([m for m in judge.of_type("partial") if m["text"]])
        heard = spoken()
        await asyncio.sleep(2)
        assert spoken() == heard  # (clearing partials may repeat: the refusal and the stream's end)
        assert not segments_of(judge)
        await hang_up((judge, jt), (party, pt))
    run(main())


def test_speech_is_recognized_on_a_worker_when_the_hub_has_none(tmp_path: Path) -> None:
    """``serve --asr``: the hub loads no model; a recognition worker (vosk-server's protocol) does the work."""
    from tests.asr.test_remote import WorkerProcess
    from tests.support import media_address

    worker = WorkerProcess(tmp_path)
    hub = HubProcess(tmp_path / "data", args=["--asr", worker.url, "--network", f"test={media_address()}"]).start()
    wav = speech_wav(tmp_path, "现在 开庭 。 原告 陈述 诉讼 请求")

    async def main() -> None:
        h = hub.create_hearing(PEOPLE)
        judge, jt = await joined(hub, h, "judge")
        party, pt = await joined(hub, h, "plaintiff", audio=MediaPlayer(wav).audio)
        await judge.wait_for(lambda: len(segments_of(judge)) >= 2, timeout=20)
        assert [s["text"] for s in segments_of(judge)] == ["现在开庭。", "原告陈述诉讼请求。"]
        for c in (pt, jt):
            await c.close()
        await party.close()
        await judge.close()
    try:
        run(main())
        assert "on workers ws://127.0.0.1" in (tmp_path / f"hub-{hub.port}.log").read_text()
    finally:
        hub.stop()
        worker.stop()
