"""The hub: hearings in memory, their logs in the store, and the group committer.

All database work runs on one worker thread, through the storage port
(``storage``: SQLite by default, PostgreSQL for a cluster). Accepted ops from every hearing
are gathered while the previous commit is in progress and written in the next
transaction (group commit), so one fsync serves many ops.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, TypeVar

from transcript.heads import SignedHead, Signer, check_head
from transcript.actors import SYSTEM
from transcript.log import ChainError, LogEntry, make_entry, replay, GENESIS_HASH
from transcript.model import RULES, HearingInfo, Participant, Staff
from transcript.proceedings import Status
from transcript.roles import Role, Site
from transcript.quotas import Quotas
from transcript.state import TranscriptState, create_op
from storage import Store, open_store
from storage.leases import Fenced
from case.model import Assigned, CaseInfo, CaseRole
from case.ops import NewCase
from case.state import CaseState, create_op as create_case_op

from storage.accounts import Account
from storage.tokens import new_token
from .kinds import machine_for
from .casespace import CaseSpace

from storage.equipment import Device
from .cluster.node import Node
from .media.mediaroom import MediaConfig, MediaRoom
from .ratelimit import Pace, RateLimit
from .room import Room
from .stream import Stream

log = logging.getLogger(__name__)
T = TypeVar("T")

#: At most this many entries go into one transaction.
MAX_BATCH = 2_000
#: Streams served by another worker kept as last looked at (``Hub.view``).
VIEWS_KEPT = 256
#: Catch-up messages per second for all joining screens together: about a
#: third of one core, the rest stays with the live hearing.
REPLAY_RATE = 10_000
REPLAYS_AT_ONCE = 2
#: New screens per second the hub takes in (each costs about 1 ms of CPU
#: before its catch-up); a burst of this many is taken at once.
JOIN_RATE = 150
JOIN_BURST = 20
#: Screens waiting to be taken in; more are turned away to retry.
JOIN_QUEUE = 150
#: A hearing or case nobody has used for this long leaves memory (seconds);
#: its next use loads it again from its log.
EVICT_AFTER = 600.0
#: Seconds between looks at whether a device connected here was revoked
#: by another process (workers, cluster nodes).
DEVICE_SWEEP = 1.0


class HearingUnavailable(Exception):
    """The hearing (or case) cannot be served: its log failed verification
    (for good), or it is being reloaded (for a moment)."""


class Hub:
    def __init__(self, data_dir: Path, media: MediaConfig | None = None, quotas: Quotas = Quotas(),
                 rate: RateLimit = RateLimit(), signer: Signer | None = None,
                 database: str | None = None, evict_after: float = EVICT_AFTER,
                 cluster: tuple[str | None, str, str | None] | None = None,
                 resumes: Callable[[str], bool] | None = None) -> None:
        """``resumes``: which hearings streamed when the hub last stopped
        this process takes up at start (see ``_resume_streams``); None:
        every one, or none at all on a worker of ``--workers``."""
        self.data_dir = data_dir
        #: A PostgreSQL URL, or None for the data directory's SQLite file.
        self.database = database
        #: Signs each hearing's head as it is committed; a hub without one
        #: (in-process tests) neither signs nor checks heads.
        self.signer = signer
        self.media = media
        self.quotas = quotas
        self.rate = rate
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="store")
        #: Every stream loaded: hearings' rooms and cases' spaces.
        self._rooms: dict[str, Stream] = {}
        self._loading: dict[str, asyncio.Lock] = {}
        self._pending: list[tuple[Stream, LogEntry]] = []
        self._wake = asyncio.Event()
        #: A few catch-up replays progress at once, sharing one pace (see
        #: Session._replay); the other joining screens wait their turn.
        self.replaying = asyncio.Semaphore(REPLAYS_AT_ONCE)
        self.replay_pace = Pace(REPLAY_RATE)
        #: New websocket screens admitted one at a time, at ``JOIN_RATE``.
        self.joining = asyncio.Semaphore(1)
        self.join_waiting = 0
        self.join_pace = Pace(JOIN_RATE, burst=JOIN_BURST / JOIN_RATE)
        self._committer: asyncio.Task[None] | None = None
        self.evict_after = evict_after
        #: (Redis URL, this node's URL, its node id or None) when this hub is
        #: one node of a cluster, or (None, its private URL, its node id)
        #: when it is one of the workers of ``courtroom serve --workers``.
        self._cluster = cluster
        self._resumes = resumes
        self.node: Node | None = None
        #: Streams found idle, and since when (monotonic seconds).
        self._idle_since: dict[str, float] = {}
        self._evictor: asyncio.Task[None] | None = None
        self._resumer: asyncio.Task[None] | None = None
        #: Streams another worker of this machine serves, as last looked at
        #: (``view``): each look reads only the entries since.
        self._views: dict[str, Stream] = {}
        self._sweeper: asyncio.Task[None] | None = None

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def start(self) -> None:
        self.store: Store = await self._run(lambda: open_store(self.database, self.data_dir, hub=True))
        store = self.store
        self.log, self.invites, self.equipment = store.log, store.invites, store.equipment
        self.case_links, self.accounts = store.case_links, store.accounts
        if self._cluster is not None:
            self.node = Node(self, *self._cluster)
            await self.node.start()
        self._committer = asyncio.create_task(self._commit_loop())
        self._evictor = asyncio.create_task(self._evict_loop())
        self._resumer = asyncio.create_task(self._resume_streams())
        if self.node is not None:
            self._sweeper = asyncio.create_task(self._revoked_devices_loop())

    async def _resume_streams(self) -> None:
        """The live streams that were on when the hub last stopped (or was
        killed) go on: their hearings are loaded, and each media room starts
        its composer if the hearing still streams. A single hub and a
        cluster's nodes take up every one (whichever takes the lease serves
        it); a worker of ``--workers`` those its ``resumes`` names (the
        hearings whose home it is, where the front sends a hearing nobody
        holds), so that each is loaded once, where its screens will go."""
        live = self.media.live if self.media is not None else None
        if live is None:
            return
        resumes = self._resumes
        if resumes is None and self.node is not None and not self.node.public:
            return  # a worker not told which hearings are its own
        for hearing_id in await self._run(live.resumable):
            if resumes is not None and not resumes(hearing_id):
                continue
            try:
                await self.room(hearing_id)
            except HearingUnavailable as err:
                log.warning("hearing %s: its live stream cannot go on yet: %s", hearing_id, err)

    async def store_call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn`` on the store thread (all database work runs there)."""
        return await self._run(fn, *args)

    def adopt(self, stream: Stream) -> None:
        """A mirror has become its stream's authority here: a hearing gets
        its media room."""
        if isinstance(stream, Room):
            if self.media is not None and stream.media is None:
                stream.media = MediaRoom(stream, self.media)
            stream.presence_changed()

    def loaded_stream(self, stream_id: str) -> Stream | None:
        """The stream if it is in memory now (never loads it)."""
        return self._rooms.get(stream_id)

    async def close(self) -> None:
        for room in self._hearing_rooms():
            if room.media is not None:
                await room.media.close(hub_stopping=True)  # finishes the recordings
        for task in (self._committer, self._evictor, self._sweeper, self._resumer):
            if task is not None:
                task.cancel()
        if self.node is not None:
            await self.node.close()
        await self._run(self.store.db.close)
        self._executor.shutdown()

    # -- hearings -------------------------------------------------------------

    async def create_hearing(self, case_number: str, title: str, court: str,
                             people: list[tuple[Role, str, Site]],
                             waiting_room: bool = False, courtroom: str | None = None,
                             kind: str = "hearing", public: bool = True,
                             along: Callable[[HearingInfo, list[tuple[Participant, str]]], tuple[Stream, LogEntry]]
                             | None = None) -> tuple[HearingInfo, list[tuple[Participant, str]]]:
        """Create a hearing. ``along`` seals another stream's entry about it
        (``Stream.hold``: a case scheduling it), written in the same
        transaction: both or neither."""
        hearing_id = "h-" + secrets.token_hex(8)
        participants = [Participant("p-" + secrets.token_hex(6), role, name, site) for role, name, site in people]
        info = HearingInfo(hearing_id, case_number, title, court, {p.participant_id: p for p in participants},
                           waiting_room, RULES, courtroom, kind, public)
        state = TranscriptState()
        event = state.create(info)
        entry = make_entry(GENESIS_HASH, hearing_id, 1, SYSTEM, "create", int(time.time() * 1000),
                           create_op(info), event)
        tokens = [(p, new_token()) for p in participants]
        other = along(info, tokens) if along is not None else None
        entries = [entry] + ([other[1]] if other is not None else [])

        def also() -> None:
            self.invites.insert(hearing_id, [(p.participant_id, t) for p, t in tokens])
            if courtroom is not None:
                self.equipment.place(hearing_id, courtroom, entry.ts_ms)
            if self.node is not None:
                self.node.claim_new(hearing_id)
                self.node.fence(entries[1:])
            self._sign(entries)
        try:
            await self._run(self.log.append, entries, also)
        except BaseException:
            if other is not None:
                self.discard(other[0], "log write failed")
            raise
        self._rooms[hearing_id] = self._room(hearing_id, state, [entry])
        if other is not None:
            other[0].committed(other[1])
        if self.node is not None:
            self.node.published(entries)
        return info, tokens

    async def create_case(self, case: NewCase, filer: Staff) -> tuple[CaseSpace, dict[str, str]]:
        """File a case: its first log entry, and an entry link per party
        (their tokens, shown once), in one transaction. A judge or clerk
        who files it is assigned to it as such."""
        case_id = "c-" + secrets.token_hex(8)
        now = int(time.time() * 1000)
        info = CaseInfo(case_id, case.case_number, case.cause, case.court, case.procedure, now)
        if filer.role in ("judge", "clerk"):
            info.staff[CaseRole(filer.role)] = Assigned(filer.staff_id, filer.name)
        state = CaseState()
        op = create_case_op(info, case.parties)
        event = state.create(op, now)
        entry = make_entry(GENESIS_HASH, case_id, 1, SYSTEM, "create", now, op, event)
        links: dict[str, str] = {}

        def also() -> None:
            links.update(self.case_links.issue(case_id, list(state.parties)))
            if self.node is not None:
                self.node.claim_new(case_id)
            self._sign([entry])
        await self._run(self.log.append, [entry], also)
        space = CaseSpace(self, case_id, state, [entry])
        self._rooms[case_id] = space
        return space, links

    # -- staff accounts -----------------------------------------------------------

    async def staff_session(self, session: str) -> Account | None:
        """The staff account a session token belongs to, or None."""
        if not session or len(session) > 256:
            return None
        return await self._run(self.accounts.session, session)

    async def accounts_do(self, fn: Callable[..., T], *args: Any) -> T:
        """Run one of ``self.accounts``' methods on the store thread."""
        return await self._run(fn, *args)

    # -- cases -----------------------------------------------------------------------

    async def case_ids(self) -> list[str]:
        """Every case filed, oldest first."""
        return await self._run(self.log.stream_ids, "c-")

    async def case_link_party(self, case_id: str, link: str) -> str | None:
        """The party an entry link names, or None."""
        if not link or len(link) > 256:
            return None
        return await self._run(self.case_links.party_of_link, case_id, link)

    async def case_party(self, case_id: str, session: str) -> str | None:
        """The party a device is signed in as, or None (never, revoked, or
        the case has closed)."""
        return await self._run(self.case_links.party_of_device, case_id, session)

    async def reissue_case_link(self, case_id: str, party_id: str) -> str:
        """A new entry link for a party; its old one stops working."""
        return await self._run(self.case_links.reissue, case_id, party_id)

    async def sign_in_case(self, case_id: str, party_id: str) -> str:
        return await self._run(self.case_links.sign_in, case_id, party_id)

    def _room(self, hearing_id: str, state: TranscriptState, entries: list[LogEntry], media: bool = True) -> Room:
        room = Room(self, hearing_id, state, entries)
        if self.media is not None and media:
            room.media = MediaRoom(room, self.media)
        return room

    async def room(self, hearing_id: str) -> Room | None:
        """The hearing's room, loaded from its log on first use."""
        room = await self._stream(hearing_id) if hearing_id.startswith("h-") else None
        return room if isinstance(room, Room) else None

    async def case(self, case_id: str) -> CaseSpace | None:
        """The case's space, loaded from its log on first use."""
        space = await self._stream(case_id) if case_id.startswith("c-") else None
        return space if isinstance(space, CaseSpace) else None

    def _hearing_rooms(self) -> list[Room]:
        return [room for room in self._rooms.values() if isinstance(room, Room)]

    async def _stream(self, stream_id: str) -> Stream | None:
        stream = self._rooms.get(stream_id)
        if stream is not None:
            if stream.broken:
                raise HearingUnavailable(f"{stream.RELOADING}; try again in a moment")
            return stream
        lock = self._loading.setdefault(stream_id, asyncio.Lock())
        async with lock:
            stream = self._rooms.get(stream_id)
            if stream is None:
                stream = await self._load(stream_id)
                if stream is not None:
                    self._rooms[stream_id] = stream
        return stream

    async def _load(self, stream_id: str) -> Stream | None:
        machine = machine_for(stream_id)
        if machine is None:
            return None
        follower = None
        if self.node is not None:
            # The lease first, then the log: what the log holds once the
            # lease is ours is all there will ever be before our own ops.
            if not await self._run(self.log.exists, stream_id):
                return None
            lease = await self._run(self.node.claim, stream_id)
            if lease.node != self.node.node_id:
                try:
                    follower = await self.node.follow(stream_id, lease.node)
                except ConnectionError as err:
                    raise HearingUnavailable(f"{err}; try again in a moment") from None
        entries, head = await self._run(self.log.read, stream_id)
        if not entries:
            return None
        try:
            # A mirror has no media: the hearing's media runs where its authority is.
            stream = self._verified(stream_id, machine, entries, head, media=follower is None)
        except HearingUnavailable:
            if self.node is not None:
                self.node.dropped(stream_id)
            raise
        if follower is not None:
            follower.attach(stream)
        return stream

    def _verified(self, stream_id: str, machine: Any, entries: list[LogEntry], head: SignedHead | None,
                  media: bool = True) -> Stream:
        try:
            state, last_hash, last_seq = replay(entries, stream_id, machine)
        except ChainError as err:
            log.error("%s: log failed verification: %s", stream_id, err)
            raise HearingUnavailable(f"log failed verification: {err}") from None
        if self.signer is not None:
            problem = check_head(head, last_seq, last_hash, [self.signer.public])
            if problem is not None:
                log.error("%s: log does not match its signed head: %s", stream_id, problem)
                raise HearingUnavailable(f"log failed verification: {problem}")
        if isinstance(state, CaseState):
            return CaseSpace(self, stream_id, state, entries)
        return self._room(stream_id, state, entries, media)

    async def heads(self) -> list[SignedHead]:
        """Every hearing's signed head as committed (the court's anchors)."""
        return await self._run(self.log.heads)

    def _sign(self, entries: list[LogEntry]) -> None:
        """Sign the new head of every hearing among ``entries``; on the store
        thread, inside the transaction that appends them."""
        if self.signer is None:
            return
        last: dict[str, LogEntry] = {}
        for e in entries:
            last[e.stream_id] = e
        self.log.put_heads([self.signer.sign(e.stream_id, e.seq, e.hash, e.ts_ms) for e in last.values()])

    async def invitee(self, hearing_id: str, token: str) -> str | None:
        """Whose invite ``token`` is in the hearing, or None; without loading
        the hearing (a node that only redirects asks this)."""
        if not token or len(token) > 256:
            return None
        return await self._run(self.invites.lookup, hearing_id, token)

    async def authenticate(self, hearing_id: str, token: str) -> tuple[Room, Participant] | None:
        """The room and participant an invite token admits to, or None."""
        participant_id = await self.invitee(hearing_id, token)
        if participant_id is None:
            return None
        room = await self.room(hearing_id)
        if room is None or room.state.hearing is None:
            return None
        return room, room.state.hearing.participants[participant_id]

    # -- courtroom equipment ------------------------------------------------------

    async def issue_device(self, courtroom: str, name: str, actor: str) -> tuple[Device, str]:
        device, token = await self._run(self.equipment.issue, courtroom, name, actor)
        log.info("device %s (%s) issued for courtroom %s by %s", device.device_id, name, courtroom, actor)
        return device, token

    async def revoke_device(self, device_id: str, actor: str) -> Device | None:
        """Revoke a device's credential; its connections close at once (4401)."""
        device = await self._run(self.equipment.revoke, device_id, actor)
        if device is not None:
            log.info("device %s (%s) revoked by %s", device_id, device.name, actor)
            for room in self._hearing_rooms():
                room.revoked(device_id)
        return device

    async def equipment_report(self) -> tuple[list[Device], list[dict[str, Any]]]:
        """Every device issued, and the log of issues and revocations."""
        return await self._run(lambda: (self.equipment.all(), self.equipment.history()))

    async def device(self, token: str) -> Device | None:
        """The device a credential stands for, or None (unknown or revoked)."""
        if not token or len(token) > 256:
            return None
        return await self._run(self.equipment.lookup, token)

    async def current_hearing(self, courtroom: str) -> Room | None:
        """The hearing the courtroom holds now: the newest in session (or
        adjourned), else the newest not yet opened, else the newest that has
        ended (its parties still sign the record, some with the courtroom's
        fingerprint readers)."""
        best: tuple[int, Room] | None = None
        rank = {Status.IN_SESSION: 0, Status.PAUSED: 0, Status.NOT_STARTED: 1, Status.ENDED: 2}
        for hearing_id in await self._run(self.equipment.hearings_in, courtroom):
            room = await self.view(hearing_id)
            if isinstance(room, Room) and (best is None or rank[room.state.proceedings.status] < best[0]):
                best = (rank[room.state.proceedings.status], room)
        return None if best is None else best[1]

    async def view(self, stream_id: str) -> Stream | None:
        """A stream to look at, not to write to: the one served here, else,
        on a worker of ``--workers``, as its log has it now (read, never
        held: looking through every case for a list must not take the
        leases of those nobody holds, or of the other worker's). None if it
        cannot be had. (A single hub loads it; a cluster's nodes mirror.)"""
        if self.node is None or self.node.public:
            try:
                return await self._stream(stream_id)
            except HearingUnavailable:
                return None
        here = self._rooms.get(stream_id)
        if here is not None and not here.broken:
            return here
        cached = self._views.pop(stream_id, None)
        if cached is not None:
            newer, head = await self._run(self.log.read, stream_id, cached.committed_seq)
            try:
                for entry in newer:
                    cached.follow_remote(entry)
            except ChainError as err:
                log.error("%s: log failed verification: %s", stream_id, err)
                return None
            if self.signer is None or check_head(head, cached.seq, cached.head, [self.signer.public]) is None:
                self._views[stream_id] = cached  # (the newest last: the oldest go first)
                return cached
            log.error("%s: log does not match its signed head", stream_id)
            return None
        machine = machine_for(stream_id)
        entries, head = await self._run(self.log.read, stream_id)
        if machine is None or not entries:
            return None
        try:
            stream = self._verified(stream_id, machine, entries, head, media=False)
        except HearingUnavailable:
            return None
        self._views[stream_id] = stream
        while len(self._views) > VIEWS_KEPT:
            del self._views[next(iter(self._views))]
        return stream

    def _derive(self, entries: list[LogEntry]) -> None:
        """What a batch changes besides the log, in its transaction: the
        leases it needs still ours, invites revoked or replaced, and the
        signed heads."""
        if self.node is not None:
            self.node.fence(entries)
        self.invites.follow(entries)
        self.case_links.follow(entries)
        self._sign(entries)

    def discard(self, room: Stream, reason: str) -> None:
        """Drop a room whose memory can no longer be trusted: its clients
        reconnect and resend what was not acknowledged, and the next use of
        the hearing loads it again from its log. It leaves ``_rooms`` only
        once no batch holding its entries is being written (see
        ``_commit_loop``), so the reload sees every entry it committed."""
        room.fail(reason)
        self._wake.set()

    async def _revoked_devices_loop(self) -> None:
        """With other processes (workers, nodes), a device may be revoked by
        one while its connection is on another: each looks again every
        ``DEVICE_SWEEP`` seconds at the devices connected to it."""
        while True:
            await asyncio.sleep(DEVICE_SWEEP)
            here = {room: room.here()[1] for room in self._hearing_rooms()}
            ids = sorted({d for devices in here.values() for d in devices})
            if not ids:
                continue
            try:
                revoked = await self._run(self.equipment.revoked_among, ids)
            except Exception as err:
                log.warning("revoked devices not looked up: %s", err)
                continue
            for room, devices in here.items():
                for device_id in revoked & devices.keys():
                    room.revoked(device_id)

    async def _evict_loop(self) -> None:
        while True:
            await asyncio.sleep(max(1.0, min(60.0, self.evict_after / 2)))
            self.evict_idle()

    def evict_idle(self) -> list[str]:
        """Evict every stream idle for ``evict_after`` seconds; their ids."""
        now = time.monotonic()
        evicted = []
        for stream_id, stream in list(self._rooms.items()):
            if not stream.idle():
                self._idle_since.pop(stream_id, None)
            elif now - self._idle_since.setdefault(stream_id, now) >= self.evict_after:
                self.evict(stream_id)
                evicted.append(stream_id)
        return evicted

    def evict(self, stream_id: str) -> None:
        """Drop a stream from memory (finishing its recordings); anyone
        still holding it is sent to load it again. Its log is untouched."""
        stream = self._rooms.pop(stream_id, None)
        self._idle_since.pop(stream_id, None)
        if stream is not None:
            stream.fail(stream.RELOADING)
        if self.node is not None:
            self.node.dropped(stream_id)

    def loaded(self) -> list[str]:
        """The streams in memory now."""
        return list(self._rooms)

    def _evict_broken(self) -> None:
        for stream_id, room in list(self._rooms.items()):
            if room.broken:
                del self._rooms[stream_id]
                if self.node is not None:
                    self.node.dropped(stream_id)

    # -- group commit -----------------------------------------------------------

    def commit(self, room: Stream, entry: LogEntry) -> None:
        self._pending.append((room, entry))
        self._wake.set()

    async def _commit_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch = [(r, e) for r, e in self._pending[:MAX_BATCH] if not r.broken]
                del self._pending[:MAX_BATCH]
                if not batch:
                    continue
                try:
                    batch = await self._append(batch)
                except Exception as err:
                    log.exception("log append failed")
                    for room in {r for r, _ in batch}:
                        room.fail(f"log write failed: {err}")
                    continue
                for room, entry in batch:
                    room.committed(entry)
                if self.node is not None:
                    self.node.published([e for _, e in batch])
            self._evict_broken()

    async def _append(self, batch: list[tuple[Stream, LogEntry]]) -> list[tuple[Stream, LogEntry]]:
        """Commit a batch; the part of it committed. Streams whose lease was
        lost (another node took them) are dropped from it, and from this
        node, and the rest is written without them."""
        while True:
            entries = [e for _, e in batch]
            try:
                await self._run(self.log.append, entries, lambda: self._derive(entries))
                return batch
            except Fenced as fenced:
                log.warning("not committed, the lease is another node's: %s", ", ".join(sorted(fenced.streams)))
                for stream_id in fenced.streams:
                    self.evict(stream_id)
                batch = [(r, e) for r, e in batch if e.stream_id not in fenced.streams]
                if not batch:
                    return batch
