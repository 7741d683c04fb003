"""An op sent over HTTP (to a hearing or a case), answered as HTTP: its
ack once durable, or its refusal with the matching status."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException

from .stream import Reply, Stream

_NACK_STATUS = {"forbidden": 403, "invalid": 400, "too_large": 413, "conflict": 409, "locked": 409,
                "not_found": 404}


class Refused(Exception):
    """An op sent over HTTP was refused: its error object, whole (a quota's
    name and limit, a conflict's current segment), with the matching status."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error["message"])
        self.error = error
        self.status = _NACK_STATUS.get(error["code"], 400)


async def submit(stream: Stream, actor: Any, op_id: str, op: dict[str, Any]) -> dict[str, Any]:
    """Submit ``op`` as ``actor``; its ack, or ``Refused``, or 503 if the
    stream reloads meanwhile (the op was not logged)."""
    reply = Reply(actor)
    stream.submit(reply, op_id, op)
    try:
        answer = await reply.answer
    except ConnectionError as err:
        raise HTTPException(503, str(err)) from None
    if answer["type"] == "nack":
        raise Refused(answer["error"])
    return answer
