"""One hearing's authority: a stream (``stream.Stream``) whose state is the
transcript, with its committed event history, the screens connected to it,
their presence and the media room.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

from protocol import messages
from protocol.limits import Close
from transcript.errors import OpError
from transcript.actors import speech_actor
from transcript.log import LogEntry
from transcript.model import Actor, Participant
from transcript.sittings import Sittings
from transcript.state import TranscriptState

from .captures import Captures
from storage.equipment import is_device_id
from .stream import Event, Listener, Stream, encode

if TYPE_CHECKING:
    from .hub import Hub
    from .media.mediaroom import MediaRoom

log = logging.getLogger(__name__)

#: Presence is sent to the screens at most this often (seconds).
PRESENCE_EVERY = 0.25
#: In a cluster, how long another node's word on who is connected there
#: holds (it repeats it every 2 s while it mirrors the hearing).
ELSEWHERE_FOR = 6.0
#: Close code for a client whose invite token was revoked or replaced
#: (the same as for a token that never was valid).
CLOSE_REVOKED = Close.REVOKED


class Room(Stream):
    """A hearing's stream: its transcript, and the screens, presence and
    media around it."""

    state: TranscriptState
    RELOADING = "hearing is reloading"

    def __init__(self, hub: Hub, hearing_id: str, state: TranscriptState, entries: list[LogEntry]) -> None:
        state.quotas = hub.quotas
        self.listeners: set[Listener] = set()
        self.events: list[str] = []
        #: The hearing's clock starts when it was created: segment times and
        #: recordings are seconds since then.
        self.created_ms = entries[0].ts_ms if entries else int(time.time() * 1000)
        self.media: MediaRoom | None = None
        #: When the hearing sat, for the 笔录 (durable entries only).
        self.sittings = Sittings()
        #: When each participant's last connection closed (ms since the epoch),
        #: while this hub has run: a terminal that dropped out shows since when.
        self._last_seen: dict[str, int] = {}
        #: The last snapshot message built, and the seq it shows.
        self._snapshot: tuple[int, str] | None = None
        self._presence: dict[str, Any] = {}
        #: In a cluster, on the authority: who is connected on each other
        #: node (participant ids, devices' names) and when it last said so.
        self._elsewhere: dict[str, tuple[set[str], dict[str, str], float]] = {}
        #: Devices that joined, by id → name (kept for their last_seen).
        self._device_names: dict[str, str] = {}
        #: Photos and prints asked of the courtroom's devices, not yet done.
        self.captures = Captures()
        #: Per device: the participants whose seat has a fingerprint reader.
        self.readers: dict[str, list[str]] = {}
        self._presence_due: asyncio.TimerHandle | None = None
        super().__init__(hub, hearing_id, state, entries)

    @property
    def hearing_id(self) -> str:
        return self.stream_id

    def _record(self, entry: LogEntry) -> None:
        super()._record(entry)
        self.events.append(encode({"type": "event", "seq": entry.seq, "event": entry.event}))
        self.sittings.observe(entry.seq, entry.ts_ms, entry.event)

    # -- ops ----------------------------------------------------------------

    def _apply(self, actor: Actor, op: Any, now_ms: int) -> Event:
        return self.state.apply(actor, op)

    def submit_speech(self, speaker: Participant, op_id: str, op: dict[str, Any]) -> None:
        """A final recognition result of ``speaker``: logged as their speech."""
        if self.broken:
            return
        actor = speech_actor(speaker.participant_id)
        if self.answered(actor, op_id):
            return
        try:
            entry = self._seal(actor, op_id, op, lambda now_ms: self.state.apply_speech(speaker, op))
        except OpError as err:
            # Never silently: every screen drops the speaker's grey line, and
            # the screens learn what was said and why it is not in the record.
            log.warning("hearing %s: speech of %s not recorded: %s", self.hearing_id, speaker.participant_id, err)
            self.partial(speaker.participant_id, "")
            text = op.get("text") if isinstance(op.get("text"), str) else ""
            self._pass({"type": messages.SPEECH_UNRECORDED, "participant_id": speaker.participant_id,
                        "text": text, "reason": err.code})
            return
        if entry is not None:
            self._append(entry, [])

    def _published(self, entry: LogEntry) -> None:
        """A committed entry reaches the screens, and the media room."""
        self._broadcast(self.events[-1])
        self._follow(entry)
        if self.media is not None:
            self.media.committed(entry.event)

    def _broadcast(self, message: str) -> None:
        for listener in list(self.listeners):
            if listener.live:
                listener.push(message)

    # -- clients ------------------------------------------------------------

    def join(self, listener: Listener) -> None:
        self.listeners.add(listener)
        if is_device_id(listener.participant.participant_id):
            self._device_names[listener.participant.participant_id] = listener.participant.name
        self.presence_changed()

    def leave(self, listener: Listener) -> None:
        if listener in self.listeners:
            self._last_seen[listener.participant.participant_id] = int(time.time() * 1000)
        self.listeners.discard(listener)
        for waiters in self._inflight.values():
            while listener in waiters:
                waiters.remove(listener)
        self.presence_changed()

    def sync(self, listener: Listener, since: int) -> None:
        """Replay committed events after ``since``, then go live; a
        participant not admitted (waiting, or removed by the judge) sees
        nothing of the hearing until the judge admits them, and then the
        sync completes."""
        pid = listener.participant.participant_id
        if pid not in self.state.proceedings.admitted and not is_device_id(pid):
            listener.waiting_since = since
            listener.push(encode({"type": "waiting"}))
            return
        self._go_live(listener, since)

    def _go_live(self, listener: Listener, since: int) -> None:
        listener.waiting_since = None
        snapshot = self.snapshot() if listener.wants_snapshot and since == 0 else None
        if snapshot is not None:
            listener.push_replay(self, snapshot[0], self.committed_seq, snapshot[1])
        else:
            listener.push_replay(self, since, self.committed_seq)
        listener.live = True
        if self.upstream is not None:
            # A mirror shows the presence its authority last published.
            if self._presence:
                listener.push(encode(self._presence))
            return
        listener.push(encode(self._presence_message()))

    def snapshot(self) -> tuple[int, str] | None:
        """The state as a ``snapshot`` message at a committed seq, built at
        most once per seq for all the screens that open meanwhile. The
        state runs ahead of the log while ops are in flight; then the last
        snapshot built serves (the events after it follow), or none."""
        committed = self.committed_seq
        if self._snapshot is not None and self._snapshot[0] == committed:
            return self._snapshot
        if self.seq != committed:
            return self._snapshot
        self._snapshot = (committed, encode({"type": "snapshot", "seq": committed, "state": self.state.view()}))
        return self._snapshot

    def _of(self, participant_id: str) -> list[Listener]:
        return [listener for listener in self.listeners if listener.participant.participant_id == participant_id]

    def _follow(self, entry: LogEntry) -> None:
        """What a committed event changes for the connected clients: who may
        see the hearing, and whose invite no longer admits them."""
        kind = entry.event.get("kind")
        if kind not in ("participant.admitted", "participant.removed", "invite.revoked", "invite.reissued"):
            return
        participant_id = entry.event["participant"]["participant_id"]
        for listener in self._of(participant_id):
            if kind == "participant.admitted" and listener.waiting_since is not None:
                self._go_live(listener, listener.waiting_since)
            elif kind == "participant.removed" and listener.live:
                # They have just seen their removal; nothing after it.
                listener.live = False
                listener.waiting_since = entry.seq
                listener.push(encode({"type": "waiting"}))
            elif kind in ("invite.revoked", "invite.reissued"):
                listener.close_soon(CLOSE_REVOKED, "invite revoked")

    # -- presence -------------------------------------------------------------

    def here(self) -> tuple[set[str], dict[str, str]]:
        """Who is connected to this node: participant and device ids, and
        the devices' names."""
        ids = {listener.participant.participant_id for listener in self.listeners}
        return ids, {d: n for d, n in self._device_names.items() if d in ids}

    def _connected(self) -> set[str]:
        now = time.monotonic()
        connected = {listener.participant.participant_id for listener in self.listeners}
        for node, (ids, _, at) in list(self._elsewhere.items()):
            if now - at > ELSEWHERE_FOR:
                del self._elsewhere[node]  # that node stopped saying: gone
            else:
                connected |= ids
        return connected

    def hears_elsewhere(self) -> bool:
        """Whether another node has said who is connected there (so its
        word must be looked at again as it ages)."""
        return bool(self._elsewhere)

    def elsewhere(self, node: str, ids: set[str], devices: dict[str, str]) -> None:
        """Who is connected on another node of the cluster (it says so when
        that changes, and every few seconds while it mirrors the hearing)."""
        before = self._connected()
        self._elsewhere[node] = (ids, devices, time.monotonic())
        self._device_names.update(devices)
        now_ms = int(time.time() * 1000)
        for gone in before - self._connected():
            self._last_seen[gone] = now_ms
        self.presence_changed()

    def presence(self) -> dict[str, dict[str, Any]]:
        """Who is connected now, and their media: ephemeral, never logged."""
        connected = self._connected()
        media = self.media.presence() if self.media is not None else {}
        assert self.state.hearing is not None
        return {pid: {"connected": pid in connected, **media.get(pid, {"media": "none"}),
                      **({"last_seen": self._last_seen[pid]} if pid not in connected and pid in self._last_seen else {})}
                for pid in self.state.hearing.participants}

    def devices(self) -> dict[str, dict[str, Any]]:
        """The courtroom's equipment that has joined this hearing: its name,
        whether it is connected (and its media), and when it was last seen."""
        out: dict[str, dict[str, Any]] = {}
        connected = self._connected()
        media = self.media.peers if self.media is not None else {}
        for device_id, name in self._device_names.items():
            entry: dict[str, Any] = {"name": name, "connected": device_id in connected}
            peer = media.get(device_id)
            entry["media"] = "none" if peer is None else (
                "connected" if peer.pc.connectionState == "connected" else "connecting")
            if peer is not None:
                entry["seats"] = sorted(p for p in peer.speakers() if p != device_id)
                entry["cameras"] = sorted(name for name, source in peer.sources.items() if source.kind == "video")
            if device_id in connected and self.readers.get(device_id):
                entry["fingerprints"] = self.readers[device_id]
            if device_id not in connected and device_id in self._last_seen:
                entry["last_seen"] = self._last_seen[device_id]
            out[device_id] = entry
        return out

    def _presence_message(self) -> dict[str, Any]:
        return {"type": "presence", "participants": self.presence(), "devices": self.devices()}

    def to_connection(self, connection_id: str, message: dict[str, Any]) -> bool:
        """Send to every live connection of a participant or device; whether
        there was one."""
        listeners = [listener for listener in self._of(connection_id) if listener.live]
        for listener in listeners:
            listener.push(encode(message))
        return bool(listeners)

    def is_connected(self, connection_id: str) -> bool:
        return any(listener.live for listener in self._of(connection_id))

    def revoked(self, connection_id: str) -> None:
        """A device's credential was revoked: its connections close at once."""
        for listener in self._of(connection_id):
            listener.close_soon(CLOSE_REVOKED, "credential revoked")

    def presence_changed(self) -> None:
        """Something presence shows may have changed: tell every screen, at
        most once per ``PRESENCE_EVERY`` (hundreds of screens joining and
        leaving must not each cost a broadcast to all the others)."""
        if self._presence_due is None:
            self._presence_due = asyncio.get_running_loop().call_later(PRESENCE_EVERY, self._send_presence)

    def _send_presence(self) -> None:
        self._presence_due = None
        if self.broken:
            return
        if self.upstream is not None:
            if self.hub.node is not None:  # a mirror tells its authority
                self.hub.node.tell_here(self)
            return
        now = self._presence_message()
        if now != self._presence:
            self._presence = now
            self._pass(now)

    def partial(self, participant_id: str, text: str) -> None:
        """Interim speech text: relayed to every synced screen, never stored.
        Empty text clears the speaker's interim line (their speech stream
        ended, or its result was refused)."""
        self._pass({"type": "partial", "participant_id": participant_id, "text": text})

    def _pass(self, message: dict[str, Any]) -> None:
        """A message that is not logged, to the screens here and on every
        node that mirrors the hearing."""
        self._broadcast(encode(message))
        if self.upstream is not None:
            return
        if self.hub.node is not None:
            self.hub.node.passing(self.stream_id, message)

    def passing(self, message: dict[str, Any]) -> None:
        """A passing message from the hearing's authority on another node."""
        if message.get("type") == "presence":
            self._presence = message
        self._broadcast(encode(message))

    def idle(self) -> bool:
        return super().idle() and (self.media is None or not self.media.busy)

    def fail(self, reason: str) -> None:
        """The log could not be written: drop everything not durable, and
        make every client reconnect and resync from the log."""
        waiting = self._waiting()
        super().fail(reason)
        for listener in list(self.listeners - waiting):
            listener.close_soon(Close.UNAVAILABLE, reason)
        self.listeners.clear()
        if self.media is not None:
            self.media.close_soon()
