"""Request bodies, limited while they arrive.

``Content-Length`` is only a claim, and a chunked body has none: the limit
is enforced on the bytes as the application reads them, so nothing beyond
it is ever buffered. A body that stops arriving is dropped after an idle
timeout rather than holding a connection and a task for ever. Endpoints
read their bodies only after they have checked who is asking.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Awaitable, Callable

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

#: Seconds a body may go without a byte arriving.
BODY_IDLE_TIMEOUT = 30.0


class BodyTooLarge(Exception):
    """The body grew past the limit: refused with 413."""


class BodyIdle(Exception):
    """No part of the body arrived for the idle timeout: refused with 408."""


class BodyLimit:
    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], limit_for: Callable[[str], int],
                 idle_timeout: float = BODY_IDLE_TIMEOUT) -> None:
        self.app = app
        self.limit_for = limit_for
        self.idle_timeout = idle_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await _refuse(send, 413, "too_large", f"request bodies are limited to {limit} bytes")
            return
        received = 0
        complete = False
        started = False

        async def limited() -> Message:
            nonlocal received, complete
            if complete:  # after the body: only a disconnect is left to wait for
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), self.idle_timeout)
            except asyncio.TimeoutError:
                raise BodyIdle() from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge()
                complete = not message.get("more_body", False)
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, tracked)
        except BodyTooLarge:
            if not started:
                await _refuse(send, 413, "too_large", f"request bodies are limited to {limit} bytes")
        except BodyIdle:
            if not started:
                await _refuse(send, 408, "timeout", f"no part of the body arrived for {self.idle_timeout:.0f} s")


async def _refuse(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
