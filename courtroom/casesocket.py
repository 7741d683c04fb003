"""One websocket client of a case (``/ws/cases/{case_id}``): a stream's
socket (``socket``) that reads the case as its viewer may see it and sends
the case's ops, answered as a hearing's are (ack once durable, or nack).

A party's socket closes (4401) when the court signs the party out or the
case closes; staff keep theirs.
"""

from __future__ import annotations

from typing import Any

from starlette.websockets import WebSocket

from case.model import CaseRole
from case.state import CaseActor, permissions_of
from case.visibility import Viewer
from protocol.limits import MESSAGE_LIMIT

from .casespace import CaseSpace
from .socket import StreamSocket


class CaseSocket(StreamSocket):
    stream: CaseSpace

    def __init__(self, ws: WebSocket, space: CaseSpace, actor: CaseActor, viewer: Viewer) -> None:
        super().__init__(ws, space, actor)
        self.space = space
        self.viewer = viewer

    def _welcome(self) -> dict[str, Any]:
        actor = self.participant
        role = self.space.state.role_of(actor)
        me = self.space.state.label(actor)
        return {"type": "welcome", "case_id": self.space.case_id, "seq": self.space.committed_seq,
                "me": me, "capacity": role.value, "permissions": permissions_of(CaseRole(role)),
                "limits": {"max_message_bytes": MESSAGE_LIMIT}}

    def _join(self) -> None:
        self.space.join(self)

    def _leave(self) -> None:
        self.space.leave(self)

    def _sync(self, since: int) -> None:
        self.space.sync(self, since)
