"""The hub's side of the live stream (courtroom/live/service.py): the
composer follows the hearing's state; a composer that died is started
again; stopping removes every public file; a playlist nobody rewrites is
not served; the control file names the protected, the public one does not."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from courtroom.live.composer import NICE
from courtroom.live.service import LiveStreams, playlist_path
from transcript.roles import Role
from tests.corefixtures import PEOPLE, new_state

JUDGE, WITNESS = PEOPLE[Role.JUDGE], PEOPLE[Role.WITNESS]


def test_the_composer_follows_the_hearing(tmp_path: Path) -> None:
    live = LiveStreams(tmp_path, tmp_path / "recordings")
    state = new_state()
    assert not live.follow("h-test", state, 0) and not live.public("h-test").exists()
    state.apply(JUDGE, {"kind": "stream.start", "delay_s": 30})
    state.apply(JUDGE, {"kind": "participant.protect", "participant_id": WITNESS.participant_id, "protected": True})
    try:
        assert live.follow("h-test", state, int(time.time() * 1000))
        assert live.streaming("h-test") and playlist_path(live.root, "h-test") is not None
        # Below the hub: the hearings come first.
        pid = live._running["h-test"][1].pid
        deadline = time.monotonic() + 10
        while os.getpriority(os.PRIO_PROCESS, pid) - os.getpriority(os.PRIO_PROCESS, 0) != NICE:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        public = json.loads((live.public("h-test") / "stream.json").read_text())
        assert public == {"case_number": "(2026)京0105民初1号", "title": "买卖合同纠纷",
                          "court": "北京市朝阳区人民法院", "delay_s": 30}
        control = json.loads(live.control_path("h-test").read_text())
        assert control["protected"] == [WITNESS.participant_id]
        assert live.root not in live.control_path("h-test").parents  # never served
        # A change is told, not restarted.
        state.apply(JUDGE, {"kind": "participant.protect", "participant_id": WITNESS.participant_id,
                            "protected": False})
        assert not live.follow("h-test", state, 0)
        assert json.loads(live.control_path("h-test").read_text())["protected"] == []
        # A composer that died is started again.
        live._running["h-test"][1].kill()
        live._running["h-test"][1].wait()
        assert not live.streaming("h-test")
        assert live.follow("h-test", state, 0) and live.streaming("h-test")
        state.apply(JUDGE, {"kind": "stream.stop"})
        live.follow("h-test", state, 0)
        assert not live.streaming("h-test") and not live.public("h-test").exists()
        assert not live.control_path("h-test").exists()
    finally:
        live.close()


def test_a_playlist_nobody_rewrites_is_not_served(tmp_path: Path) -> None:
    folder = tmp_path / "h-test"
    folder.mkdir()
    (folder / "index.m3u8").write_text("#EXTM3U\n")
    assert playlist_path(tmp_path, "h-test") is not None
    old = time.time() - 60
    os.utime(folder / "index.m3u8", (old, old))
    assert playlist_path(tmp_path, "h-test") is None
    assert playlist_path(tmp_path, "h-none") is None
