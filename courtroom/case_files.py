"""The files of a case over HTTP: attachments to messages, evidence filed
with its catalogue entry, documents served on a party; and the paperwork
the hub prints (告知书 with a party's QR code, 电子送达凭证, 调解协议).

An upload is stored (fsync'd) under its SHA-256 first, then filed by an
op of the uploader, answered once that op is durable; a file no op refers
to is removed again. A party downloads only what it may see; its first
download of a document served on it is logged as opening it.
"""

from __future__ import annotations

import secrets
import urllib.parse
from typing import Annotated, Any, Callable

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse, Response
from starlette.concurrency import run_in_threadpool

from case.model import Party
from case.visibility import STAFF, files_seen
from paperwork.agreement import agreement_pdf
from paperwork.drafts import DRAFTS
from paperwork.notice import notice_pdf
from paperwork.service import service_pdf
from protocol import wellformed
from protocol.limits import MAX_OP_ID
from transcript.errors import OpError
from transcript.ops import MAX_EVIDENCE_BYTES, MAX_NAME, evidence_name

from .answers import Refused, submit
from .bodies import Credential
from .case_api import CaseAccess
from .case_hearings import show_in_hearings
from .casespace import CaseSpace
from .evidence import EvidenceStore, UploadError
from .hub import Hub


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _pdf(data: bytes, name: str) -> Response:
    quoted = urllib.parse.quote(name)
    return Response(data, media_type="application/pdf",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quoted}",
                             "Cache-Control": "no-store"})


def case_file_routes(hub: Hub, cases: CaseAccess, store: EvidenceStore,
                     base_url: Callable[[Request], str]) -> APIRouter:
    router = APIRouter()

    async def upload(space: CaseSpace, actor: Any, request: Request, name: str, kind: str, op_id: str,
                     make_op: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
        """Store the request body, then file it by an op of ``kind`` that
        ``make_op`` builds around the stored file's fields."""
        if not wellformed.is_fit(name):
            raise HTTPException(400, wellformed.UNFIT)
        try:
            name = evidence_name(name)
            space.state.check(actor, kind)
        except OpError as err:
            raise Refused(err.to_dict()) from None
        try:
            stored = await store.receive(space.case_id, request.stream(), MAX_EVIDENCE_BYTES)
        except UploadError as err:
            raise HTTPException(err.status, str(err)) from None
        try:
            file = {"sha256": stored.sha256, "name": name, "media_type": stored.media_type, "size": stored.size}
            return await submit(space, actor, op_id or f"{kind}-{stored.sha256[:32]}", make_op(file))
        finally:
            store.release(space.case_id, stored, referenced=stored.sha256 in files_seen(space.state, STAFF))

    @router.post("/api/cases/{case_id}/evidence", status_code=201)
    async def file_evidence(case_id: str, request: Request, token: Credential,
                            name: Annotated[str, Query(min_length=1, max_length=MAX_NAME)],
                            title: Annotated[str, Query(min_length=1, max_length=200)],
                            source: Annotated[str, Query(min_length=1, max_length=200)],
                            purpose: Annotated[str, Query(min_length=1, max_length=500)],
                            pages: Annotated[int, Query(ge=1, le=10_000)] = 1) -> dict[str, Any]:
        """An evidence item (the body: photo or PDF) with its catalogue entry."""
        space, actor, _ = await cases.who(case_id, request, token)
        answer = await upload(space, actor, request, name, "evidence.file", "", lambda file: {
            "kind": "evidence.file", **file, "title": title, "source": source, "purpose": purpose, "pages": pages})
        item = next(e for e in reversed(space.state.exhibits.values()) if e.filer == space.state.label(actor))
        await show_in_hearings(hub, space, store)
        return {"evidence": item.to_dict(), "seq": answer["seq"]}

    @router.post("/api/cases/{case_id}/documents", status_code=201)
    async def serve_document(case_id: str, request: Request, token: Credential,
                             party_id: Annotated[str, Query(min_length=1, max_length=64)],
                             title: Annotated[str, Query(min_length=1, max_length=200)],
                             doc_kind: Annotated[str, Query(min_length=1, max_length=16)],
                             name: Annotated[str, Query(min_length=1, max_length=MAX_NAME)]) -> dict[str, Any]:
        """Serve a document (the body: a PDF) on a party in its space."""
        space, actor, _ = await cases.who(case_id, request, token)
        answer = await upload(space, actor, request, name, "document.serve", f"serve-{secrets.token_hex(8)}",
                              lambda file: {"kind": "document.serve", **file, "party_id": party_id, "title": title,
                                            "doc_kind": doc_kind})
        return {"document": list(space.state.served.values())[-1].to_dict(), "seq": answer["seq"]}

    @router.post("/api/cases/{case_id}/messages", status_code=201)
    async def message_with_attachment(case_id: str, request: Request, token: Credential,
                                      name: Annotated[str, Query(min_length=1, max_length=MAX_NAME)],
                                      text: Annotated[str, Query(max_length=2_000)] = "",
                                      thread: Annotated[str | None, Query(max_length=64)] = None,
                                      reply_to: Annotated[str | None, Query(max_length=64)] = None,
                                      op_id: Annotated[str, Query(max_length=MAX_OP_ID)] = "") -> dict[str, Any]:
        """A message whose attachment (photo or PDF) is the body."""
        space, actor, _ = await cases.who(case_id, request, token)

        def message(file: dict[str, Any]) -> dict[str, Any]:
            return {"kind": "message.post", "text": text, "attachments": [file],
                    **({"thread": thread} if thread is not None else {}),
                    **({"reply_to": reply_to} if reply_to is not None else {})}
        answer = await upload(space, actor, request, name, "message.post", op_id or f"message-{secrets.token_hex(8)}",
                              message)
        return {"message": list(space.state.messages.values())[-1].to_dict(), "seq": answer["seq"]}

    @router.get("/api/cases/{case_id}/files/{sha256}")
    async def case_file(case_id: str, sha256: str, request: Request, token: Credential) -> FileResponse:
        space, actor, viewer = await cases.who(case_id, request, token)
        seen = files_seen(space.state, viewer).get(sha256)
        if seen is None:
            raise HTTPException(404, "no such file in what you may see of this case")
        if not await run_in_threadpool(store.intact, case_id, sha256):
            raise HTTPException(503, "the file is missing or altered on the hub's disk; the court has been told")
        if isinstance(actor, Party):
            for doc in space.state.served.values():
                if doc.file.sha256 == sha256 and doc.thread == viewer.thread and doc.opened_ms is None:
                    await submit(space, actor, f"open-{doc.id}", {"kind": "document.open", "document_id": doc.id})
        media_type, name = seen
        return FileResponse(store.path(case_id, sha256), media_type=media_type,
                            headers={"Content-Disposition": f"inline; filename*=UTF-8''{urllib.parse.quote(name)}",
                                     "Cache-Control": "no-store"})

    # -- paperwork ---------------------------------------------------------------

    @router.post("/api/cases/{case_id}/parties/{party_id}/notice")
    async def notice(case_id: str, party_id: str, request: Request, token: Credential) -> Response:
        """The party's 告知书 with a new entry link's QR code (the old link
        stops working: only hashes are kept, so a link cannot be printed
        twice)."""
        space, actor, viewer = await cases.who(case_id, request, token)
        if not viewer.court:
            raise HTTPException(403, "notices are printed by the court")
        try:
            space.state.check(actor, "party.add")  # those who run the case
        except OpError as err:
            raise Refused(err.to_dict()) from None
        party = space.state.parties.get(party_id)
        if party is None:
            raise HTTPException(404, f"no party {party_id} in this case")
        link = await hub.reissue_case_link(case_id, party_id)
        url = f"{base_url(request)}/c/{case_id}#k={link}"
        pdf = await run_in_threadpool(notice_pdf, space.state, party, url)
        return _pdf(pdf, f"{space.state.info.case_number}-{party.name}-告知书.pdf")

    @router.get("/api/cases/{case_id}/documents/{document_id}/proof")
    async def proof_of_service(case_id: str, document_id: str, request: Request, token: Credential) -> Response:
        space, _, viewer = await cases.who(case_id, request, token)
        doc = space.state.served.get(document_id)
        if doc is None or not (viewer.court or doc.thread == viewer.thread):
            raise HTTPException(404, f"no document {document_id}")
        pdf = await run_in_threadpool(service_pdf, space.state, document_id, space.head, space.committed_seq)
        return _pdf(pdf, f"{space.state.info.case_number}-{doc.title}-电子送达凭证.pdf")

    @router.get("/api/cases/{case_id}/agreement")
    async def agreement(case_id: str, request: Request, token: Credential) -> Response:
        space, _, _ = await cases.who(case_id, request, token)
        if space.state.mediation is None:
            raise HTTPException(404, "no mediation in this case")
        pdf = await run_in_threadpool(agreement_pdf, space.state)
        return _pdf(pdf, f"{space.state.info.case_number}-调解协议.pdf")

    @router.get("/api/cases/{case_id}/hearings/{hearing_id}/drafts/{kind}")
    async def draft(case_id: str, hearing_id: str, kind: str, request: Request, token: Credential) -> Response:
        """A document drafted from a hearing's locked 笔录 and the case, as
        Word for the judge to finish: ``cover``, ``catalogue`` or
        ``judgment``. For the case's judge and clerk."""
        space, actor, viewer = await cases.who(case_id, request, token)
        if not viewer.court or getattr(actor, "role", "") not in ("judge", "clerk"):
            raise HTTPException(403, "drafts are for the case's judge and clerk")
        if kind not in DRAFTS:
            raise HTTPException(404, f"no draft {kind}; there are {', '.join(DRAFTS)}")
        if not any(h.hearing_id == hearing_id for h in space.state.hearings):
            raise HTTPException(404, f"no hearing {hearing_id} of this case")
        room = await hub.room(hearing_id)
        if room is None:
            raise HTTPException(404, f"no hearing {hearing_id}")
        if not room.state.locked:
            raise HTTPException(409, "the 笔录 is not locked yet: documents are drafted from the final record")
        title, make = DRAFTS[kind]
        data = await run_in_threadpool(make, space.state, room.state, room.sittings)
        name = urllib.parse.quote(f"{space.state.info.case_number}-{title}.docx")
        return Response(data, media_type=DOCX, headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}",
                                                        "Cache-Control": "no-store"})

    return router

