"""The HTTP API of case spaces (一案一空间).

Court staff (the admin token, for the court's case-management system) file
cases and schedule their hearings. A party reaches its case through its
entry link (the QR code on the papers served on it): the link alone opens
nothing; proving who one is (name and ID number, against the case record)
signs the device in until the case closes or the court revokes it. Every
action is an op in the case's log, judged by ``case.state``; what a
client reads is cut to what its viewer may see (``case.visibility``).
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from importlib import resources
from typing import Annotated, Any, Callable

from fastapi import APIRouter, HTTPException, Query, Request, Response, WebSocket
from starlette.requests import HTTPConnection
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from case.model import CaseRole, Party
from case.ops import new_case
from case.state import CaseActor, CaseState
from case.visibility import STAFF, Viewer, view
from protocol.limits import MAX_OP_ID, Close
from transcript.actors import CASE_SPACE, staff
from transcript.errors import OpError
from transcript.log import LogEntry
from transcript.model import HearingInfo, Participant
from transcript.model import Staff
from transcript.roles import Role, Site

from .access import Access, bearer, credential, same_origin
from .answers import Refused, submit
from .attempts import Attempts
from .bodies import Credential, body_schema, parse_body
from .case_hearings import show_in_hearings
from .casesocket import CaseSocket
from .casespace import CaseSpace
from .evidence import EvidenceStore
from .headers import PAGE_CSP
from .stream import encode
from .hub import HearingUnavailable, Hub
from storage.tokens import hash_token, new_token

log = logging.getLogger(__name__)
_STATIC = resources.files("web") / "static"
CASE_PAGE = (_STATIC / "case.html").read_text(encoding="utf-8")
CONSOLE_PAGE = (_STATIC / "console.html").read_text(encoding="utf-8")
_CASE_ID = re.compile(r"c-[0-9a-f]{16}\Z")

#: A party's device keeps its case session in this cookie (HttpOnly), one
#: per case: ``cs_<case_id>``.
COOKIE_PREFIX = "cs_"
#: Longest a client waits for new events in one request (seconds).
MAX_WAIT = 25.0
#: Failed identity checks (or unknown entry links) allowed per party and per
#: client address within the window, before they are refused for a while.
PARTY_ATTEMPTS = 5
ADDRESS_ATTEMPTS = 20
ATTEMPT_WINDOW = 15 * 60.0
#: Staff who file cases (an administrator files for the court; a judge or a
#: clerk files one they will work on, and is assigned to it).
FILING = ("admin", "judge", "clerk")
#: A case's device session cookie lives as long as a case may (the case's
#: closing ends it on the hub whatever the browser keeps).
SESSION_MAX_AGE = 3 * 365 * 24 * 3600


class OpIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    #: The client's id for the op: the same id sent again gets the first answer.
    op_id: str = Field(default_factory=lambda: secrets.token_hex(8), min_length=1, max_length=MAX_OP_ID)
    op: dict[str, Any]


class EnterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    #: The token of the party's entry link.
    link: str = Field(min_length=1, max_length=256)
    name: str = Field(max_length=100)
    id_number: str = Field(max_length=64)


class HearingOfCaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    #: When it is to sit (ms since the epoch), if known.
    start_ms: int | None = Field(default=None, ge=0, le=4_102_444_800_000)
    waiting_room: bool = False
    courtroom: str | None = Field(default=None, min_length=1, max_length=64)
    #: False: not open to the public (不公开审理); it can never be streamed.
    public: bool = True


def cookie_name(case_id: str) -> str:
    return COOKIE_PREFIX + case_id


def _refused(err: OpError) -> Refused:
    return Refused(err.to_dict())


class CaseAccess:
    """Who is asking about a case, for every case endpoint."""

    def __init__(self, hub: Hub, access: Access) -> None:
        self.hub = hub
        self.access = access

    async def space_of(self, case_id: str) -> CaseSpace:
        try:
            space = await self.hub.case(case_id)
        except HearingUnavailable as err:
            raise HTTPException(503, str(err)) from None
        if space is None:
            raise HTTPException(404, f"no case {case_id}")
        return space

    async def staff_only(self, request: Request, token: str) -> Staff:
        who = await self.access.staff(request, token)
        if who is None:
            raise HTTPException(401, "the admin token or a staff sign-in is required")
        return who

    async def who(self, case_id: str, request: HTTPConnection, token: str) -> tuple[CaseSpace, CaseActor, Viewer]:
        """Court staff with a capacity in this case, or a party signed in on
        this device; 401 (403 for staff not on the case) otherwise. What
        each may do, the case's core judges op by op."""
        court = await self.access.staff(request, token)
        if court is not None:
            space = await self.space_of(case_id)
            try:
                space.state.role_of(court)
            except OpError as err:
                raise _refused(err) from None
            return space, court, STAFF
        session = bearer(request.headers.get("authorization")) or request.query_params.get("token", "")
        if not session and same_origin(request):  # the cookie only from the hub's own pages
            session = request.cookies.get(cookie_name(case_id), "")
        party_id = await self.hub.case_party(case_id, session) if 0 < len(session) <= 256 else None
        if party_id is None:
            raise HTTPException(401, "sign in to this case first (its entry link and an identity check)")
        space = await self.space_of(case_id)
        party = space.state.parties[party_id]
        wait = space.admits(party_id)
        if wait:
            raise HTTPException(429, "too many requests; try again shortly",
                                headers={"Retry-After": str(max(1, round(wait)))})
        return space, party, Viewer.of(party)


def case_routes(hub: Hub, cases: CaseAccess, base_url: Callable[[Request], str],
                invite: Callable[..., dict[str, Any]], store: EvidenceStore) -> APIRouter:
    router = APIRouter()
    attempts = Attempts(PARTY_ATTEMPTS, ATTEMPT_WINDOW)
    by_address = Attempts(ADDRESS_ATTEMPTS, ATTEMPT_WINDOW)
    space_of, staff_only, who = cases.space_of, cases.staff_only, cases.who

    def address(request: Request) -> str:
        return "addr:" + (request.client.host if request.client else "?")

    def check_attempts(*keys: str) -> None:
        wait = max(attempts.blocked(*keys[:1]), by_address.blocked(*keys[1:]))
        if wait:
            raise HTTPException(429, "too many failed attempts; try again later",
                                headers={"Retry-After": str(max(1, round(wait)))})

    def failed(party_key: str | None, addr: str, why: str) -> None:
        log.warning("case identity check failed (%s) from %s%s", why, addr[5:],
                    f" for {party_key[6:]}" if party_key else "")
        if party_key:
            attempts.failed(party_key)
        by_address.failed(addr)

    # -- filing ---------------------------------------------------------------

    @router.post("/api/cases", status_code=201)
    async def create_case(request: Request, token: Credential) -> dict[str, Any]:
        """File a case with its parties; each party's entry link is in the
        answer (and on the notice the hub prints for it), shown once."""
        filer = await staff_only(request, token)  # before a byte of the body is read
        if filer.role not in FILING:
            raise HTTPException(403, "cases are filed by the court's administrators, judges and clerks")
        try:
            body = new_case(await _json(request))
        except OpError as err:
            raise _refused(err) from None
        space, links = await hub.create_case(body, filer)
        base = base_url(request)
        return {"case_id": space.case_id,
                "parties": [{**p.label(), "entry_url": f"{base}/c/{space.case_id}#k={links[p.party_id]}"}
                            for p in space.state.parties.values()]}

    @router.get("/api/cases")
    async def list_cases(request: Request, token: Credential) -> dict[str, Any]:
        """The cases the caller works on (an administrator: every case)."""
        court = await staff_only(request, token)
        out = []
        for case_id in await hub.case_ids():
            space = await hub.view(case_id)
            if not isinstance(space, CaseSpace):
                continue
            info = space.state.info
            assert info is not None
            try:
                space.state.role_of(court)
            except OpError:
                continue
            out.append({**info.to_dict(), "closed": space.state.closed, "seq": space.committed_seq,
                        "unread": len(unread_by_court(space.state)), "ratings": ratings(space.state)})
        return {"cases": out}

    @router.get("/api/cases/{case_id}")
    async def read_case(case_id: str, request: Request, token: Credential) -> dict[str, Any]:
        space, actor, viewer = await who(case_id, request, token)
        me = {"staff": True} if viewer.court else {"party": actor.label(), "thread": viewer.thread}
        return {"seq": space.committed_seq, "me": me, **view(space.state, viewer)}

    @router.get("/api/cases/{case_id}/events")
    async def case_events(case_id: str, request: Request, token: Credential,
                          since: Annotated[int, Query(ge=0)] = 0,
                          wait: Annotated[float, Query(ge=0, le=MAX_WAIT)] = 0) -> dict[str, Any]:
        """The events after ``since`` that the caller may see; with ``wait``,
        held up to that many seconds until there is something new."""
        space, _, viewer = await who(case_id, request, token)
        if wait and space.committed_seq <= since:
            await space.wait(since, wait)
        return {"seq": space.committed_seq, "events": space.events_since(viewer, since)}

    @router.post("/api/cases/{case_id}/ops", openapi_extra=body_schema(OpIn))
    async def case_op(case_id: str, request: Request, token: Credential) -> dict[str, Any]:
        """One op of the caller's, answered once it is durable."""
        space, actor, _ = await who(case_id, request, token)
        body = await parse_body(request, OpIn)
        checking = body.op.get("kind") == "identity.check" and isinstance(actor, Party)
        if checking:
            assert isinstance(actor, Party)
            check_attempts(f"party:{case_id}/{actor.party_id}", address(request))
        try:
            return await submit(space, actor, body.op_id, body.op)
        except Refused as err:
            if checking and err.error["code"] == "forbidden":
                assert isinstance(actor, Party)
                failed(f"party:{case_id}/{actor.party_id}", address(request), "mismatch")
            raise

    @router.websocket("/ws/cases/{case_id}")
    async def case_socket(ws: WebSocket, case_id: str) -> None:
        """The case, live: events as the caller may see them, and its ops."""
        await ws.accept()
        try:
            space, actor, viewer = await who(case_id, ws, credential(ws))
        except (HTTPException, Refused) as err:
            status = err.status_code if isinstance(err, HTTPException) else err.status
            code = Close.UNAVAILABLE if status == 503 else Close.REVOKED
            message = str(err.detail) if isinstance(err, HTTPException) else err.error["message"]
            await ws.send_text(encode({"type": "error", "error": {"code": "forbidden" if code != Close.UNAVAILABLE
                                                                  else "unavailable", "message": message}}))
            await ws.close(code)
            return
        await CaseSocket(ws, space, actor, viewer).run()

    # -- pages -------------------------------------------------------------------

    @router.get("/c/{case_id}")
    async def case_page(case_id: str) -> HTMLResponse:
        """The case space on a party's phone. Its entry link carries the
        link token after ``#``: it never reaches the server in a URL, and
        the page takes it out of the address bar at once."""
        if not _CASE_ID.match(case_id):
            raise HTTPException(404, "no such case")
        html = CASE_PAGE.replace('<meta name="case" content="">', f'<meta name="case" content="{case_id}">')
        return HTMLResponse(html, headers={"Cache-Control": "no-store", "Content-Security-Policy": PAGE_CSP})

    @router.get("/console")
    async def console_page() -> HTMLResponse:
        """The staff console (sign-in, cases, the parties' messages...)."""
        return HTMLResponse(CONSOLE_PAGE, headers={"Cache-Control": "no-store", "Content-Security-Policy": PAGE_CSP})

    # -- entry ------------------------------------------------------------------

    @router.post("/api/cases/{case_id}/enter", openapi_extra=body_schema(EnterIn))
    async def enter(case_id: str, request: Request, response: Response) -> dict[str, Any]:
        """Prove who one is with the entry link: name and ID number against
        the case record. Passed, the device is signed in (cookie, and the
        session in the answer for programs)."""
        addr = address(request)
        check_attempts("", addr)
        body = await parse_body(request, EnterIn)
        party_id = await hub.case_link_party(case_id, body.link)
        if party_id is None:
            failed(None, addr, "unknown entry link")
            raise HTTPException(404, "this entry link is not valid (it may have been replaced); ask the court")
        key = f"party:{case_id}/{party_id}"
        check_attempts(key, addr)
        space = await space_of(case_id)
        if space.state.closed:
            raise HTTPException(409, "the case is closed")
        party = space.state.parties[party_id]
        try:
            answer = await submit(space, party, f"enter-{secrets.token_hex(8)}",
                                  {"kind": "identity.check", "purpose": "entry", "name": body.name,
                                   "id_number": body.id_number})
        except Refused as err:
            if err.error["code"] in ("forbidden", "invalid"):
                failed(key, addr, "mismatch")
            raise
        attempts.succeeded(key)
        session = await hub.sign_in_case(case_id, party_id)
        response.set_cookie(cookie_name(case_id), session, max_age=SESSION_MAX_AGE, httponly=True,
                            samesite="strict", secure=request.url.scheme == "https", path="/")
        return {"party": party.label(), "session": session, "seq": answer["seq"]}

    # -- hearings -------------------------------------------------------------------

    @router.post("/api/cases/{case_id}/hearings", status_code=201, openapi_extra=body_schema(HearingOfCaseIn))
    async def schedule_hearing(case_id: str, request: Request, token: Credential) -> dict[str, Any]:
        """A hearing of the case: its judge and clerk and every party take
        part; answered as ``POST /api/hearings`` is."""
        space, actor, _ = await who(case_id, request, token)
        body = await parse_body(request, HearingOfCaseIn)
        state = space.state
        try:
            state.check(actor, "hearing.schedule")
        except OpError as err:
            raise _refused(err) from None
        people, order = seats_of(state)

        held: list[LogEntry] = []

        def scheduled(info: HearingInfo, tokens: list[tuple[Participant, str]]) -> tuple[CaseSpace, LogEntry]:
            """The case's entry scheduling it, written with the hearing's first."""
            seats = {party_id: p.participant_id for party_id, (p, _) in zip(order, tokens[2:])}
            held.append(space.hold(actor, f"hearing-{info.hearing_id}", {
                "kind": "hearing.schedule", "hearing_id": info.hearing_id,
                **({"start_ms": body.start_ms} if body.start_ms is not None else {}), "seats": seats}))
            return space, held[0]
        try:
            info, tokens = await hub.create_hearing(state.info.case_number, state.info.cause, state.info.court,
                                                    people, body.waiting_room, body.courtroom, along=scheduled,
                                                    public=body.public)
        except OpError as err:
            raise _refused(err) from None
        await show_in_hearings(hub, space, store)
        return {"hearing_id": info.hearing_id, "case_seq": held[0].seq,
                "invites": [invite(base_url(request), info.hearing_id, p, t) for p, t in tokens]}

    @router.post("/api/cases/{case_id}/mediation/sessions", status_code=201)
    async def mediation_session(case_id: str, request: Request, token: Credential) -> dict[str, Any]:
        """A video session of the case's open mediation, through the same
        media hub as hearings but never transcribed: the mediator runs it,
        every party is seated (and enters from its space after the
        mediation identity check). Answered as ``POST /api/hearings``."""
        space, actor, _ = await who(case_id, request, token)
        state = space.state
        try:
            state.check(actor, "mediation.session")
            state.open_mediation()
        except OpError as err:
            raise _refused(err) from None
        assert state.info is not None
        people, order = seats_of(state)
        people = [(Role.MEDIATOR, str(state.label(actor)["name"]), Site.COURT)] + people[2:]

        held: list[LogEntry] = []

        def started(info: HearingInfo, tokens: list[tuple[Participant, str]]) -> tuple[CaseSpace, LogEntry]:
            """The case's entry of the session, written with the session's first."""
            seats = {party_id: p.participant_id for party_id, (p, _) in zip(order, tokens[1:])}
            held.append(space.hold(actor, f"session-{info.hearing_id}",
                                   {"kind": "mediation.session", "hearing_id": info.hearing_id, "seats": seats}))
            return space, held[0]
        try:
            info, tokens = await hub.create_hearing(state.info.case_number, f"{state.info.cause}（在线调解）",
                                                    state.info.court, people, kind="mediation", along=started)
        except OpError as err:
            raise _refused(err) from None
        return {"hearing_id": info.hearing_id, "case_seq": held[0].seq,
                "invites": [invite(base_url(request), info.hearing_id, p, t) for p, t in tokens]}

    @router.post("/api/cases/{case_id}/hearings/{hearing_id}/join")
    async def join_hearing(case_id: str, hearing_id: str, request: Request, token: Credential) -> dict[str, Any]:
        """A party's way into a hearing of its case from its space: after its
        identity check for the hearing (logged as ``hearing.join``), the hub
        issues the party's seat a new invite (the old one stops working;
        logged in the hearing as ``invite.reissue`` by the case space) and
        answers its join link."""
        space, actor, _ = await who(case_id, request, token)
        if not isinstance(actor, Party):
            raise HTTPException(403, "staff join a hearing with their own link")
        mediation = space.state.mediation
        kind = "mediation.join" if mediation is not None and any(
            h.hearing_id == hearing_id for h in mediation.sessions) else "hearing.join"
        answer = await submit(space, actor, f"join-{secrets.token_hex(8)}", {"kind": kind, "hearing_id": hearing_id})
        participant_id = space.history[answer["seq"] - 1]["participant_id"]
        try:
            room = await hub.room(hearing_id)
        except HearingUnavailable as err:
            raise HTTPException(503, str(err)) from None
        if room is None:
            raise HTTPException(404, f"no hearing {hearing_id}")
        fresh = new_token()
        await submit(room, staff(CASE_SPACE), f"case-join-{secrets.token_hex(8)}",
                     {"kind": "invite.reissue", "participant_id": participant_id, "token_hash": hash_token(fresh)})
        return invite(base_url(request), hearing_id, room.state.participant(participant_id), fresh)

    return router


def seats_of(state: CaseState) -> tuple[list[tuple[Role, str, Site]], list[str]]:
    """Who takes part in a hearing of the case: its judge and clerk in the
    courtroom, then every party, remote; and the parties' ids in order."""
    assert state.info is not None
    judge = state.info.staff.get(CaseRole.JUDGE)
    clerk = state.info.staff.get(CaseRole.CLERK)
    people: list[tuple[Role, str, Site]] = [(Role.JUDGE, judge.name if judge else "审判员", Site.COURT),
                                            (Role.CLERK, clerk.name if clerk else "书记员", Site.COURT)]
    order = list(state.parties)
    people += [(p.role, p.name, Site.REMOTE) for p in state.parties.values()]
    return people, order


def unread_by_court(state: CaseState) -> list[str]:
    """The parties' messages no one of the court has read yet."""
    return [m.id for m in state.messages.values()
            if not m.from_court and not any(reader.startswith("staff:") for reader in m.read)]


def ratings(state: CaseState) -> dict[str, dict[str, Any]]:
    """The parties' ratings of the court's replies in a case, per member of
    staff who replied: ``{staff_id: {"name", rating: count...}}``."""
    out: dict[str, dict[str, Any]] = {}
    for m in state.messages.values():
        if m.from_court and m.rating is not None:
            who = out.setdefault(str(m.author.get("staff_id")), {"name": m.author.get("name")})
            who[m.rating["rating"]] = who.get(m.rating["rating"], 0) + 1
    return out


async def _json(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except ValueError:
        raise HTTPException(400, "the body must be JSON") from None
