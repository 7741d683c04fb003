"""This hub process as one node of a cluster.

A node is the authority of the streams whose leases it holds: it orders
their ops, commits them (fenced: see ``storage.leases``) and publishes
every committed entry on the stream's channel. For a stream another node
holds, it keeps a mirror (``mirror.Follower``): the state rebuilt from the
log and then from the published entries, so screens connected here sync,
catch up and see events as on the authority, while their ops are forwarded
to the authority's inbox and answered through this node's.

Leases last ``TTL_MS`` and are renewed every ``RENEW_EVERY`` seconds. A node
that finds a lease it held taken (it was paused or cut off) drops the
stream at once; its screens reconnect. A mirror whose authority's lease
has expired (that node died) is dropped too, so its screens reconnect and
the stream is taken by the node they reach: failover within a few seconds,
with nothing acknowledged lost (it was committed) and nothing applied twice
(op ids are checked against the log by the new authority).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import secrets
import socket
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from redis.exceptions import RedisError

from protocol.limits import Close
from storage import open_database
from storage.leases import Lease, Leases
from transcript.log import LogEntry

from ..room import Room
from ..stream import Stream
from .bus import Bus, node_channel, stream_channel
from .mirror import Follower, entry_to_wire

if TYPE_CHECKING:
    from ..hub import Hub

log = logging.getLogger(__name__)
T = TypeVar("T")

#: How long a lease lasts unless renewed (ms), and how often it is renewed
#: and mirrored leases are looked at (s).
TTL_MS = 2000
RENEW_EVERY = 0.5
WATCH_EVERY = 0.25
#: Seconds a stream's subscription may take before its loading fails.
FOLLOW_TIMEOUT = 5.0
#: Every this many watches (2 s), mirrors say again who is connected to them.
HERE_EVERY = 8


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclasses.dataclass(frozen=True, slots=True)
class RemoteActor:
    """The author of a forwarded op, as the authority knows it: an actor id,
    which the machine resolves as it does a logged entry's."""
    participant_id: str


class RemoteSender:
    """The sender of a forwarded op, at the authority: its answer goes back
    to the node the op came from."""

    live = False
    waiting_since = None
    wants_snapshot = False
    #: The op's node learns of its commit from the published entry, which
    #: answers it there: only refusals (and repeats) are sent back.
    hears_entries = True

    def __init__(self, node: Node, origin: str, stream_id: str, actor_id: str, op_id: str) -> None:
        self.node, self.origin, self.stream_id, self.op_id = node, origin, stream_id, op_id
        self.participant = RemoteActor(actor_id)

    def push(self, message: str) -> None:
        self.node.send(self.origin, {"t": "answer", "s": self.stream_id, "a": self.participant.participant_id,
                                     "id": self.op_id, "m": message})

    def push_replay(self, room: Any, since: int, upto: int, snapshot: str | None = None) -> None:
        """Never asked: a forwarded op does not sync."""

    def close_soon(self, code: int, reason: str) -> None:
        self.node.send(self.origin, {"t": "moved", "s": self.stream_id, "a": self.participant.participant_id,
                                     "id": self.op_id})


class Node:
    def __init__(self, hub: Hub, redis_url: str | None, url: str, node_id: str | None = None) -> None:
        self.hub = hub
        self.url = url
        self.node_id = node_id or f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        #: Without Redis (the workers of one machine, see ``courtroom.workers``)
        #: a node only holds leases: it never mirrors, and a stream another
        #: node holds is not served here (the front sends screens to the holder).
        self.bus = Bus(redis_url, self.node_id) if redis_url else None
        #: Whether clients may be sent to this node's URL (a cluster node's).
        #: A worker's is a private port behind the front: requests are passed
        #: on to it, never redirected.
        self.public = self.bus is not None
        #: Streams this node is the authority of, and the lease's epoch.
        self.held: dict[str, int] = {}
        #: Streams mirrored here, and who is their authority.
        self.followers: dict[str, Follower] = {}
        self._outbox: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._urls: dict[str, str] = {}
        #: Mirrored streams this node is taking over now.
        self._taking: set[str] = set()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self.leases: Leases = await self.hub.store_call(Leases, self.hub.store.db)
        # Upkeep (renewing, looking up holders) has a connection and thread
        # of its own: the hub's commits never wait behind it.
        self._upkeep_thread = ThreadPoolExecutor(1, thread_name_prefix="leases")
        self.upkeep: Leases = await self._upkeep(
            lambda: Leases(open_database(self.hub.database, self.hub.data_dir, beside_hub=True)))
        await self._upkeep(self.upkeep.announce, self.node_id, self.url, now_ms())
        self._tasks = [asyncio.create_task(self._renew_loop()), asyncio.create_task(self._watch_loop())]
        if self.bus is not None:
            await self.bus.start(self._inbox)
            self.bus.on_reconnect = self._after_reconnect
            self._tasks.append(asyncio.create_task(self._send_loop(self.bus)))
        log.info("cluster node %s (%s) started", self.node_id, self.url)

    async def close(self) -> None:
        """Leave the cluster: give every lease up, so other nodes take the
        streams at once rather than after the leases expire."""
        for task in self._tasks:
            task.cancel()
        held, self.held = self.held, {}
        for stream_id, epoch in held.items():
            await self._upkeep(self.upkeep.release, stream_id, self.node_id, epoch)
        await self._upkeep(self.upkeep.db.close)
        self._upkeep_thread.shutdown()
        if self.bus is not None:
            await self.bus.close()

    async def _upkeep(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._upkeep_thread, fn, *args)

    # -- leases (on the store thread) ------------------------------------------------

    def claim(self, stream_id: str) -> Lease:
        """Take the stream's lease if no live node holds it."""
        lease = self.leases.acquire(stream_id, self.node_id, now_ms(), TTL_MS)
        if lease.node == self.node_id:
            self.held[stream_id] = lease.epoch
        return lease

    def claim_new(self, stream_id: str) -> None:
        """The lease of a stream being created here, in its transaction."""
        self.held[stream_id] = self.leases.claim_new(stream_id, self.node_id, now_ms(), TTL_MS).epoch

    def fence(self, entries: list[LogEntry]) -> None:
        """In a commit's transaction: every stream written is still ours."""
        self.leases.fence(self.node_id, {e.stream_id: self.held.get(e.stream_id, 0) for e in entries})

    # -- what the authority sends ------------------------------------------------------

    def published(self, entries: list[LogEntry]) -> None:
        """Committed entries, to every node that mirrors their streams."""
        if self.bus is None:
            return
        by_stream: dict[str, list[list[Any]]] = defaultdict(list)
        for e in entries:
            by_stream[e.stream_id].append(entry_to_wire(e))
        self._outbox.put_nowait(("publish", [(s, {"t": "entries", "e": es}) for s, es in by_stream.items()]))

    def passing(self, stream_id: str, message: dict[str, Any]) -> None:
        """A message that is not logged (interim speech), to the mirrors."""
        if self.bus is None:
            return
        self._outbox.put_nowait(("publish", [(stream_id, {"t": "pass", "m": message})]))

    def send(self, node: str, message: dict[str, Any]) -> None:
        if self.bus is None:
            return
        self._outbox.put_nowait(("send", (node, message)))

    async def _send_loop(self, bus: Bus) -> None:
        """One sender, so a stream's messages leave in the order they were
        made; whatever has queued up meanwhile leaves in one round trip."""
        while True:
            first = await self._outbox.get()
            waiting = [first]
            while not self._outbox.empty():
                waiting.append(self._outbox.get_nowait())
            messages: list[tuple[str, dict[str, Any]]] = []
            for kind, payload in waiting:
                if kind == "publish":
                    messages += [(stream_channel(s), m) for s, m in payload]
                else:
                    messages.append((node_channel(payload[0]), payload[1]))
            try:
                await bus.publish(messages)
            except Exception as err:  # Redis away: mirrors catch up from the log
                log.warning("cluster messages not sent: %s", err)

    # -- mirrors ---------------------------------------------------------------------------

    async def follow(self, stream_id: str, authority: str) -> Follower:
        """Start mirroring a stream: subscribed before its log is read, so
        no entry falls between the two."""
        if self.bus is None:
            raise ConnectionError(f"{stream_id} is served by another process")
        follower = self.followers.get(stream_id)
        if follower is None:
            follower = self.followers[stream_id] = Follower(self, stream_id, authority)
            try:
                # Bounded: the stream's loading (and every screen waiting
                # for it) must not hang on a Redis that stopped answering.
                await asyncio.wait_for(self.bus.follow(stream_id, follower.on_message), FOLLOW_TIMEOUT)
            except (TimeoutError, RedisError, OSError) as err:
                self.followers.pop(stream_id, None)
                asyncio.ensure_future(self.bus.unfollow(stream_id))
                raise ConnectionError(f"cannot follow {stream_id} through Redis: {err or 'no answer'}") from None
        follower.redirect(authority)
        return follower

    def forward(self, stream: Stream, actor_id: str, op_id: str, op: Any) -> None:
        follower = self.followers.get(stream.stream_id)
        if follower is None:
            stream.abandon_forwarded(actor_id, op_id)
            return
        follower.sent(actor_id, op_id, op)
        self.send_op(follower, actor_id, op_id, op)

    def send_op(self, follower: Follower, actor_id: str, op_id: str, op: Any) -> None:
        """A mirrored stream's op, to the stream's authority's inbox."""
        self.send(follower.authority, {"t": "op", "s": follower.stream_id, "a": actor_id, "id": op_id, "op": op,
                                       "from": self.node_id})

    def tell_here(self, stream: Room) -> None:
        """Tell a mirrored hearing's authority who is connected here."""
        follower = self.followers.get(stream.stream_id)
        if follower is not None:
            ids, devices = stream.here()
            self.send(follower.authority, {"t": "here", "s": stream.stream_id, "from": self.node_id,
                                           "ids": sorted(ids), "devices": devices})

    def dropped(self, stream_id: str) -> None:
        """The hub let a stream go: its lease, or its mirror."""
        epoch = self.held.pop(stream_id, None)
        if epoch is not None:
            asyncio.ensure_future(self._upkeep(self.upkeep.release, stream_id, self.node_id, epoch))
        if self.followers.pop(stream_id, None) is not None and self.bus is not None:
            asyncio.ensure_future(self.bus.unfollow(stream_id))

    async def authority_url(self, stream_id: str) -> str | None:
        """Where another node serves the stream as its authority, or None if
        this node is (or may become) its authority."""
        if stream_id in self.held:
            return None
        follower = self.followers.get(stream_id)
        if follower is not None:
            node = follower.authority
        else:
            lease = await self._upkeep(self.upkeep.holder, stream_id)
            if lease is None or lease.expires_ms < now_ms() or lease.node == self.node_id:
                return None
            node = lease.node
        url = self._urls.get(node)
        if url is None:
            url = await self._upkeep(self.upkeep.url_of, node)
            if url is not None:
                self._urls[node] = url
        return url

    # -- the inbox -------------------------------------------------------------------------

    def _inbox(self, message: dict[str, Any]) -> None:
        kind, stream_id = message.get("t"), message.get("s", "")
        stream = self.hub.loaded_stream(stream_id)
        if kind == "op":
            if stream is None or stream.upstream is not None or stream_id not in self.held or stream.broken:
                self.send(message["from"], {"t": "moved", "s": stream_id, "a": message["a"], "id": message["id"]})
                return
            sender = RemoteSender(self, message["from"], stream_id, message["a"], message["id"])
            stream.submit_logged(sender, message["a"], message["id"], message["op"])
        elif kind == "here" and stream is not None and stream.upstream is None and stream_id in self.held:
            elsewhere = getattr(stream, "elsewhere", None)
            if elsewhere is not None:
                elsewhere(message["from"], set(message["ids"]), message["devices"])
        elif kind == "answer" and stream is not None and stream.upstream is not None:
            stream.answer_forwarded(message["a"], message["id"], message["m"])
        elif kind == "moved" and stream is not None and stream.upstream is not None:
            # The node we took for the authority is not (any more): start
            # over, from the log and whoever holds the lease now.
            stream.abandon_forwarded(message["a"], message["id"])
            self.hub.evict(stream_id)

    # -- upkeep ------------------------------------------------------------------------------

    async def _renew_loop(self) -> None:
        while True:
            await asyncio.sleep(RENEW_EVERY)
            try:
                lost = await self._upkeep(self.upkeep.renew, self.node_id, dict(self.held), now_ms(), TTL_MS)
            except Exception as err:
                log.warning("leases not renewed: %s", err)
                continue
            for stream_id in lost:
                if self.held.pop(stream_id, None) is not None:
                    log.warning("%s: lease lost to another node; dropping it here", stream_id)
                    self.hub.evict(stream_id)

    async def _watch_loop(self) -> None:
        ticks = 0
        while True:
            await asyncio.sleep(WATCH_EVERY)
            ticks += 1
            if ticks % HERE_EVERY == 0:
                self._say_here()
            if not self.followers:
                continue
            try:
                holders = await self._upkeep(self.upkeep.holders, list(self.followers))
            except Exception as err:
                log.warning("mirrored leases not read: %s", err)
                continue
            now = now_ms()
            for stream_id, follower in list(self.followers.items()):
                lease = holders.get(stream_id)
                if lease is None or lease.expires_ms < now or lease.node == self.node_id:
                    # Its authority died or let it go: take it over here.
                    if stream_id not in self._taking:
                        self._taking.add(stream_id)
                        asyncio.ensure_future(self._take_over(stream_id))
                elif lease.node != follower.authority:
                    follower.redirect(lease.node)
                else:
                    follower.check_overdue()

    async def _take_over(self, stream_id: str) -> None:
        """Become the authority of a stream mirrored here whose authority is
        gone, keeping the mirror's state: the lease first, then whatever
        the log holds beyond the mirror, then the ops this node had
        forwarded, applied here. The screens stay connected; no reload of
        the whole log (which grows with the hearing) stands in the way."""
        try:
            follower = self.followers.get(stream_id)
            stream = follower.stream if follower is not None else None
            if follower is None or stream is None or stream.broken:
                return
            lease = await self.hub.store_call(self.claim, stream_id)
            if lease.node != self.node_id:
                follower.redirect(lease.node)  # another node was quicker
                return
            try:
                missed = await self.hub.store_call(
                    lambda: list(self.hub.log.entries(stream_id, after=stream.committed_seq)))
                for entry in missed:
                    stream.follow_remote(entry)
            except Exception as err:
                log.error("%s: could not take it over from its mirror (%s); reloading it", stream_id, err)
                self.hub.evict(stream_id)
                return
            del self.followers[stream_id]
            assert self.bus is not None  # only a node with a bus mirrors
            await self.bus.unfollow(stream_id)
            stream.upstream = None
            self.hub.adopt(stream)
            forwarded = follower.forwarded()
            for (actor_id, op_id), waiters in stream.take_inflight().items():
                op = forwarded.get((actor_id, op_id))
                for waiter in waiters:
                    if op is None:
                        waiter.close_soon(Close.UNAVAILABLE, stream.RELOADING)
                    else:
                        stream.submit_logged(waiter, actor_id, op_id, op)
            log.warning("%s: its authority is gone; this node took it over at seq %d", stream_id, stream.seq)
        finally:
            self._taking.discard(stream_id)

    def _say_here(self) -> None:
        """Who is connected where, again: mirrors repeat it to authorities,
        and authorities let go of what a silent node last said."""
        for stream_id, follower in self.followers.items():
            if isinstance(follower.stream, Room):
                self.tell_here(follower.stream)
        for stream_id in self.held:
            stream = self.hub.loaded_stream(stream_id)
            if isinstance(stream, Room) and stream.hears_elsewhere():
                stream.presence_changed()

    def _after_reconnect(self) -> None:
        for follower in self.followers.values():
            follower.catch_up()
