"""HTTP requests about a stream go to its authority.

A screen's websocket is served by whatever node it reaches (a mirror), but
an HTTP request about a hearing or a case (an upload, a download, an op
over HTTP, scheduling a hearing from a case) is passed on to the node that
holds the stream's lease, body and answer streamed through, so every
request sees the authority's state and the authority's files. In a
cluster a hearing's page is redirected there instead: the browser then
opens its websocket on the authority, where the hearing's media runs. The
workers of one machine (``courtroom.workers``) sit behind one address whose
front already sends each connection to the holder; a request that reaches
another worker anyway (a kept-alive connection) is passed on, page too,
since a worker's own address is private. A request
passed on carries the cluster's secret, and the node it reaches takes the
client's address from it (rate limits and lockouts count the real client),
and serves it itself rather than pass it on again. The request keeps its
Host header, so same-origin checks of cookie-borne credentials, and links
the authority builds from the request, see what the client sent.
"""

from __future__ import annotations

import hashlib
import hmac
import http.cookiejar
import http.cookies
import logging
import re
import urllib.parse
from typing import TYPE_CHECKING, Any, Awaitable, Callable

import httpx

from ..access import cookie_name, is_participant_id
from . import entry

if TYPE_CHECKING:
    from ..hub import Hub

log = logging.getLogger(__name__)

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

_STREAM_API = re.compile(r"/api/(?:hearings|cases)/([hc]-[0-9a-f]{16})(?:/.*)?")
_HEARING_PAGE = re.compile(r"/hearings/(h-[0-9a-f]{16})")
HEADER = b"x-courtroom-cluster"
CLIENT = b"x-courtroom-client"
#: Headers that belong to one connection, not to the request.
_HOP = {b"connection", b"keep-alive", b"transfer-encoding", b"upgrade", b"te", b"trailer",
        b"proxy-authorization", b"content-length", HEADER, CLIENT}


def cluster_secret(admin_token_hash: str) -> str:
    """What nodes show each other: derived from the admin token every node
    of a cluster is started with, and never the token itself."""
    return hmac.new(admin_token_hash.encode(), b"courtroom cluster", hashlib.sha256).hexdigest()


class ToAuthority:
    """ASGI middleware: pass a stream's HTTP requests to its authority."""

    def __init__(self, app: Any, hub: Hub, admin_token_hash: str) -> None:
        self.app = app
        self.hub = hub
        self.secret = cluster_secret(admin_token_hash).encode()
        self._client: httpx.AsyncClient | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.hub.node is None:
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        if hmac.compare_digest(headers.get(HEADER, b""), self.secret):
            address = headers.get(CLIENT, b"").decode("latin-1")
            if address:
                scope = {**scope, "client": (address, 0)}
            return await self.app(scope, receive, send)
        page = _HEARING_PAGE.fullmatch(scope["path"]) if scope["method"] == "GET" and self.hub.node.public else None
        match = page or _STREAM_API.fullmatch(scope["path"]) or _HEARING_PAGE.fullmatch(scope["path"])
        url = await self.hub.node.authority_url(match.group(1)) if match else None
        if url is None:
            return await self.app(scope, receive, send)
        if page is not None:
            await self._redirect_page(url, page.group(1), scope, headers, send)
            return
        await self._pass_on(url, scope, receive, send)

    async def _redirect_page(self, base: str, hearing_id: str, scope: Scope, headers: dict[bytes, bytes],
                             send: Send) -> None:
        """Send a hearing page to its authority's node, leaving it the way
        back (``entry``): this node's address, signed, in the query, and the
        participant's token in this node's resume cookie. A page that comes
        back here by that way (``?as=`` and the cookie) carries the token on
        to the authority again."""
        query = scope.get("query_string", b"").decode("latin-1")
        params = [(k, v) for k, v in urllib.parse.parse_qsl(query, keep_blank_values=True)
                  if k not in (entry.VIA, entry.VIA_SIG)]
        given = dict(params)
        token, participant = given.get("token", ""), given.get("as", "")
        cookie = b""
        if token:
            participant = await self.hub.invitee(hearing_id, token) or ""
            if participant:
                cookie = _resume_cookie(participant, token, hearing_id, scope["scheme"] == "https")
        elif is_participant_id(participant):
            # Back by the way the entry left (its cookie), or a page of this
            # node opened again (its own cookie: the media moved on).
            jar = _cookies(headers)
            for name in (entry.resume_cookie(participant), cookie_name(participant)):
                kept = jar.get(name, "")
                if kept and await self.hub.invitee(hearing_id, kept) == participant:
                    params.append(("token", kept))
                    break
        # The first entry stays the way back; a page passing through again
        # is not given this node instead.
        origin = entry.vouched(self.secret, hearing_id, query) or \
            entry.origin_of(scope["scheme"], headers.get(b"host", b"").decode("latin-1"))
        if origin is not None:
            params += entry.via_params(self.secret, hearing_id, origin)
        location = base + scope["path"] + ("?" + urllib.parse.urlencode(params) if params else "")
        answer = [(b"location", location.encode("latin-1")), (b"cache-control", b"no-store")]
        if cookie:
            answer.append((b"set-cookie", cookie))
        await send({"type": "http.response.start", "status": 307, "headers": answer})
        await send({"type": "http.response.body", "body": b""})

    async def _pass_on(self, base: str, scope: Scope, receive: Receive, send: Send) -> None:
        if self._client is None:
            # Cookies pass through as headers; the client itself must never
            # keep one (it serves every user's requests).
            never = http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
            self._client = httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=5.0), cookies=never)
        client = scope.get("client") or ("", 0)
        headers = [(k, v) for k, v in scope.get("headers") or [] if k.lower() not in _HOP]
        headers += [(HEADER, self.secret), (CLIENT, client[0].encode("latin-1"))]

        async def body() -> Any:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                yield message.get("body", b"")
                if not message.get("more_body"):
                    return
        query = scope.get("query_string", b"").decode("latin-1")
        url = base + scope["path"] + (f"?{query}" if query else "")
        request = self._client.build_request(scope["method"], url, headers=headers,
                                             content=body() if scope["method"] not in ("GET", "HEAD") else None)
        try:
            response = await self._client.send(request, stream=True)
        except httpx.HTTPError as err:
            log.warning("could not pass %s %s to %s: %s", scope["method"], scope["path"], base, err)
            await _answer(send, 503, b'{"error":{"code":"unavailable","message":"the node serving this '
                          b'is not reachable; try again in a moment"}}')
            return
        try:
            await send({"type": "http.response.start", "status": response.status_code,
                        "headers": [(k.encode("latin-1"), v.encode("latin-1"))
                                    for k, v in response.headers.multi_items()
                                    if k.lower().encode() not in _HOP]})
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            await response.aclose()


def _cookies(headers: dict[bytes, bytes]) -> dict[str, str]:
    jar = http.cookies.SimpleCookie()
    try:
        jar.load(headers.get(b"cookie", b"").decode("latin-1"))
    except http.cookies.CookieError:
        return {}
    return {name: morsel.value for name, morsel in jar.items()}


def _resume_cookie(participant_id: str, token: str, hearing_id: str, secure: bool) -> bytes:
    """The entry's cookie of a participant's token: HttpOnly, for this
    hearing's page alone, sent on a top-level navigation from another
    site (Lax: the page comes back from another node's address)."""
    jar = http.cookies.SimpleCookie()
    name = entry.resume_cookie(participant_id)
    jar[name] = token
    jar[name]["path"] = f"/hearings/{hearing_id}"
    jar[name]["httponly"] = True
    jar[name]["samesite"] = "Lax"
    if secure:
        jar[name]["secure"] = True
    return jar[name].OutputString().encode("latin-1")


async def _answer(send: Send, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"retry-after", b"1")]})
    await send({"type": "http.response.body", "body": body})
