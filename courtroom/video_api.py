"""The composed recording of a hearing (庭审录像) over HTTP.

``GET /api/hearings/{id}/video`` with a judge's or clerk's token: the MP4
once composed (ranges served, so a player seeks without downloading it
all); while it is being composed, 202 with how far it is. The first
request after the hearing has ended starts the composition. The parties
do not get the court's copy.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, JSONResponse, Response

from transcript.proceedings import Status
from transcript.roles import BENCH, ROLE_LABELS
from transcript.subtitles import Cue

from .access import Access
from .bodies import Credential
from .composition.compose import Person
from .composition.service import Compositions
from .composition.timeline import Speech
from .hub import Hub
from .room import Room

#: The order of the strip: the bench, then each side, then the rest.
ORDER = ["judge", "mediator", "clerk", "plaintiff", "prosecutor", "defendant", "agent", "witness"]


def plan_of(room: Room) -> dict[str, Any]:
    """What a composition needs from the hearing's record: who (in the
    strip's order), who spoke when, the subtitles and the caption."""
    hearing = room.state.hearing
    assert hearing is not None
    people = sorted(hearing.participants.values(),
                    key=lambda p: ORDER.index(p.role.value) if p.role.value in ORDER else len(ORDER))
    segments = [s for s in room.state.segments
                if not s.deleted and s.start is not None and s.end is not None and s.text.strip()]
    return {
        "people": [Person(p.participant_id, f"{ROLE_LABELS[p.role]} {p.name}") for p in people],
        "speech": [Speech(s.speaker.participant_id, s.start, s.end) for s in segments],  # type: ignore[arg-type]
        "cues": [Cue(s.start, s.end, s.text, f"{ROLE_LABELS[s.speaker.role]}{s.speaker.name}")  # type: ignore[arg-type]
                 for s in segments],
        "caption": f"{hearing.case_number} {hearing.court}",
        "started": room.created_ms / 1000,
    }


def video_routes(hub: Hub, access: Access) -> tuple[APIRouter, Compositions | None]:
    router = APIRouter()
    recordings = hub.media.recordings if hub.media is not None else None
    compositions = Compositions(recordings.parent / "compositions") if recordings is not None else None

    @router.get("/api/hearings/{hearing_id}/video", response_model=None)
    async def video(hearing_id: str, token: Credential) -> Response:
        room, participant = await access.participant(hearing_id, token)
        if participant.role not in BENCH:
            raise HTTPException(403, "only the judge or the clerk may have the hearing's video")
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
                compositions.start(hearing_id, recordings_folder=recordings / hearing_id, **plan_of(room))
            except LookupError:
                raise HTTPException(404, "本庭审没有录音录像") from None
            status = compositions.status(hearing_id)
        return JSONResponse(status, status_code=200 if status["state"] == "done" else 202,
                            headers={"Retry-After": "5", "Cache-Control": "no-store"})

    return router, compositions
