"""Headers every answer of the hub carries, and the hearing page's policy.

No referrer ever leaves a page (a link's URL must not travel to another
site), no answer is sniffed as another type, and the page may run only the
hub's own scripts and talk only to the hub: an injected script, were one
ever to slip through, could neither run nor send anything elsewhere.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable

PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
            "media-src 'self' blob:; connect-src 'self'; frame-src 'self'; object-src 'none'; "
            "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
ALWAYS = [(b"referrer-policy", b"no-referrer"), (b"x-content-type-options", b"nosniff")]


class SecurityHeaders:
    def __init__(self, app: Callable[..., Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *((k, v) for k, v in ALWAYS if k not in present)]
            await send(message)

        await self.app(scope, receive, with_headers)
