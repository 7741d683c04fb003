"""The HTTP and websocket surface of the hub; thin on purpose: every rule
lives in ``transcript`` (ops) or ``hub``/``room``/``session`` (delivery)."""

from __future__ import annotations

import gc
import logging
import re
import secrets
import urllib.parse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, HTTPException, Query, Request, WebSocket
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from asr.text import DEFAULT_VOCABULARY
from protocol import wellformed
from protocol.errors import envelope
from protocol.limits import Close
from transcript.canonical import canonical_json
from transcript.errors import OpError
from paperwork.record import EXPORTERS
from transcript.model import Participant
from transcript.ops import MAX_EVIDENCE_BYTES, MAX_NAME, evidence_name
from transcript.roles import Role, Site
from transcript.state import may

from . import __doc__ as _doc
from .access import Access, cookie_name, credential, is_participant_id
from .answers import Refused, submit
from .bodies import Credential, Line, body_schema, parse_body
from .bodylimit import BodyLimit
from storage.equipment import Device
from .case_api import CaseAccess, case_routes
from .case_files import case_file_routes
from .equipment_api import equipment_routes
from .evidence import EvidenceStore, UploadError
from .headers import PAGE_CSP, SecurityHeaders
from .cluster import entry
from .cluster.routing import ToAuthority, cluster_secret
from .hub import JOIN_QUEUE, HearingUnavailable, Hub
from storage.tokens import hash_token, new_token
from .media.recording import audio_clip
from .room import Room
from .stream import encode
from .session import Session
from .live_api import live_routes
from .staff_api import staff_routes
from .video_api import video_routes

log = logging.getLogger(__name__)
MAX_BODY = 256 * 1024
MAX_CLIP_SECONDS = 3600
_EVIDENCE_UPLOAD = re.compile(r"/api/hearings/[^/]+/evidence|/api/cases/[^/]+/(evidence|documents|messages)")
STATIC = resources.files("web") / "static"


class ParticipantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Role
    name: Line = Field(min_length=1, max_length=100)
    site: Site = Site.COURT


class HearingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    case_number: Line = Field(min_length=1, max_length=100)
    title: Line = Field(min_length=1, max_length=200)
    court: Line = Field(min_length=1, max_length=100)
    participants: list[ParticipantIn] = Field(min_length=1, max_length=200)
    waiting_room: bool = False
    #: The courtroom it is held in: that courtroom's equipment joins it.
    courtroom: Line | None = Field(default=None, min_length=1, max_length=64)
    #: False: not open to the public (不公开审理); it can never be streamed.
    public: bool = True


def _error(status: int, code: str, message: str, **details: Any) -> JSONResponse:
    return JSONResponse({"error": envelope(code, message, **details)}, status_code=status)


_STATUS_CODES = {400: "invalid", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                 405: "invalid", 408: "timeout", 413: "too_large", 429: "rate_limited", 503: "unavailable",
                 507: "insufficient_storage"}


def create_app(hub: Hub, admin_token_hash: str, public_url: str | None = None,
               emblem: Path | None = None) -> FastAPI:
    evidence = EvidenceStore(hub.data_dir / "evidence")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await hub.start()
        swept = await run_in_threadpool(evidence.sweep)
        if swept:
            log.warning("removed %d upload(s) left half-written by an earlier stop", swept)
        # Everything alive now (the libraries, the app: some 300,000 objects)
        # lives as long as the process. Out of the collector's sight, a full
        # collection no longer stops the hub for 100+ ms; it walks only what
        # came later.
        gc.collect()
        gc.freeze()
        yield
        if compositions is not None:
            compositions.close()
        await hub.close()

    app = FastAPI(title="courtroom hub", description=_doc, lifespan=lifespan)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(ToAuthority, hub=hub, admin_token_hash=admin_token_hash)
    app.add_middleware(BodyLimit, limit_for=lambda path: MAX_EVIDENCE_BYTES if _EVIDENCE_UPLOAD.fullmatch(path)
                       else MAX_BODY)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", ""))[:200]} for e in exc.errors()]
        return _error(400, "invalid", "request does not match the expected form", problems=problems)

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> JSONResponse:
        return JSONResponse({"error": exc.error}, status_code=exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        response = _error(exc.status_code, _STATUS_CODES.get(exc.status_code, "error"), str(exc.detail))
        response.headers.update(exc.headers or {})
        return response

    access = Access(hub, admin_token_hash)
    participant_room = access.participant

    def invite(base: str, hearing_id: str, p: Participant, token: str) -> dict[str, Any]:
        return {"participant_id": p.participant_id, "role": p.role.value, "name": p.name, "site": p.site.value,
                "token": token, "join_url": f"{base}/hearings/{hearing_id}?token={urllib.parse.quote(token)}"}

    def base_url(request: Request) -> str:
        return (public_url or str(request.base_url)).rstrip("/")

    app.include_router(equipment_routes(hub, access, base_url))
    cases = CaseAccess(hub, access)
    app.include_router(case_routes(hub, cases, base_url, invite, evidence))
    app.include_router(case_file_routes(hub, cases, evidence, base_url))
    app.include_router(staff_routes(hub, access))
    videos, compositions = video_routes(hub, access, cases)
    app.include_router(videos)
    app.include_router(live_routes(hub, Path(str(STATIC))))

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        media = hub.media
        return {"status": "ok", "service": "courtroom", "media": media is not None,
                "asr": media is not None and media.engine is not None}

    @app.post("/api/hearings", status_code=201, openapi_extra=body_schema(HearingIn))
    async def create_hearing(request: Request, token: Credential) -> dict[str, Any]:
        if not access.is_admin(token):  # before a byte of the body is read
            raise HTTPException(401, "the admin token is required")
        body = await parse_body(request, HearingIn)
        if any(p.role == Role.MEDIATOR for p in body.participants):
            raise HTTPException(400, "a mediator takes part in a case's mediation sessions "
                                     "(POST /api/cases/{case_id}/mediation/sessions), not in a hearing")
        info, tokens = await hub.create_hearing(
            body.case_number, body.title, body.court,
            [(p.role, p.name, p.site) for p in body.participants], body.waiting_room, body.courtroom,
            public=body.public)
        return {"hearing_id": info.hearing_id,
                "invites": [invite(base_url(request), info.hearing_id, p, token) for p, token in tokens]}

    @app.get("/api/anchors")
    async def anchors(token: Credential) -> Response:
        """Every hearing's signed head, one JSON object per line: what the
        court appends to an archive the hub cannot write, for
        ``courtroom verify --anchors`` to hold the record against."""
        if not access.is_admin(token):
            raise HTTPException(401, "the admin token is required")
        lines = "".join(canonical_json(h.to_dict()) + "\n" for h in await hub.heads())
        return Response(lines, media_type="application/x-ndjson", headers={"Cache-Control": "no-store"})

    @app.post("/api/hearings/{hearing_id}/participants/{participant_id}/invite")
    async def reissue_invite(hearing_id: str, participant_id: str, request: Request,
                             token: Credential) -> dict[str, Any]:
        """A new invite for a participant (court staff, or the judge for the
        others): the old token stops working at once and the participant's
        screens are disconnected; only the new token's hash is kept."""
        room, actor = await access.actor(hearing_id, token)
        new = new_token()
        answer = await submit(room, actor, f"reissue-{secrets.token_hex(8)}",
                              {"kind": "invite.reissue", "participant_id": participant_id,
                               "token_hash": hash_token(new)})
        target = room.state.participant(participant_id)
        return {**invite(base_url(request), hearing_id, target, new), "seq": answer["seq"]}

    @app.delete("/api/hearings/{hearing_id}/participants/{participant_id}/invite")
    async def revoke_invite(hearing_id: str, participant_id: str,
                            token: Credential) -> dict[str, Any]:
        """Revoke a participant's invite (court staff, or the judge for the
        others): refused from now on, their screens disconnected."""
        room, actor = await access.actor(hearing_id, token)
        answer = await submit(room, actor, f"revoke-{secrets.token_hex(8)}",
                              {"kind": "invite.revoke", "participant_id": participant_id})
        return {"participant_id": participant_id, "revoked": True, "seq": answer["seq"]}

    @app.get("/api/hearings/{hearing_id}/transcript")
    async def transcript(hearing_id: str, token: Credential) -> dict[str, Any]:
        room, _ = await participant_room(hearing_id, token)
        state = room.state
        return {"hearing_id": hearing_id, "seq": room.committed_seq, "locked": state.locked,
                "transcript_hash": state.lock_hash, "proceedings": state.proceedings.to_dict(),
                "evidence": [e.to_dict() for e in state.evidence.values()], "display": state.display,
                "segments": [s.to_dict() for s in state.segments],
                "annotations": [a.to_dict() for a in state.annotations.values()],
                "signatures": [s.to_dict() for s in state.signatures.values()]}

    @app.get("/api/hearings/{hearing_id}/export")
    async def export(hearing_id: str, token: Credential, format: Annotated[str, Query()] = "txt") -> Response:
        room, _ = await participant_room(hearing_id, token)
        if format not in EXPORTERS:
            raise HTTPException(400, f"format must be one of {', '.join(EXPORTERS)}")
        render, media_type = EXPORTERS[format]
        assert room.state.hearing is not None
        name = urllib.parse.quote(f"{room.state.hearing.case_number}-庭审笔录.{format}")
        return Response(render(room.state, room.sittings), media_type=media_type,
                        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"})

    @app.post("/api/hearings/{hearing_id}/evidence", status_code=201)
    async def upload_evidence(hearing_id: str, request: Request, token: Credential,
                              name: str = Query(min_length=1, max_length=MAX_NAME),
                              capture: str | None = Query(None, max_length=64)) -> dict[str, Any]:
        """A photo or document, as the request body. Stored (fsync'd) under its
        SHA-256, then filed as an ``evidence.add`` op of the uploader; the
        answer comes after that op is durable. The same file from the same
        participant again gives the first answer. With ``capture``: a
        courtroom device's photo that a participant asked for, filed as
        theirs (see ``captures``)."""
        device_id = None
        if capture is not None:
            room, participant, device_id = await captured_for(hearing_id, token, capture)
        else:
            room, participant = await participant_room(hearing_id, token)
        # Everything that can be known before a byte is stored is checked first.
        if not may(participant.role, "evidence.add"):
            raise HTTPException(403, f"{participant.role.value} may not file evidence")
        length = request.headers.get("content-length", "")
        if not wellformed.is_fit(name):
            raise HTTPException(400, wellformed.UNFIT)
        try:
            name = evidence_name(name)
            # The quota now; again, by the op, once the size is known.
            room.state.check_evidence(participant, int(length) if length.isdigit() else 1)
        except OpError as err:
            raise Refused(err.to_dict()) from None
        try:
            stored = await evidence.receive(hearing_id, request.stream(), MAX_EVIDENCE_BYTES)
        except UploadError as err:
            raise HTTPException(err.status, str(err)) from None
        try:
            answer = await submit(room, participant, f"evidence-{stored.sha256[:32]}",
                                  {"kind": "evidence.add", "sha256": stored.sha256, "name": name,
                                   "media_type": stored.media_type, "size": stored.size})
        finally:
            evidence.release(hearing_id, stored, referenced=any(
                e.sha256 == stored.sha256 for e in room.state.evidence.values()))
        item = next(e for e in reversed(room.state.evidence.values())
                    if e.sha256 == stored.sha256 and e.uploader.participant_id == participant.participant_id)
        if capture is not None and device_id is not None:
            room.captures.take(capture, device_id)  # filed: good once
        return {"evidence": item.to_dict(), "seq": answer["seq"]}

    async def captured_for(hearing_id: str, token: str, capture_id: str) -> tuple[Room, Participant, str]:
        """The room and the participant a device's capture is filed for: the
        device's credential must be good, the capture waiting for it, and
        the participant still admitted."""
        device = await hub.device(token)
        if device is None:
            raise HTTPException(401, "a valid device credential is required")
        room = await hub.room(hearing_id)
        capture = room.captures.peek(capture_id, device.device_id) if room is not None else None
        if room is None or capture is None or capture.source == "fingerprint":
            raise HTTPException(404, "no such capture waiting for this device")
        if capture.requester_id not in room.state.proceedings.admitted:
            raise HTTPException(403, "the participant who asked is not admitted")
        return room, room.state.participant(capture.requester_id), device.device_id

    @app.get("/api/hearings/{hearing_id}/evidence/{evidence_id}")
    async def evidence_file(hearing_id: str, evidence_id: str, token: Credential) -> FileResponse:
        room, _ = await participant_room(hearing_id, token)
        item = room.state.evidence.get(evidence_id)
        if item is None:
            raise HTTPException(404, f"no evidence {evidence_id}")
        if not await run_in_threadpool(evidence.intact, hearing_id, item.sha256):
            log.error("hearing %s: evidence %s is missing or altered on disk", hearing_id, evidence_id)
            raise HTTPException(503, f"evidence {evidence_id} is missing or altered on the hub's disk; "
                                "it is not served (run courtroom verify)")
        path = evidence.path(hearing_id, item.sha256)
        name = urllib.parse.quote(item.name)
        return FileResponse(str(path), media_type=item.media_type, headers={
            "Content-Disposition": f"inline; filename*=UTF-8''{name}", "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, max-age=3600"})

    @app.get("/api/hearings/{hearing_id}/vocabulary")
    async def vocabulary(hearing_id: str, token: Credential) -> dict[str, Any]:
        """The legal terms recognition spells the court's way in this hearing
        (change them with the ``vocabulary.set`` op)."""
        room, _ = await participant_room(hearing_id, token)
        terms = room.state.vocabulary
        return {"terms": list(DEFAULT_VOCABULARY) if terms is None else terms, "default": terms is None}

    @app.get("/api/hearings/{hearing_id}/recording")
    async def recording(hearing_id: str, participant_id: str, start: float, end: float,
                        token: Credential) -> Response:
        """A participant's recorded audio over [start, end] on the hearing's
        clock (a segment's times): click-to-play."""
        room, _ = await participant_room(hearing_id, token)
        if hub.media is None or hub.media.recordings is None:
            raise HTTPException(404, "this hub does not record")
        if not (0 <= start < end and end - start <= MAX_CLIP_SECONDS):
            raise HTTPException(400, f"need 0 <= start < end and at most {MAX_CLIP_SECONDS} s")
        assert room.state.hearing is not None
        if participant_id not in room.state.hearing.participants:
            raise HTTPException(404, f"no participant {participant_id} in this hearing")
        clip = await run_in_threadpool(audio_clip, hub.media.recordings / hearing_id, participant_id, start, end)
        if clip is None:
            raise HTTPException(404, "nothing was recorded of this participant then")
        return Response(clip, media_type="audio/ogg", headers={"Cache-Control": "no-store"})

    page = (STATIC / "hearing.html").read_text(encoding="utf-8")
    cluster_key = cluster_secret(admin_token_hash).encode()
    secure_cookies = (public_url or "").startswith("https:")

    @app.get("/hearings/{hearing_id}")
    async def hearing_page(hearing_id: str, request: Request, token: str = "",
                           as_: Annotated[str, Query(alias="as")] = "") -> HTMLResponse:
        """The hearing page. Opened with its join link (``?token=``), it sets
        the token as an HttpOnly cookie and names its participant in the
        page, which then takes the token out of the address bar
        (``?as=<participant_id>``): nothing afterwards carries the token in
        a URL, a referrer or a script-readable place."""
        participant_id = as_ if is_participant_id(as_) else ""
        cookie = None
        if not token and participant_id:  # back through this node, the entry (cluster/entry.py)
            token = request.cookies.get(entry.resume_cookie(participant_id), "")
        if token:
            try:
                auth = await hub.authenticate(hearing_id, token)
            except HearingUnavailable:
                auth = None
            if auth is not None:
                participant_id = auth[1].participant_id
                cookie = (cookie_name(participant_id), token)
        html = page.replace('<meta name="participant" content="">',
                            f'<meta name="participant" content="{participant_id}">')
        if emblem is not None:
            html = html.replace('<meta name="emblem" content="">', '<meta name="emblem" content="/emblem">')
        way_back = entry.vouched(cluster_key, hearing_id, request.url.query)
        if way_back is not None and way_back != entry.origin_of(request.url.scheme, request.headers.get("host", "")):
            html = html.replace('<meta name="entry" content="">', f'<meta name="entry" content="{way_back}">')
        response = HTMLResponse(html, headers={"Cache-Control": "no-store", "Content-Security-Policy": PAGE_CSP})
        if cookie is not None:
            response.set_cookie(*cookie, httponly=True, samesite="strict", path="/",
                                secure=secure_cookies or request.url.scheme == "https")
        return response

    @app.get("/emblem")
    async def emblem_image() -> FileResponse:
        if emblem is None:
            raise HTTPException(404, "no emblem configured")
        return FileResponse(str(emblem), headers={"Cache-Control": "max-age=3600"})

    @app.get("/static/{name}")
    async def static(name: str) -> FileResponse:
        path = STATIC / name
        if "/" in name or name.startswith(".") or not path.is_file():
            raise HTTPException(404, "no such file")
        return FileResponse(str(path))

    @app.websocket("/ws/hearings/{hearing_id}")
    async def hearing_socket(ws: WebSocket, hearing_id: str) -> None:
        # Admission: new screens are taken in at a bounded rate, in the order
        # they came, before any work is spent on them, so a storm of screens
        # (re)joining never takes the hub from those already in a hearing.
        # Beyond a short queue they are turned away at once (503, retry).
        if hub.join_waiting >= JOIN_QUEUE:
            await refuse_busy(ws)
            return
        hub.join_waiting += 1
        try:
            async with hub.joining:
                await hub.join_pace.take(1)
        finally:
            hub.join_waiting -= 1
        await ws.accept()
        try:
            token = credential(ws)
            auth = await hub.authenticate(hearing_id, token)
            device = None
            if auth is None:
                auth, device = await device_auth(hearing_id, token)
        except HearingUnavailable as err:
            await ws.send_text(encode({"type": "error", "error": {"code": "unavailable", "message": str(err)}}))
            await ws.close(Close.UNAVAILABLE)
            return
        if auth is None:
            await ws.send_text(encode({"type": "error", "error": {
                "code": "forbidden", "message": "a valid invite token for this hearing is required"}}))
            await ws.close(Close.REVOKED)
            return
        room, participant = auth
        await Session(ws, room, participant, device).run()

    async def device_auth(hearing_id: str, token: str) -> tuple[tuple[Room, Participant] | None, Device | None]:
        """A courtroom device's credential admits it to the hearings held in
        its courtroom, as an observer seated there named after the device."""
        device = await hub.device(token)
        if device is None:
            return None, None
        room = await hub.room(hearing_id)
        if room is None or room.state.hearing is None or room.state.hearing.courtroom != device.courtroom:
            return None, None
        return (room, Participant(device.device_id, Role.OBSERVER, device.name, Site.COURT)), device

    async def refuse_busy(ws: WebSocket) -> None:
        body = {"error": {"code": "unavailable", "message": "the hub is taking in many screens; try again shortly"}}
        if "websocket.http.response" in ws.scope.get("extensions", {}):
            await ws.send_denial_response(JSONResponse(body, 503, headers={"Retry-After": "1"}))
        else:
            await ws.close(1013)

    return app
