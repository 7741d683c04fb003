"""Who is asking, for every HTTP request: court staff (the admin token) or
a participant of the hearing (their invite token), and whether that
participant may see the hearing now.

A participant the judge has not admitted (waiting, or removed) reads
nothing of the hearing: not its transcript, exports, evidence or
recordings (a witness must not follow the hearing before testifying).
"""

from __future__ import annotations

from fastapi import HTTPException

from transcript.log import staff
from transcript.model import Actor, Participant

from .hub import HearingUnavailable, Hub
from .invites import tokens_match
from .room import Room


def bearer(authorization: str | None) -> str:
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return ""


class Access:
    def __init__(self, hub: Hub, admin_token_hash: str) -> None:
        self.hub = hub
        self.admin_token_hash = admin_token_hash

    def is_admin(self, token: str) -> bool:
        return bool(token) and tokens_match(token, self.admin_token_hash)

    async def participant(self, hearing_id: str, token: str, *, admitted: bool = True) -> tuple[Room, Participant]:
        """The room and the participant the token admits to; 401 for a token
        that is not (or no longer) valid, 403 while the judge has not admitted
        them (unless ``admitted`` is False)."""
        try:
            auth = await self.hub.authenticate(hearing_id, token)
        except HearingUnavailable as err:
            raise HTTPException(503, str(err)) from None
        if auth is None:
            raise HTTPException(401, "a valid invite token for this hearing is required")
        room, participant = auth
        if admitted and participant.participant_id not in room.state.proceedings.admitted:
            raise HTTPException(403, "waiting to be admitted by the judge")
        return room, participant

    async def actor(self, hearing_id: str, token: str) -> tuple[Room, Actor]:
        """Court staff (the admin token) or an admitted participant."""
        if not self.is_admin(token):
            return await self.participant(hearing_id, token)
        try:
            room = await self.hub.room(hearing_id)
        except HearingUnavailable as err:
            raise HTTPException(503, str(err)) from None
        if room is None:
            raise HTTPException(404, f"no hearing {hearing_id}")
        return room, staff("admin")
