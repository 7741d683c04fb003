"""The composed recording over HTTP (courtroom/video_api.py): a hearing's
two speakers recorded through the media hub, ended, composed in the hub's
composing process, and served to the judge and the clerk only."""

from __future__ import annotations

import asyncio
import io
import time
from pathlib import Path

import av
import httpx
from aiortc import VideoStreamTrack
from aiortc.contrib.media import MediaPlayer

from tests.media.test_media_hub import joined, segments_of, speech_wav
from tests.support import HubProcess, invites_by_role, run

PEOPLE = [{"role": "judge", "name": "王法官"}, {"role": "clerk", "name": "赵书记"},
          {"role": "plaintiff", "name": "张三"}, {"role": "observer", "name": "旁听人"}]


def test_the_bench_gets_the_composed_video_once_the_hearing_ends(speech_hub: HubProcess, tmp_path: Path) -> None:
    hub = speech_hub
    wav = speech_wav(tmp_path, "现在 开庭 。 原告 陈述 诉讼 请求")
    h = hub.create_hearing(PEOPLE)
    tokens = {role: inv["token"] for role, inv in invites_by_role(h).items()}
    url = f"{hub.url}/api/hearings/{h['hearing_id']}/video"

    async def main() -> None:
        judge, jt = await joined(hub, h, "judge", video=VideoStreamTrack())
        party, pt = await joined(hub, h, "plaintiff", audio=MediaPlayer(wav).audio, video=VideoStreamTrack())
        await judge.wait_for(lambda: len(segments_of(judge)) >= 2, timeout=20)
        assert httpx.get(url, params={"token": tokens["judge"]}).status_code == 409  # not ended yet
        assert (await judge.op({"kind": "hearing.end"}))["type"] == "ack"
        for client, terminal in ((party, pt), (judge, jt)):
            await terminal.close()
            await client.close()
        await asyncio.sleep(1)  # the hub closes the recordings
    run(main())
    for who, code in (("plaintiff", 403), ("observer", 403)):
        assert httpx.get(url, params={"token": tokens[who]}).status_code == code
    assert httpx.get(url).status_code == 401
    first = httpx.get(url, params={"token": tokens["clerk"]})
    assert first.status_code == 202 and first.json()["state"] == "composing"
    deadline = time.monotonic() + 90
    while (r := httpx.get(url, params={"token": tokens["judge"]})).status_code == 202:
        assert 0 <= r.json()["fraction"] <= 1 and time.monotonic() < deadline
        time.sleep(0.5)
    assert r.status_code == 200 and r.headers["content-type"] == "video/mp4"
    with av.open(io.BytesIO(r.content)) as c:
        assert sorted(s.codec_context.name for s in c.streams) == ["aac", "h264", "mov_text"]
        texts = [bytes(p)[2:].decode() for p in c.demux(c.streams.subtitles[0]) if p.size > 2]
        duration = float(c.duration / 1_000_000)
    assert texts == ["原告张三：现在开庭。", "原告张三：原告陈述诉讼请求。"]
    assert duration > 5
    # A range, as a player seeking asks for it.
    part = httpx.get(url, params={"token": tokens["judge"]}, headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and len(part.content) == 100


def test_the_case_staff_and_once_shared_the_parties_reach_it_from_the_case(hub: HubProcess) -> None:
    from tests.test_case_api import enter, file_case
    from tests.test_case_files import assigned
    from tests.support import Client
    case = file_case(hub)
    cid = case["case_id"]
    judge_console = assigned(hub, cid, "judge", "judge1", "赵法官")
    zhang = enter(hub, case, 0)
    hearing = judge_console.post(f"/api/cases/{cid}/hearings", json={}).json()
    hid = hearing["hearing_id"]
    judge_token = next(i["token"] for i in hearing["invites"] if i["role"] == "judge")
    zhang_token = next(i["token"] for i in hearing["invites"] if i["name"] == "张三")
    url = f"/api/cases/{cid}/hearings/{hid}/video"
    assert judge_console.get(url).status_code == 409  # before 闭庭
    assert zhang.get(url).status_code == 403  # the court's, until the judge shares it
    direct = f"{hub.url}/api/hearings/{hid}/video"
    assert httpx.get(direct, params={"token": zhang_token}).status_code == 403
    assert judge_console.get(f"/api/cases/{cid}/hearings/h-0000000000000000/video").status_code == 404

    async def end_and_share() -> None:
        judge = await Client.connect(hub.ws_url(hid, judge_token))
        assert (await judge.op({"kind": "hearing.end"}))["type"] == "ack"
        assert (await judge.op({"kind": "video.share", "shared": True}))["type"] == "ack"
        await judge.close()
    run(end_and_share())
    # Nobody spoke into this hearing's media: nothing to compose, for whoever may have it.
    for response in (judge_console.get(url), zhang.get(url), httpx.get(direct, params={"token": zhang_token})):
        assert response.status_code == 404 and "没有录音录像" in response.text, response.text
