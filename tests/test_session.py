"""Hostile input over the websocket against a real hub process: nothing a
client sends may corrupt the log, stop another screen, or end its own
session."""

from __future__ import annotations

import json
import httpx

from tests.support import Client, HubProcess, invites_by_role, run

LONE = "\ud800"


def test_lone_surrogates_are_refused_and_the_log_stays_whole(hub: HubProcess) -> None:
    h = hub.create_hearing()
    hid, inv = h["hearing_id"], invites_by_role(h)

    async def main() -> None:
        clerk = await Client.connect(hub.ws_url(hid, inv["clerk"]["token"]))
        judge = await Client.connect(hub.ws_url(hid, inv["judge"]["token"]))
        party = await Client.connect(hub.ws_url(hid, inv["plaintiff"]["token"]))
        assert (await clerk.op({"kind": "segment.add", "text": "原告陈述。"}))["type"] == "ack"
        bad = [
            (party, {"kind": "annotation.add", "segment_id": "S1", "start": 0, "end": 2, "style": "comment",
                     "body": "批注" + LONE}),
            (clerk, {"kind": "segment.edit", "segment_id": "S1", "base_rev": 1, "text": "原告" + LONE}),
            (clerk, {"kind": "segment.add", "text": "被告答辩。", "words": [
                {"word": "被告" + LONE, "start": 0.0, "end": 0.5, "conf": 0.9}]}),
            (clerk, {"kind": "segment.add", "text": "被告答辩。", LONE: 1}),
            (clerk, {"kind": "segment.add", "text": "被告\x01答辩。"}),
            (party, {"kind": "annotation.add", "segment_id": "S1", "start": 0, "end": 2, "style": "comment",
                     "body": "批注\x0b"}),
        ]
        for client, op in bad:
            answer = await client.answer(op)
            assert answer["type"] == "nack" and answer["error"]["code"] == "invalid", answer
        # An op_id that is not text cannot even be answered: an error, and
        # the session goes on.
        await party.ws.send(json.dumps({"type": "op", "op_id": "x" + LONE,
                                        "op": {"kind": "annotation.add", "segment_id": "S1", "start": 0,
                                               "end": 1, "style": "highlight"}}))
        await party.wait_for(lambda: any(m["type"] == "error" for m in party.others))
        # Every screen still follows, and the judge can lock and sign.
        assert (await judge.op({"kind": "transcript.lock"}))["type"] == "ack"
        for c in (clerk, party):
            await c.wait_for(lambda c=c: c.seq == judge.seq)
        for c in (clerk, judge, party):
            await c.close()

    run(main())
    assert hub.verify(hid).returncode == 0
    hub.stop()
    hub.start()
    t = hub.transcript(hid, inv["judge"]["token"])
    assert t["locked"] and [s["text"] for s in t["segments"]] == ["原告陈述。"] and t["annotations"] == []


def test_a_bad_partial_disconnects_no_screen(hub: HubProcess) -> None:
    h = hub.create_hearing()
    hid, inv = h["hearing_id"], invites_by_role(h)

    async def main() -> None:
        speaker = await Client.connect(hub.ws_url(hid, inv["plaintiff"]["token"]))
        screens = [await Client.connect(hub.ws_url(hid, inv[r]["token"])) for r in ("judge", "clerk", "observer")]
        for _ in range(3):
            await speaker.ws.send(json.dumps({"type": "partial", "text": "现在" + LONE}))
        await speaker.wait_for(lambda: len(speaker.of_type("error")) == 3)
        assert {m["error"]["code"] for m in speaker.of_type("error")} == {"invalid"}
        await speaker.ws.send(json.dumps({"type": "partial", "text": "现在开庭"}))
        for s in screens:
            await s.wait_for(lambda s=s: any(m["type"] == "partial" for m in s.others))
            assert [m["text"] for m in s.of_type("partial")] == ["现在开庭"]
            assert s.ws.state.name == "OPEN"
        for c in (speaker, *screens):
            await c.close()

    run(main())


def test_json_nested_too_deep_is_invalid_and_the_session_goes_on(hub: HubProcess) -> None:
    h = hub.create_hearing()
    hid, inv = h["hearing_id"], invites_by_role(h)

    async def main() -> None:
        c = await Client.connect(hub.ws_url(hid, inv["judge"]["token"]))
        await c.ws.send("[" * 100_000 + "]" * 100_000)
        await c.ws.send(json.dumps({"type": "op", "op_id": "deep", "op": {"kind": "segment.add", "text": "x",
                                                                           "words": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}))
        await c.wait_for(lambda: len(c.of_type("error")) == 1 and "deep" in c.answers)
        assert c.of_type("error")[0]["error"]["code"] == "invalid"
        assert c.answers["deep"]["error"]["code"] == "invalid"
        assert (await c.op({"kind": "segment.add", "text": "会话仍然可用"}))["type"] == "ack"
        await c.close()

    run(main())


def test_a_malformed_ice_candidate_is_refused_and_signalling_goes_on(hub: HubProcess) -> None:
    h = hub.create_hearing()
    hid, inv = h["hearing_id"], invites_by_role(h)

    async def main() -> None:
        c = await Client.connect(hub.ws_url(hid, inv["plaintiff"]["token"]))
        await c.send_json({"type": "rtc.join", "audio": True, "video": False})
        await c.wait_for(lambda: bool(c.of_type("rtc.offer")))
        # No sdpMid and no sdpMLineIndex: aiortc itself raises on it.
        await c.send_json({"type": "rtc.candidate", "candidate": {
            "candidate": "candidate:1 1 udp 2130706431 192.0.2.1 5000 typ host"}})
        await c.wait_for(lambda: len(c.of_type("error")) == 1)
        assert c.of_type("error")[0]["error"]["code"] == "invalid"
        # The session still signals: a bad answer gets its own clear error.
        await c.send_json({"type": "rtc.answer", "sdp": "v=0 nonsense"})
        await c.wait_for(lambda: len(c.of_type("error")) == 2)
        assert c.of_type("error")[1]["error"]["code"] == "invalid"
        await c.close()

    run(main())
    assert httpx.get(hub.url + "/healthz").status_code == 200


def rss_kb(hub: HubProcess) -> int:
    return hub.proc_total("VmRSS")


def test_refusals_never_echo_the_input_or_hold_memory(hub: HubProcess) -> None:
    h = hub.create_hearing()
    hid, inv = h["hearing_id"], invites_by_role(h)

    async def main() -> None:
        c = await Client.connect(hub.ws_url(hid, inv["observer"]["token"]))
        before = rss_kb(hub)
        junk = "x" * 400_000
        floods = [{"kind": junk}, {"kind": "segment.add", "text": "a", junk: 1},
                  {"kind": "vocabulary.set", "terms": [junk]}]
        for n in range(300):
            await c.send_op(floods[n % 3], op_id=f"junk-{n}")
        await c.wait_for(lambda: len(c.answers) == 300, timeout=120)
        sizes = [len(json.dumps(a, ensure_ascii=False)) for a in c.answers.values()]
        assert all(a["type"] == "nack" for a in c.answers.values()) and max(sizes) < 400
        grown_mb = (rss_kb(hub) - before) / 1024
        assert grown_mb < 40, f"the hub grew by {grown_mb:.0f} MB holding refusals"
        # A resent op_id still gets its first answer.
        again = await c.answer(floods[0], op_id="junk-0")
        assert again == c.answers["junk-0"]
        await c.close()

    run(main())
