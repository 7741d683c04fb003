"""One case's authority: a stream (``stream.Stream``) whose state is the
case (``case.state.CaseState``), and the clients that follow it.

A case is followed over HTTP: a client asks for the events after the last
seq it has, and waits (long polling) when there are none yet. Each client
gets only the events its viewer may see (``case.visibility``), so one
party's conversation with the court never reaches the other side.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from case.state import CaseActor, CaseState
from case.visibility import Viewer, shown
from transcript.log import LogEntry

from .stream import Event, Stream

if TYPE_CHECKING:
    from .hub import Hub


class CaseSpace(Stream):
    state: CaseState
    RELOADING = "case is reloading"

    def __init__(self, hub: Hub, case_id: str, state: CaseState, entries: list[LogEntry]) -> None:
        #: Every committed event, by seq - 1.
        self.history: list[Event] = []
        self.created_ms = entries[0].ts_ms if entries else 0
        self._changed = asyncio.Event()
        super().__init__(hub, case_id, state, entries)

    @property
    def case_id(self) -> str:
        return self.stream_id

    def _record(self, entry: LogEntry) -> None:
        super()._record(entry)
        self.history.append(entry.event)

    def _apply(self, actor: CaseActor, op: Any, now_ms: int) -> Event:
        return self.state.apply(actor, op, now_ms)

    def _published(self, entry: LogEntry) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    def events_since(self, viewer: Viewer, since: int) -> list[dict[str, Any]]:
        """The committed events after seq ``since`` that ``viewer`` sees."""
        out = []
        for seq in range(max(since, 0) + 1, self.committed_seq + 1):
            event = shown(viewer, self.history[seq - 1])
            if event is not None:
                out.append({"seq": seq, "event": event})
        return out

    async def wait(self, since: int, timeout: float) -> None:
        """Return once something after seq ``since`` is committed (or the
        case reloads), or after ``timeout`` seconds."""
        if self.committed_seq > since or self.broken:
            return
        try:
            await asyncio.wait_for(self._changed.wait(), timeout)
        except TimeoutError:
            pass

    def fail(self, reason: str) -> None:
        super().fail(reason)
        self._changed.set()
