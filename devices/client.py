"""A program's connection to a hearing, kept up: what the courtroom agent,
the detention-centre terminal and the tests use to speak the wire protocol
(docs/protocol.md) without a browser.

It connects, reads ``welcome``, asks for a snapshot (first time) or the
events since the last one it saw (after a reconnection), and hands every
committed event on in seq order, each exactly once. ``op`` sends an op and
returns its seq or raises ``Refused``; an op whose answer was lost with the
connection is sent again, with the same op_id, once the hub is back (the
hub answers a repeated op_id with its first answer, so nothing is applied
twice). When the connection drops, or the hub is busy or restarting, it
comes back by itself, waiting longer each time (with jitter, so a room of
devices does not return all at once), and says in its log what it waits
for. A revoked credential (close 4401) ends it: coming back would not help.

Only the protocol package and websockets: no part of the hub.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import random
import secrets
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Callable

import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from protocol import messages
from protocol.errors import Refused
from protocol.limits import HARD_MESSAGE_LIMIT, Close

log = logging.getLogger(__name__)


class Revoked(Exception):
    """The hub no longer accepts this credential (close 4401, or HTTP 401/403
    at the door)."""


def websocket_url(url: str) -> str:
    """The hearing websocket's URL from a join link
    (``https://hub/hearings/ID?token=T`` → ``wss://hub/ws/hearings/ID?token=T``);
    a websocket URL is returned as it is."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme in ("ws", "wss"):
        return url
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"not a hearing link: {url!r}")
    path = parts.path
    if not path.startswith("/ws/"):
        if not path.startswith("/hearings/"):
            raise ValueError(f"not a hearing link (no /hearings/ID): {url!r}")
        path = "/ws" + path
    query = urllib.parse.urlencode([(k, v) for k, v in urllib.parse.parse_qsl(parts.query)
                                    if k == "token"])
    return urllib.parse.urlunsplit(("wss" if parts.scheme == "https" else "ws", parts.netloc, path, query, ""))


def media_link(url: str) -> str:
    """The join link to use now. In a cluster the hearing's page answers
    307 with the same page on the node that runs the hearing's media; a
    terminal goes there, as a browser does. Any other answer (or none):
    the link as it is."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.path.startswith("/hearings/"):
        return url

    class Stay(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None
    try:
        urllib.request.build_opener(Stay).open(urllib.request.Request(url), timeout=5).close()
    except urllib.error.HTTPError as err:
        location = err.headers.get("location")
        if err.code in (301, 302, 303, 307, 308) and location:
            return urllib.parse.urljoin(url, location)
    except (OSError, ValueError):
        pass
    return url


@dataclass(slots=True)
class Backoff:
    """Seconds to wait before the next attempt: doubling from ``first`` up
    to ``most``, each drawn from half to all of it."""
    first: float = 0.5
    most: float = 10.0
    attempt: int = 0

    def next(self) -> float:
        ceiling = min(self.most, self.first * 2 ** self.attempt)
        self.attempt += 1
        return ceiling * (0.5 + random.random() / 2)

    def reset(self) -> None:
        self.attempt = 0


@dataclass(slots=True)
class _Pending:
    body: dict[str, Any]
    answer: asyncio.Future[dict[str, Any]]
    sent_on: int = -1  # the connection it was last sent on


@dataclass
class HearingClient:
    """``url``: a join link or the websocket URL with ``?token=``.
    ``on_event(seq, event)`` for each committed event in order;
    ``on_snapshot(seq, state)`` for the state a first sync starts from;
    ``on_message(message)`` for everything else (presence, partials,
    ``rtc.*``, ``waiting``, errors)."""
    url: str
    on_event: Callable[[int, dict[str, Any]], None] | None = None
    on_snapshot: Callable[[int, dict[str, Any]], None] | None = None
    on_message: Callable[[dict[str, Any]], Any] | None = None
    #: Start from a snapshot of the state (else: every event from the first).
    snapshot: bool = True
    backoff: Backoff = field(default_factory=Backoff)
    welcome: dict[str, Any] | None = None
    seq: int = 0
    #: Set while connected and synced (live).
    live: asyncio.Event = field(default_factory=asyncio.Event)
    #: Why it stopped for good (a revoked credential), once it has.
    ended: BaseException | None = None
    connections: int = 0
    _ws: Any = None
    _pending: dict[str, _Pending] = field(default_factory=dict)
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _prefix: str = field(default_factory=lambda: secrets.token_hex(4))
    _task: asyncio.Task[None] | None = None
    _stopping: bool = False
    #: The join link as given (a page link is asked again at every
    #: connection where the hearing's media runs now).
    link: str = ""

    def __post_init__(self) -> None:
        self.link = self.url
        self.url = websocket_url(self.url)

    @property
    def participant(self) -> dict[str, Any]:
        assert self.welcome is not None, "not connected yet"
        return self.welcome["participant"]

    async def start(self, timeout: float = 30.0) -> HearingClient:
        """Connect and sync (retrying as ``run`` does); raises ``Revoked`` at
        once for a credential the hub refuses."""
        self._task = asyncio.create_task(self.run())
        live = asyncio.create_task(self.live.wait())
        try:
            await asyncio.wait({live, self._task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            live.cancel()
        if self._task.done():
            self._task.result()  # raises what ended it
        if not self.live.is_set():
            raise TimeoutError(f"not in the hearing after {timeout:.0f} s")
        return self

    async def finished(self) -> None:
        """Until ``run`` (started by ``start``) ends; raises what ended it."""
        assert self._task is not None, "not started"
        await self._task

    async def run(self) -> None:
        """Stay connected until ``close`` (or a revoked credential)."""
        while not self._stopping:
            try:
                await self._connection()
                self.backoff.reset()
                reason = "the connection closed"
            except Revoked as err:
                self.ended = err
                log.error("the hub refused this credential: %s", err)
                self._fail_pending(err)
                raise
            except InvalidStatus as err:
                status = err.response.status_code
                if status in (401, 403, 404):
                    self.ended = Revoked(f"HTTP {status} at the door")
                    self._fail_pending(self.ended)
                    raise self.ended from None
                reason = f"the hub answered HTTP {status}"
            except (OSError, ConnectionClosed, asyncio.TimeoutError, websockets.InvalidHandshake) as err:
                reason = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
            finally:
                self.live.clear()
                self._ws = None
            if self._stopping:
                return
            wait = self.backoff.next()
            log.warning("waiting for the hub at %s (%s); trying again in %.1f s", self._where(), reason, wait)
            await asyncio.sleep(wait)

    def _where(self) -> str:
        parts = urllib.parse.urlsplit(self.url)
        return f"{parts.netloc}{parts.path}"

    async def _connection(self) -> None:
        if self.link.startswith(("http://", "https://")):
            self.url = websocket_url(await asyncio.to_thread(media_link, self.link))
        async with websockets.connect(self.url, max_size=HARD_MESSAGE_LIMIT * 4, compression=None,
                                      open_timeout=10, ping_interval=20, ping_timeout=20) as ws:
            self._ws = ws
            self.connections += 1
            number = self.connections
            try:
                async for raw in ws:
                    await self._handle(json.loads(raw), number)
            except ConnectionClosed as err:
                if err.rcvd is not None and err.rcvd.code == Close.REVOKED:
                    raise Revoked(err.rcvd.reason or "credential revoked") from None
                raise
            if ws.close_code == Close.REVOKED:
                raise Revoked(ws.close_reason or "credential revoked")

    async def _handle(self, msg: dict[str, Any], number: int) -> None:
        kind = msg.get("type")
        if kind == messages.WELCOME:
            self.welcome = msg
            first = messages.snapshot() if self.snapshot and self.seq == 0 else messages.sync(self.seq)
            await self._ws.send(json.dumps(first))
        elif kind == messages.SNAPSHOT:
            if self.seq == 0:
                self.seq = msg["seq"]
                if self.on_snapshot is not None:
                    self.on_snapshot(msg["seq"], msg["state"])
        elif kind == messages.EVENTS:
            for event in msg["events"]:
                self._event(event)
        elif kind == messages.EVENT:
            self._event(msg)
        elif kind == messages.SYNCED:
            self.live.set()
            await self._resend(number)
        elif kind in (messages.ACK, messages.NACK):
            pending = self._pending.pop(msg["op_id"], None)
            if pending is not None and not pending.answer.done():
                pending.answer.set_result(msg)
        elif kind == messages.ERROR and msg.get("error", {}).get("code") == "forbidden" and self.welcome is None:
            raise Revoked(msg["error"].get("message", "forbidden"))
        if kind not in (messages.EVENT, messages.EVENTS, messages.SNAPSHOT) and self.on_message is not None:
            result = self.on_message(msg)
            if asyncio.iscoroutine(result):
                await result

    def _event(self, msg: dict[str, Any]) -> None:
        seq = msg["seq"]
        if seq <= self.seq:
            return  # already had it (the hub never sends one twice; a resync might)
        if seq != self.seq + 1:
            raise ConnectionClosed(None, None)  # a gap: start over from what we have
        self.seq = seq
        if self.on_event is not None:
            self.on_event(seq, msg["event"])

    async def _resend(self, number: int) -> None:
        """Ops not yet answered, sent again on this connection (same op_id)."""
        for op_id, pending in list(self._pending.items()):
            if pending.sent_on != number:
                await self._send_op(op_id, pending, number)

    async def _send_op(self, op_id: str, pending: _Pending, number: int) -> None:
        ws = self._ws
        if ws is None or not self.live.is_set():
            return
        try:
            await ws.send(json.dumps(messages.op(op_id, pending.body)))
            pending.sent_on = number
        except ConnectionClosed:
            pass  # sent again after the reconnection

    async def op(self, body: dict[str, Any], op_id: str | None = None, timeout: float | None = None) -> int:
        """Send an op; its seq once durable. Raises ``Refused`` (a nack),
        ``Revoked``, or ``TimeoutError`` after ``timeout`` seconds (None:
        as long as it takes the hub to come back)."""
        if self.ended is not None:
            raise self.ended
        op_id = op_id or f"{self._prefix}-{next(self._ids)}"
        pending = self._pending.get(op_id)
        if pending is None:
            pending = _Pending(body, asyncio.get_running_loop().create_future())
            self._pending[op_id] = pending
            await self._send_op(op_id, pending, self.connections)
        answer = await asyncio.wait_for(asyncio.shield(pending.answer), timeout)
        if answer["type"] == messages.NACK:
            raise Refused(answer["error"])
        return int(answer["seq"])

    async def send(self, message: dict[str, Any]) -> bool:
        """Send a message that is not an op (``partial``, ``rtc.*``); False if
        not connected (such messages belong to one connection and are not
        queued)."""
        ws = self._ws
        if ws is None:
            return False
        try:
            await ws.send(json.dumps(message))
            return True
        except ConnectionClosed:
            return False

    def _fail_pending(self, err: BaseException) -> None:
        for pending in self._pending.values():
            if not pending.answer.done():
                pending.answer.set_exception(err)
        self._pending.clear()

    async def close(self) -> None:
        self._stopping = True
        if self._ws is not None:
            await self._ws.close()
        if self._task is not None:
            try:
                await self._task
            except (Revoked, asyncio.CancelledError):
                pass

