"""The room's promise, in-process: memory never holds a change the log
does not."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

import pytest

from courtroom.hub import HearingUnavailable, Hub
from courtroom.stream import Reply
from transcript.roles import Role, Site
from transcript.state import OPS, TranscriptState


def test_an_op_that_fails_halfway_is_not_kept_in_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def half_lock(state: TranscriptState, actor: Any, op: Any) -> Any:
        state.record.freeze("0" * 64)  # changed in memory...
        raise RuntimeError("...and then failed before an event existed")

    async def main() -> None:
        hub = Hub(tmp_path)
        await hub.start()
        try:
            info, tokens = await hub.create_hearing("(2026)京0105民初1号", "买卖合同纠纷", "朝阳法院",
                                                    [(Role.JUDGE, "王法官", Site.COURT)])
            room = await hub.room(info.hearing_id)
            assert room is not None
            judge = tokens[0][0]
            monkeypatch.setitem(OPS, "transcript.lock", dataclasses.replace(OPS["transcript.lock"], handle=half_lock))
            reply = Reply(judge)
            room.submit(reply, "lock-1", {"kind": "transcript.lock"})
            with pytest.raises(ConnectionError):
                await reply.answer
            assert room.broken
            with pytest.raises(HearingUnavailable):
                await hub.room(info.hearing_id)
            await asyncio.sleep(0.05)  # the committer evicts the room
            monkeypatch.undo()
            again = await hub.room(info.hearing_id)
            assert again is not None and again is not room and not again.state.locked
            reply = Reply(judge)
            again.submit(reply, "lock-1", {"kind": "transcript.lock"})
            assert (await reply.answer)["type"] == "ack" and again.state.locked
        finally:
            await hub.close()

    asyncio.run(main())


class Screen:
    """A connected client as the room sees one (what a session is to it)."""
    live = True
    waiting_since = None
    wants_snapshot = False

    def __init__(self, participant: Any) -> None:
        self.participant = participant
        self.closed: list[str] = []

    def push(self, message: str) -> None:
        pass

    def push_replay(self, room: Any, since: int, upto: int, snapshot: str | None = None) -> None:
        pass

    def close_soon(self, code: int, reason: str) -> None:
        self.closed.append(reason)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_an_idle_hearing_leaves_memory_and_comes_back_from_its_log(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """Eviction is what lets a node hold only the hearings in use, and hand
    one to another node: nothing is lost, and a straggler holding the old
    room is sent to load it again."""
    database = request.getfixturevalue("postgres") if backend == "postgresql" else None

    async def main() -> None:
        hub = Hub(tmp_path, database=database, evict_after=0.0)
        await hub.start()
        try:
            info, tokens = await hub.create_hearing("(2026)京0105民初2号", "借款合同纠纷", "朝阳法院",
                                                    [(Role.JUDGE, "王法官", Site.COURT),
                                                     (Role.CLERK, "李书记员", Site.COURT)])
            judge, clerk = tokens[0][0], tokens[1][0]
            room = await hub.room(info.hearing_id)
            assert room is not None
            screen = Screen(judge)
            room.join(screen)
            reply = Reply(clerk)
            room.submit(reply, "s1", {"kind": "segment.add", "text": "现在开庭。"})
            assert not room.idle()
            assert (await reply.answer)["type"] == "ack"
            assert hub.evict_idle() == [] and info.hearing_id in hub.loaded()  # a screen is connected
            room.leave(screen)
            assert hub.evict_idle() == [info.hearing_id] and info.hearing_id not in hub.loaded()
            late = Reply(clerk)
            room.submit(late, "s2", {"kind": "segment.add", "text": "核对当事人身份。"})
            with pytest.raises(ConnectionError):
                await late.answer
            again = await hub.room(info.hearing_id)
            assert again is not None and again is not room
            assert again.seq == room.seq and again.head == room.head
            assert again.snapshot() == room.snapshot()
            reply = Reply(clerk)
            again.submit(reply, "s1", {"kind": "segment.add", "text": "现在开庭。"})  # resent: answered as before
            assert (await reply.answer) == {"type": "ack", "op_id": "s1", "seq": 2}
        finally:
            await hub.close()

    asyncio.run(main())
