"""Who is asking, for every HTTP request: court staff (the admin token) or
a participant of the hearing (their invite token), and whether that
participant may see the hearing now.

A participant the judge has not admitted (waiting, or removed) reads
nothing of the hearing: not its transcript, exports, evidence or
recordings (a witness must not follow the hearing before testifying).
"""

from __future__ import annotations

import re
import urllib.parse

from fastapi import HTTPException
from starlette.requests import HTTPConnection

from transcript.actors import staff
from transcript.model import Actor, Participant, Staff

from .hub import HearingUnavailable, Hub
from storage.tokens import tokens_match
from .room import Room


#: The hearing page keeps its invite token in this cookie (HttpOnly, so no
#: script can read it), one per participant so that two participants can
#: use one browser; the page names itself with ``?as=<participant_id>``.
COOKIE_PREFIX = "ct_"
_PARTICIPANT_ID = re.compile(r"p-[0-9a-f]{12}\Z")


def bearer(authorization: str | None) -> str:
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return ""


def cookie_name(participant_id: str) -> str:
    return COOKIE_PREFIX + participant_id


def is_participant_id(value: str) -> bool:
    return _PARTICIPANT_ID.match(value) is not None


def credential(conn: HTTPConnection) -> str:
    """The token a request or websocket carries: ``Authorization: Bearer``,
    else ``?token=`` (programs, links), else the page's cookie for the
    participant named by ``?as=``. A cookie is only taken from the hub's own
    pages: a websocket opened by another site's page is refused it."""
    token = bearer(conn.headers.get("authorization")) or conn.query_params.get("token", "")
    if token:
        return token
    who = conn.query_params.get("as", "")
    if not is_participant_id(who) or not same_origin(conn):
        return ""
    return conn.cookies.get(cookie_name(who), "")


def same_origin(conn: HTTPConnection) -> bool:
    """Whether the request comes from a page of this hub (or from a program,
    which sends no ``Origin``)."""
    origin = conn.headers.get("origin")
    if origin is None:
        return True
    return urllib.parse.urlsplit(origin).netloc == conn.headers.get("host", "")


#: The staff console keeps its session in this cookie (HttpOnly, SameSite=Strict).
STAFF_COOKIE = "ct_staff"


class Access:
    def __init__(self, hub: Hub, admin_token_hash: str) -> None:
        self.hub = hub
        self.admin_token_hash = admin_token_hash

    def is_admin(self, token: str) -> bool:
        return bool(token) and tokens_match(token, self.admin_token_hash)

    async def staff(self, conn: HTTPConnection, token: str) -> Staff | None:
        """Court staff asking: the admin token, or a staff account's session
        (``Authorization: Bearer``, or the console's cookie, taken only from
        the hub's own pages); None for anyone else."""
        if self.is_admin(token):
            return staff("admin")
        session = bearer(conn.headers.get("authorization"))
        if not session and same_origin(conn):
            session = conn.cookies.get(STAFF_COOKIE, "")
        account = await self.hub.staff_session(session)
        if account is None:
            return None
        return Staff(account.staff_id, account.name, account.role)

    async def administrator(self, conn: HTTPConnection, token: str) -> Staff:
        """The admin token or an administrator's session; 401/403 otherwise."""
        who = await self.staff(conn, token)
        if who is None:
            raise HTTPException(401, "the admin token or a staff sign-in is required")
        if who.role != "admin":
            raise HTTPException(403, "only a court administrator may do this")
        return who

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
        wait = room.admits(participant.participant_id)
        if wait:
            raise HTTPException(429, "too many requests; try again shortly",
                                headers={"Retry-After": str(max(1, round(wait)))})
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
