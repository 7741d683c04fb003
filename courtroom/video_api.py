"""The composed recording of a hearing (庭审录像) over HTTP.

``GET /api/hearings/{id}/video`` with an invite token, and
``GET /api/cases/{case_id}/hearings/{id}/video`` from the case's staff
console or a party's case space: the MP4 once composed (ranges served, so
a player seeks without downloading it all); while it is being composed,
202 with how far it is. Composing starts by itself at 闭庭 (and again on a
request, after a failure or a restart). The video is the court's: the
judge and the clerk have it; the parties only once the judge shares it
(``video.share``); observers never.
"""

from __future__ import annotations

import urllib.parse

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from case.model import Party
from transcript.proceedings import Status
from transcript.roles import BENCH, PARTY_ROLES

from .access import Access
from .bodies import Credential
from .case_api import CaseAccess
from .composition.service import Compositions, plan_of
from .hub import Hub
from .room import Room

NOT_SHARED = "庭审录像由法院保存；审判员共享后当事人方可查看"


def video_routes(hub: Hub, access: Access, cases: CaseAccess) -> tuple[APIRouter, Compositions | None]:
    router = APIRouter()
    recordings = hub.media.recordings if hub.media is not None else None
    compositions = hub.media.compositions if hub.media is not None else None

    def answer(room: Room) -> Response:
        """The video, or how far it is, for someone allowed to have it."""
        hearing_id = room.hearing_id
        if compositions is None or recordings is None:
            raise HTTPException(404, "this hub does not record")
        path = compositions.video(hearing_id)
        if path is not None:
            assert room.state.hearing is not None
            name = urllib.parse.quote(f"{room.state.hearing.case_number} 庭审录像.mp4")
            return FileResponse(str(path), media_type="video/mp4", headers={
                "Content-Disposition": f"inline; filename*=UTF-8''{name}", "Cache-Control": "private, no-cache"})
        if room.state.proceedings.status is not Status.ENDED:
            raise HTTPException(409, "庭审尚未闭庭，闭庭后生成庭审录像")
        failure = compositions.take_failure(hearing_id)
        if failure is not None:
            raise HTTPException(500, f"生成庭审录像失败（{failure}）；再次请求将重试")
        status = compositions.status(hearing_id)
        if status["state"] == "none":  # polls while composing read the progress only
            try:
                compositions.start(hearing_id, recordings_folder=recordings / hearing_id,
                                   **plan_of(room.state, room.created_ms))
            except LookupError:
                raise HTTPException(404, "本庭审没有录音录像") from None
            status = compositions.status(hearing_id)
        return JSONResponse(status, status_code=200 if status["state"] == "done" else 202,
                            headers={"Retry-After": "5", "Cache-Control": "no-store"})

    @router.get("/api/hearings/{hearing_id}/video", response_model=None)
    async def video(hearing_id: str, token: Credential) -> Response:
        room, participant = await access.participant(hearing_id, token)
        if participant.role not in BENCH and not (participant.role in PARTY_ROLES
                                                   and room.state.broadcast.video_shared):
            raise HTTPException(403, NOT_SHARED if participant.role in PARTY_ROLES
                                else "only the judge or the clerk may have the hearing's video")
        return answer(room)

    @router.get("/api/cases/{case_id}/hearings/{hearing_id}/video", response_model=None)
    async def case_video(case_id: str, hearing_id: str, request: Request, token: Credential) -> Response:
        """From the case: its judge and clerk (the staff console), and its
        parties once the judge has shared the video."""
        space, actor, viewer = await cases.who(case_id, request, token)
        if not any(h.hearing_id == hearing_id for h in space.state.hearings):
            raise HTTPException(404, f"no hearing {hearing_id} of this case")
        room = await hub.room(hearing_id)
        if room is None:
            raise HTTPException(404, f"no hearing {hearing_id}")
        if isinstance(actor, Party):
            if not room.state.broadcast.video_shared:
                raise HTTPException(403, NOT_SHARED)
        elif not viewer.court or getattr(actor, "role", "") not in ("judge", "clerk"):
            raise HTTPException(403, "the video is for the case's judge and clerk")
        return answer(room)

    return router, compositions
