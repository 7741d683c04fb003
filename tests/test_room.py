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
