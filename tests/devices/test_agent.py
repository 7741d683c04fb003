"""``courtroom room --config room.toml`` as a courtroom runs it, through the
real PortAudio path: a 4-channel seat recording with every seat's words
bleeding into the others at -12 dB is played into the private PulseAudio's
``room`` sink (the agent's audio interface). Every word arrives once,
under the participant of the seat that spoke it; a remote witness comes
out of the ``ceiling`` loudspeakers and the courtroom's own seats do not;
after ``kill -9`` of the hub the agent is back by itself within 10 s."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from aiortc.contrib.media import MediaPlayer

from devices.roomconfig import SEAT_ROLES
from devices.terminal import Terminal
from tests.devices.test_appliance import rms, tone_wav
from tests.media.test_media_hub import segments_of
from tests.devices.prints import need_libfprint, press, synthetic_print
from tests.support import (ADMIN, SHARED, Client, HubProcess, PrivatePulse, back_after_restart, invites_by_role,
                           run)
from transcript.roles import SPEAKING_ROLES

ROOM = "第一法庭"
SEATED = [{"role": "judge", "name": "王法官"}, {"role": "clerk", "name": "赵书记员"},
          {"role": "plaintiff", "name": "张三"}, {"role": "defendant", "name": "李四"}]
PEOPLE = SEATED + [{"role": "witness", "name": "周证人", "site": "remote"}]
SCRIPT = [(0.0, 0, "现在 开庭"), (1.6, 1, "原告 陈述 诉讼 请求"), (4.0, 2, "被告 答辩 意见"),
          (6.2, 3, "证据 质证 有 异议"), (8.6, 1, "借款 本金 利息 万元"), (11.5, 2, "没有 异议"),
          (13.0, 0, "法庭 调查 辩论")]


def seat_recording() -> tuple[Any, list[dict[str, Any]]]:
    """The script on four seat microphones at 48 kHz, each seat's words also
    on the others at -12 dB, and the manifest of who said which word."""
    sys.path.insert(0, str(SHARED / "testing"))
    from tonespeech import synthesize  # type: ignore[import-not-found]
    return synthesize(SCRIPT, rate=48_000, channels=4, bleed_db=-12)


def room_config(tmp_path: Path, hub: HubProcess, credential: str) -> Path:
    (tmp_path / "device-credential").write_text(credential + "\n")
    seats = "".join(f'\n[[seat]]\nchannel = {i + 1}\nrole = "{p["role"]}"\n' for i, p in enumerate(SEATED))
    path = tmp_path / "room.toml"
    path.write_text(f'hub = "{hub.url}"\ncredential_file = "device-credential"\n{seats}', encoding="utf-8")
    return path


def start_agent(pulse: PrivatePulse, config: Path, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "courtroom.cli", "room", "--config", str(config)],
                            stdout=log.open("ab"), stderr=subprocess.STDOUT,
                            env=pulse.env(source="room.monitor", sink="ceiling"))


def issue_device(hub: HubProcess) -> dict[str, Any]:
    r = httpx.post(hub.url + "/api/devices", headers={"Authorization": f"Bearer {ADMIN}"},
                   json={"courtroom": ROOM, "name": "第一法庭主机"})
    r.raise_for_status()
    return r.json()


async def seats_connected(judge: Client, pids: list[str], timeout: float) -> float:
    """Seconds until presence shows every seat's microphone connected through the device."""
    t0 = time.monotonic()

    def connected() -> bool:
        presence = judge.of_type("presence")
        if not presence:
            return False
        now = presence[-1]["participants"]
        return all(now.get(pid, {}).get("media") == "connected" and now[pid].get("audio") and now[pid].get("via")
                   for pid in pids)
    await judge.wait_for(connected, timeout=timeout)
    return time.monotonic() - t0


def test_seat_roles_are_the_hubs_speaking_roles() -> None:
    assert set(SEAT_ROLES) == {r.value for r in SPEAKING_ROLES}


def test_every_seat_word_once_under_its_seat_and_back_after_the_hub(tmp_path: Path, pulse: PrivatePulse) -> None:
    hub = HubProcess.with_speech(tmp_path / "data").start()
    device = issue_device(hub)
    h = hub.create_hearing(PEOPLE, courtroom=ROOM)
    inv = invites_by_role(h)
    seat_pids = [inv[p["role"]]["participant_id"] for p in SEATED]
    log = tmp_path / "agent.log"
    agent = start_agent(pulse, room_config(tmp_path, hub, device["credential"]), log)
    pcm, manifest = seat_recording()
    # What each seat said, word after word (the hub may join words its
    # vocabulary spells as one, e.g. 诉讼请求: compare the characters).
    expected = {pid: "".join(m["word"] for m in manifest if seat_pids[m["channel"]] == pid) for pid in seat_pids}

    async def main() -> None:
        judge = await Client.connect(hub.ws_url(h["hearing_id"], inv["judge"]["token"]))
        await seats_connected(judge, seat_pids, 30)
        await asyncio.sleep(1)
        player = pulse.play("room", pcm, channels=4)
        # Meanwhile the loudspeakers stay silent: the room's own seats are never played back into it.
        ceiling = await asyncio.to_thread(pulse.record, "ceiling.monitor", 8.0)
        assert rms(ceiling) < 50, rms(ceiling)

        def written() -> dict[str, str]:
            segments = sorted(segments_of(judge), key=lambda s: s["start"])
            return {pid: "".join(w["word"] for s in segments if s["speaker"]["participant_id"] == pid
                                 for w in s.get("words", [])) for pid in seat_pids}
        try:
            await judge.wait_for(lambda: sum(map(len, written().values())) >= sum(map(len, expected.values())),
                                 timeout=40)
        except TimeoutError:
            pass  # the comparison below says what is missing
        await asyncio.sleep(2.5)  # anything written twice would have come by now
        player.wait(10)
        assert written() == expected, "a word written twice, lost, or under another seat"

        # A remote witness comes out of the courtroom's loudspeakers.
        judge.terminal = None
        witness = await Client.connect(hub.ws_url(h["hearing_id"], inv["witness"]["token"]))
        witness.terminal = Terminal(witness.send_json, audio=MediaPlayer(tone_wav(tmp_path), loop=True).audio)
        await witness.terminal.join()
        await judge.wait_for(lambda: judge.of_type("presence")[-1]["participants"]
                             [inv["witness"]["participant_id"]].get("media") == "connected", timeout=20)
        await asyncio.sleep(1)
        heard = await asyncio.to_thread(pulse.record, "ceiling.monitor", 2.0)
        assert rms(heard) > 1000, rms(heard)
        await witness.terminal.close()
        await witness.close()
        await judge.close()

        judge = await back_after_restart(hub, hub.ws_url(h["hearing_id"], inv["judge"]["token"]),
                                         lambda screen: seats_connected(screen, seat_pids, 15))
        await judge.close()

    try:
        run(main())
        assert agent.poll() is None, log.read_text()
        text = log.read_text()
        assert "waiting for the hub" in text and "seat 1: judge 王法官" in text
        # Revoked: the agent stops and says why.
        r = httpx.delete(f"{hub.url}/api/devices/{device['device_id']}", headers={"Authorization": f"Bearer {ADMIN}"})
        assert r.status_code == 200
        assert agent.wait(15) == 2
        assert "new device credential" in log.read_text()
    finally:
        if agent.poll() is None:
            agent.kill()
        hub.stop()


def test_the_agent_says_what_is_wrong_with_its_config(tmp_path: Path) -> None:
    def run_with(text: str) -> subprocess.CompletedProcess[str]:
        path = tmp_path / "room.toml"
        path.write_text(text, encoding="utf-8")
        return subprocess.run([sys.executable, "-m", "courtroom.cli", "room", "--config", str(path)],
                              capture_output=True, text=True, timeout=30)
    cases = {
        'hub = "ftp://x"': "hub must be",
        'hub = "http://x"\n': "credential",
        'hub = "http://x"\ncredential_file = "missing"': "missing",
        'hub = "http://x"\ncredential = "c"': "no [[seat]]",
        'hub = "http://x"\ncredential = "c"\n[[seat]]\nchannel = 0\nrole = "judge"': "channel",
        'hub = "http://x"\ncredential = "c"\n[[seat]]\nchannel = 1\nrole = "bailiff"': "role must be",
        'hub = "http://x"\ncredential = "c"\n[[seat]]\nchannel = 1\nrole = "judge"\n[[seat]]\nchannel = 1\n'
        'role = "clerk"': "already seat 1",
        'hub = [': "room.toml",
    }
    for text, message in cases.items():
        r = run_with(text)
        assert r.returncode == 2 and message in r.stderr, (text, r.stderr)
    r = subprocess.run([sys.executable, "-m", "courtroom.cli", "room", "--systemd-unit"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and "room --config" in r.stdout and "Restart=always" in r.stdout


def test_cameras_and_a_document_camera_photo_filed_as_the_askers_evidence(tmp_path: Path,
                                                                           pulse: PrivatePulse) -> None:
    hub = HubProcess.with_speech(tmp_path / "data").start()
    device = issue_device(hub)
    h = hub.create_hearing(PEOPLE + [{"role": "observer", "name": "旁听"}], courtroom=ROOM)
    inv = invites_by_role(h)
    config = room_config(tmp_path, hub, device["credential"])
    config.write_text(config.read_text(encoding="utf-8") + '\n[[camera]]\ndevice = "test"\nsize = "320x240"\nseat = 1\n'
                      '\n[document_camera]\ndevice = "test"\nsize = "640x480"\n', encoding="utf-8")
    log = tmp_path / "agent.log"
    agent = start_agent(pulse, config, log)

    async def main() -> None:
        judge = await Client.connect(hub.ws_url(h["hearing_id"], inv["judge"]["token"]))
        await seats_connected(judge, [inv["judge"]["participant_id"]], 30)

        def device_state() -> dict[str, Any]:
            return judge.of_type("presence")[-1].get("devices", {}).get(device["device_id"], {})
        await judge.wait_for(lambda: device_state().get("cameras") == ["camera-1", "document"], timeout=20)
        # The seat camera is the judge's picture; the document camera the courtroom's own.
        await judge.wait_for(lambda: judge.of_type("presence")[-1]["participants"]
                             [inv["judge"]["participant_id"]].get("video") is True, timeout=20)

        plaintiff = await Client.connect(hub.ws_url(h["hearing_id"], inv["plaintiff"]["token"]))
        observer = await Client.connect(hub.ws_url(h["hearing_id"], inv["observer"]["token"]))
        ask = {"type": "device.capture", "device_id": device["device_id"], "source": "document", "name": "借条原件"}
        await observer.send_json(ask)
        await observer.wait_for(lambda: bool(observer.of_type("error")))
        assert observer.of_type("error")[0]["error"]["code"] == "forbidden"
        for wrong in ({"device_id": "d-000000000000"}, {"source": "camera-9"}, {"name": ""}):
            before = len(plaintiff.of_type("error"))
            await plaintiff.send_json({**ask, **wrong})
            await plaintiff.wait_for(lambda: len(plaintiff.of_type("error")) > before)
        await plaintiff.send_json(ask)

        def filed() -> list[dict[str, Any]]:
            return [e["event"]["evidence"] for e in judge.events if e["event"]["kind"] == "evidence.added"]
        await judge.wait_for(lambda: bool(filed()), timeout=20)
        item = filed()[0]
        assert item["name"] == "借条原件" and item["media_type"] == "image/jpeg"
        assert item["uploader"]["participant_id"] == inv["plaintiff"]["participant_id"]
        requested = plaintiff.of_type("device.capture")
        assert requested and requested[0]["status"] == "requested"
        # The capture id was good once: the device cannot file it again.
        r = await asyncio.to_thread(
            httpx.post, f"{hub.url}/api/hearings/{h['hearing_id']}/evidence",
            params={"name": "再来一张", "capture": requested[0]["capture_id"]},
            headers={"Authorization": f"Bearer {device['credential']}"}, content=b"\xff\xd8\xff\xe0")
        assert r.status_code == 404
        photo = await asyncio.to_thread(
            httpx.get, f"{hub.url}/api/hearings/{h['hearing_id']}/evidence/{item['id']}",
            headers={"Authorization": f"Bearer {inv['judge']['token']}"})
        assert photo.status_code == 200 and photo.content[:2] == b"\xff\xd8" and len(photo.content) > 2000
        # The judge approves it as any other evidence.
        assert (await judge.op({"kind": "evidence.approve", "evidence_id": item["id"]}))["type"] == "ack"
        for c in (judge, plaintiff, observer):
            await c.close()

    try:
        run(main())
        assert "photo from document filed as evidence 借条原件" in log.read_text()
    finally:
        agent.kill()
        hub.stop()


def test_one_touch_fingerprint_from_the_seat_reader_goes_into_the_signature(tmp_path: Path,
                                                                          pulse: PrivatePulse) -> None:
    """The real libfprint, with its virtual_image driver (as libfprint tests
    itself): the defendant's seat has a reader; at signing their screen asks
    for a print, the agent captures it, and the defendant's own signature
    carries it into the record and the 笔录."""
    need_libfprint()
    hub = HubProcess.with_speech(tmp_path / "data").start()
    device = issue_device(hub)
    h = hub.create_hearing(PEOPLE, courtroom=ROOM)
    inv = invites_by_role(h)
    defendant = inv["defendant"]["participant_id"]
    config = room_config(tmp_path, hub, device["credential"])
    config.write_text(config.read_text(encoding="utf-8").replace(
        'channel = 4\nrole = "defendant"\n', 'channel = 4\nrole = "defendant"\nfingerprint = "virtual_image"\n'),
        encoding="utf-8")
    reader = tmp_path / "reader.sock"
    log = tmp_path / "agent.log"
    agent = subprocess.Popen([sys.executable, "-m", "courtroom.cli", "room", "--config", str(config)],
                             stdout=log.open("ab"), stderr=subprocess.STDOUT,
                             env={**pulse.env(source="room.monitor", sink="ceiling"), "FP_VIRTUAL_IMAGE": str(reader)})

    async def main() -> None:
        judge = await Client.connect(hub.ws_url(h["hearing_id"], inv["judge"]["token"]))
        dc = await Client.connect(hub.ws_url(h["hearing_id"], inv["defendant"]["token"]))
        pc = await Client.connect(hub.ws_url(h["hearing_id"], inv["plaintiff"]["token"]))

        def readers_now() -> list[str]:
            presence = judge.of_type("presence")
            return presence[-1].get("devices", {}).get(device["device_id"], {}).get("fingerprints", []) \
                if presence else []
        await judge.wait_for(lambda: readers_now() == [defendant], timeout=30)
        ask = {"type": "device.capture", "device_id": device["device_id"], "source": "fingerprint"}

        async def error_for(client: Client) -> str:
            before = len(client.of_type("error"))
            await client.send_json(ask)
            await client.wait_for(lambda: len(client.of_type("error")) > before)
            return client.of_type("error")[-1]["error"]["code"]
        assert await error_for(dc) == "conflict"  # not locked yet: nothing to sign
        for op in ({"kind": "hearing.end"}, {"kind": "transcript.lock"}):
            assert (await judge.op(op))["type"] == "ack"
        assert await error_for(pc) == "not_found"  # no reader at the plaintiff's seat
        await asyncio.sleep(6)  # the agent looked again, and stays in the ended hearing for the signing
        await dc.send_json(ask)
        await asyncio.to_thread(press, reader, synthetic_print(1))
        await dc.wait_for(lambda: any(m.get("status") == "done" for m in dc.of_type("device.capture")), timeout=30)
        done = next(m for m in dc.of_type("device.capture") if m.get("status") == "done")
        assert done["fingerprint"].startswith("data:image/png;base64,")
        answer = await dc.op({"kind": "signature.add", "fingerprint": done["fingerprint"]})
        assert answer["type"] == "ack"
        await judge.wait_for(lambda: any(e["event"]["kind"] == "signature.added" for e in judge.events))
        signed = next(e["event"] for e in judge.events if e["event"]["kind"] == "signature.added")
        assert signed["signature"]["fingerprint"] == done["fingerprint"]
        assert signed["signature"]["transcript_hash"]
        for c in (judge, dc, pc):
            await c.close()

    try:
        run(main())
        text = httpx.get(f"{hub.url}/api/hearings/{h['hearing_id']}/export", params={"format": "txt"},
                         headers={"Authorization": f"Bearer {inv['judge']['token']}"}).text
        assert "李四" in text and "指纹" in text
        assert "print taken" in log.read_text()
    finally:
        agent.kill()
        hub.stop()


def test_the_agent_waits_for_an_unplugged_interface_and_comes_back(tmp_path: Path,
                                                                   interface: PrivatePulse) -> None:
    pulse = interface
    hub = HubProcess.with_speech(tmp_path / "data").start()
    device = issue_device(hub)
    h = hub.create_hearing(PEOPLE, courtroom=ROOM)
    inv = invites_by_role(h)
    plaintiff = inv["plaintiff"]["participant_id"]
    log = tmp_path / "agent.log"
    agent = start_agent(pulse, room_config(tmp_path, hub, device["credential"]), log)

    async def main() -> None:
        judge = await Client.connect(hub.ws_url(h["hearing_id"], inv["judge"]["token"]))
        await seats_connected(judge, [plaintiff], 30)
        pulse.unplug("room")  # the interface with the seat inputs and the loudspeaker outputs
        pulse.unplug("ceiling")
        for _ in range(30):
            await asyncio.sleep(0.5)
            if "waiting for the sound device" in log.read_text():
                break
        text = log.read_text()
        assert "media lost" in text and "waiting for the sound device" in text, text[-2000:]
        pulse.plug("room", 4)
        pulse.plug("ceiling", 2)
        sys.path.insert(0, str(SHARED / "testing"))
        from tonespeech import synthesize  # type: ignore[import-not-found]
        pcm, _ = synthesize([(0.0, 2, "没有 异议")], rate=48_000, channels=4)
        await asyncio.sleep(8)  # the agent's backoff finds the interface again
        before = len(segments_of(judge))
        player = await asyncio.to_thread(pulse.play, "room", pcm, 4)
        await judge.wait_for(lambda: any(s["text"] == "没有异议。" and s["speaker"]["participant_id"] == plaintiff
                                         for s in segments_of(judge)[before:]), timeout=30)
        player.wait(10)
        await judge.close()

    try:
        run(main())
        assert agent.poll() is None
    finally:
        agent.kill()
        hub.stop()


def test_a_muted_seat_is_neither_forwarded_nor_transcribed(tmp_path: Path, pulse: PrivatePulse) -> None:
    hub = HubProcess.with_speech(tmp_path / "data").start()
    device = issue_device(hub)
    h = hub.create_hearing(PEOPLE, courtroom=ROOM)
    inv = invites_by_role(h)
    plaintiff, clerk = inv["plaintiff"]["participant_id"], inv["clerk"]["participant_id"]
    agent = start_agent(pulse, room_config(tmp_path, hub, device["credential"]), tmp_path / "agent.log")
    sys.path.insert(0, str(SHARED / "testing"))
    from tonespeech import synthesize  # type: ignore[import-not-found]
    # The plaintiff (seat 3) and then the clerk (seat 2), each clearly on their own microphone.
    pcm, _ = synthesize([(0.0, 2, "原告 陈述 诉讼 请求"), (3.0, 1, "核对 当事人 身份")], rate=48_000, channels=4)

    async def main() -> None:
        judge = await Client.connect(hub.ws_url(h["hearing_id"], inv["judge"]["token"]))
        await seats_connected(judge, [plaintiff, clerk], 30)
        assert (await judge.op({"kind": "participant.mute", "participant_id": plaintiff, "muted": True}))["type"] == "ack"
        player = await asyncio.to_thread(pulse.play, "room", pcm, 4)
        await judge.wait_for(lambda: any(s["speaker"]["participant_id"] == clerk for s in segments_of(judge)),
                             timeout=30)
        player.wait(10)
        await asyncio.sleep(1.5)
        assert [s["speaker"]["participant_id"] for s in segments_of(judge)] == [clerk]
        assert not [m for m in judge.of_type("partial") if m["participant_id"] == plaintiff and m["text"]]
        await judge.close()

    try:
        run(main())
    finally:
        agent.kill()
        hub.stop()
