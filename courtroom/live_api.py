"""The public live stream over HTTP (庭审直播): no login, no token.

``GET /live/{id}`` is the public page, ``GET /live/{id}/index.m3u8`` the
HLS playlist, then its segments and ``stream.json`` (case number, title,
court, delay): plain files from ``DATA/live/HEARING/``, which any web
server or CDN in front of the hub can serve as they are. All of them are
404 while the hearing is not being streamed: the judge's 暂停直播 removes
them, and a playlist its composer stopped rewriting (a hub killed before
it could) is not served.
"""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from .headers import PAGE_CSP
from .hub import Hub
from .live.service import INFO, playlist_path

_HEARING = re.compile(r"h-[0-9a-f]{16}")
_SEGMENT = re.compile(r"seg-\d{8}\.ts")
NOT_STREAMING = "该庭审当前没有直播"


def live_routes(hub: Hub, static: Path) -> APIRouter:
    router = APIRouter()
    live = hub.media.live if hub.media is not None else None
    page = (static / "live.html").read_text(encoding="utf-8")

    def folder(hearing_id: str) -> Path:
        """The stream's folder, if the hearing is being streamed now."""
        if live is None or not _HEARING.fullmatch(hearing_id) or playlist_path(live.root, hearing_id) is None:
            raise HTTPException(404, NOT_STREAMING)
        return live.public(hearing_id)

    @router.get("/live/{hearing_id}", response_model=None)
    async def live_page(hearing_id: str) -> Response:
        try:
            folder(hearing_id)
        except HTTPException:
            return HTMLResponse(f"<!doctype html><meta charset=utf-8><title>庭审直播</title><p>{NOT_STREAMING}</p>",
                                status_code=404, headers={"Cache-Control": "no-store"})
        return HTMLResponse(page, headers={"Cache-Control": "no-store", "Content-Security-Policy": PAGE_CSP})

    async def file(hearing_id: str, name: str, media_type: str, cache: str) -> Response:
        """The file as it is now, read whole: the composer replaces the
        playlist (atomically) every segment and deletes old segments, and a
        response that took the length first and the bytes after could get
        the length of one version and the bytes of another, or none."""
        path = folder(hearing_id) / name
        try:
            data = await run_in_threadpool(path.read_bytes)
        except OSError:
            raise HTTPException(404, NOT_STREAMING) from None
        return Response(data, media_type=media_type, headers={"Cache-Control": cache})

    @router.get("/live/{hearing_id}/index.m3u8")
    async def playlist(hearing_id: str) -> Response:
        return await file(hearing_id, "index.m3u8", "application/vnd.apple.mpegurl", "no-cache")

    @router.get("/live/{hearing_id}/" + INFO)
    async def info(hearing_id: str) -> Response:
        return await file(hearing_id, INFO, "application/json", "no-cache")

    @router.get("/live/{hearing_id}/{name}")
    async def segment(hearing_id: str, name: str) -> Response:
        if not _SEGMENT.fullmatch(name):
            raise HTTPException(404, "no such segment")
        return await file(hearing_id, name, "video/mp2t", "max-age=60")

    return router
