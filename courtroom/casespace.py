"""One case's authority: a stream (``stream.Stream``) whose state is the
case (``case.state.CaseState``), and the clients that follow it.

A case is followed over its websocket (``casesocket``, live) or over HTTP
(a client asks for the events after the last seq it has, and waits when
there are none yet). Each client gets only the events its viewer may see
(``case.visibility``), so one party's conversation with the court never
reaches the other side.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from case.state import CaseActor, CaseState
from case.visibility import Viewer, shown, view
from protocol.limits import Close
from transcript.log import LogEntry

from .socket import Replay
from .stream import Event, Stream, encode

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
        #: Websocket clients, each with the viewer it reads as.
        self.listeners: set[Any] = set()
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
        kind = entry.event.get("kind")
        for listener in list(self.listeners):
            if not listener.live:
                continue
            event = shown(listener.viewer, entry.event)
            if event is not None:
                listener.push(encode({"type": "event", "seq": entry.seq, "event": event}))
            # Signed out (one party, or everyone as the case closes): its sockets close.
            party = getattr(listener.participant, "party_id", None)
            if party is not None and (kind == "case.closed" or (
                    kind == "party.signed_out" and entry.event["party"]["party_id"] == party)):
                listener.close_soon(Close.REVOKED, "signed out")

    # -- websocket clients ---------------------------------------------------------

    def join(self, listener: Any) -> None:
        self.listeners.add(listener)

    def leave(self, listener: Any) -> None:
        self.listeners.discard(listener)
        for waiters in self._inflight.values():
            while listener in waiters:
                waiters.remove(listener)

    def sync(self, listener: Any, since: int) -> None:
        """Catch a client up (with the case as it sees it, if it asked for a
        snapshot) and go live."""
        upto = self.committed_seq
        snapshot = None
        if listener.wants_snapshot:
            snapshot = encode({"type": "snapshot", "seq": upto, "state": view(self.state, listener.viewer)})
            since = upto
        events = [encode({"type": "event", **e}) for e in self.events_since(listener.viewer, since)
                  if e["seq"] <= upto]
        listener.push_catch_up(Replay(self, events, 0, len(events), upto, listener.batch, snapshot))
        listener.live = True

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
        for listener in list(self.listeners):
            listener.close_soon(Close.UNAVAILABLE, reason)
        self.listeners.clear()
        self._changed.set()
