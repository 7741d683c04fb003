"""One hearing's media: a peer per connection (a participant's browser or
terminal, or a courtroom PC publishing every seat), every heard publication
forwarded to every other peer, each speaker's audio to ASR.

A connection that publishes several speakers' audio (the seat microphones
of one courtroom) hears each word on every microphone near it; its finals
go through one ``asr.crosstalk.LiveArbiter``, so a word is written once,
under the seat where it was loudest. Such a connection plays into the
courtroom, so it never receives the audio of anyone in the courtroom.

It follows the hearing's proceedings after every committed control op: a
muted or removed participant is no longer forwarded or transcribed, a
removed one is disconnected, and a paused or ended hearing is not
transcribed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from aiortc import RTCConfiguration

from asr.crosstalk import LiveArbiter
from asr.engine import Engine
from asr.text import CourtText, Vocabulary
from asr.words import Result
from transcript.model import Participant
from transcript.proceedings import Status
from transcript.roles import Site
from protocol.publish import Source

from ..composition.compose import PART_SECONDS
from ..composition.service import AHEAD_MARGIN, Compositions, plan_of
from ..live.service import LiveStreams
from .forwarding import Publication
from .peer import Peer
from .recording import TrackRecorder
from .speech import SpeechTap

if TYPE_CHECKING:
    from ..room import Room

log = logging.getLogger(__name__)

#: Seconds between looks at each speaker's packet loss.
QUALITY_INTERVAL = 5.0
#: What changes the live stream (besides 闭庭, whose event says so): the
#: others (mute, admit, pause…) do not touch it, and following it writes
#: files, so it is not done for them.
STREAM_EVENTS = frozenset({"stream.started", "stream.stopped", "participant.protected", "participant.unprotected"})
#: Seconds after 闭庭 before composing: the recordings' last pages are
#: written by the disk thread.
COMPOSE_AFTER = 2.0
#: Seconds between the crosstalk arbiters' looks at the clock.
ARBITER_TICK = 0.1


@dataclass(slots=True)
class MediaConfig:
    rtc: RTCConfiguration = field(default_factory=RTCConfiguration)
    engine: Engine | None = None
    text: CourtText = field(default_factory=CourtText)
    #: Where hearings' recordings go (``DATA/recordings``); None: not recorded.
    recordings: Path | None = None
    #: End utterances sooner than the recognizer where the pause is clear
    #: (asr.endpointing); off: the recognizer's own endpoints only.
    early_endpoints: bool = True
    #: The public live streams (庭审直播), composed from the recordings;
    #: by default beside them (``DATA/live``).
    live: LiveStreams | None = None
    #: The composed recordings (庭审录像), beside the recordings.
    compositions: Compositions | None = None

    def __post_init__(self) -> None:
        if self.live is None and self.recordings is not None:
            self.live = LiveStreams(self.recordings.parent, self.recordings)
        if self.compositions is None and self.recordings is not None:
            self.compositions = Compositions(self.recordings.parent / "compositions")


class MediaRoom:
    def __init__(self, room: Room, config: MediaConfig) -> None:
        self.room = room
        self.config = config
        #: By connection: a participant's id, or a courtroom device's.
        self.peers: dict[str, Peer] = {}
        #: By publication key (connection, source name).
        self.speech: dict[tuple[str, str], SpeechTap] = {}
        #: Per connection publishing several speakers' audio.
        self.arbiters: dict[str, LiveArbiter] = {}
        self._finals = 0
        #: Packet loss and loudest level (dBov) of each audio publication, by key.
        self._loss: dict[tuple[str, str], float] = {}
        self._level: dict[tuple[str, str], int | None] = {}
        self._counts: dict[tuple[str, str], tuple[int, int]] = {}
        self._quality: asyncio.Task[None] | None = None
        self._ticker: asyncio.Task[None] | None = None
        self.text = self._court_text()
        #: Whole parts of the 庭审录像 asked for during the hearing.
        self._parts_ahead = 0
        self.follow_stream()  # a stream this hearing had before its hub restarted goes on

    def _court_text(self) -> CourtText:
        """The hub's default spelling, or this hearing's own vocabulary."""
        terms = self.room.state.vocabulary
        return self.config.text if terms is None else CourtText(Vocabulary(terms))

    def presence(self) -> dict[str, dict[str, Any]]:
        """Each speaker's media as screens show it: connection state, whether
        audio and video arrive, the audio's packet loss and level, and
        ``via`` the device when a courtroom PC carries it (a seat)."""
        out: dict[str, dict[str, Any]] = {}
        for cid, peer in self.peers.items():
            media = "connected" if peer.pc.connectionState == "connected" else "connecting"
            for pid in peer.speakers() or {cid}:
                pubs = [p for p in peer.publications.values() if p.participant_id == pid]
                audio = next((p for p in pubs if p.kind == "audio"), None)
                entry: dict[str, Any] = {
                    "media": media, "audio": audio is not None, "video": any(p.kind == "video" for p in pubs),
                    "loss": None if audio is None else self._loss.get(audio.key),
                    "level": None if audio is None else self._level.get(audio.key)}
                if pid != cid:
                    entry["via"] = cid
                if pid not in out or pid == cid:  # their own connection first
                    out[pid] = entry
        return out

    def publications(self) -> list[Publication]:
        return [p for peer in self.peers.values() for p in peer.publications.values()]

    async def _watch_quality(self) -> None:
        """Every few seconds: packet loss of each speaker's audio (the
        network quality the judge sees) and its loudest level (whether the
        microphone hears anything), then tell the screens if it changed.
        A live stream whose composer died is started again meanwhile."""
        while True:
            await asyncio.sleep(QUALITY_INTERVAL)
            live = self.config.live
            if live is not None and self.room.state.broadcast.streaming \
                    and not live.streaming(self.room.hearing_id):
                log.warning("hearing %s: the live stream's composer ended; starting it again", self.room.hearing_id)
                self.follow_stream()
            self._compose_ahead()
            for publication in self.publications():
                if publication.kind != "audio":
                    continue
                key = publication.key
                if publication.tap.levels is not None:
                    level = publication.tap.levels.take_level()
                    # In 10 dB steps: presence goes to every screen, and only when it changes.
                    self._level[key] = None if level is None else int(round(level / 10) * 10)
                try:
                    stats = await publication.receiver.getStats()
                except Exception:  # the peer went away meanwhile
                    continue
                inbound = [s for s in stats.values() if s.type == "inbound-rtp"]
                received = sum(s.packetsReceived for s in inbound)
                lost = sum(max(0, s.packetsLost) for s in inbound)
                before = self._counts.get(key, (0, 0))
                self._counts[key] = (received, lost)
                got, missed = received - before[0], lost - before[1]
                if got + missed > 0:
                    self._loss[key] = round(missed / (got + missed), 3)
            self.room.presence_changed()

    async def _tick_arbiters(self) -> None:
        """Doubtful words are kept once their louder seat has been quiet
        long enough: the arbiters need the clock even when nobody speaks."""
        while True:
            await asyncio.sleep(ARBITER_TICK)
            now = self.clock()
            for arbiter in list(self.arbiters.values()):
                try:
                    arbiter.tick(now)
                except Exception:  # one seat's trouble must not stop the others' lines
                    log.exception("crosstalk arbitration failed")

    def clock(self) -> float:
        return max(0.0, time.time() - self.room.created_ms / 1000)

    # -- connections ------------------------------------------------------------------

    async def join(self, connection: Participant, signal: Callable[[dict[str, Any]], None],
                   sources: list[Source], in_courtroom: bool = False,
                   receive: frozenset[str] = frozenset({"audio", "video"}),
                   connection_id: str | None = None) -> Peer:
        """(Re)connect a connection's media; an older connection of the same
        id ends. ``sources`` come checked, each with its speaker set;
        ``in_courtroom``: it plays into the courtroom (a courtroom PC's
        loudspeakers), so it gets no audio of anyone in the courtroom;
        ``receive``: the kinds it takes at all (a courtroom PC with no screen
        takes no video: it would only decode it to throw it away);
        ``connection_id``: where it is not the participant's own id (a
        screen that only watches, beside the one that speaks)."""
        cid = connection_id or connection.participant_id
        old = self.peers.pop(cid, None)
        if old is not None:
            await old.close()
        peer = Peer(cid, signal, self.config.rtc, self._published, self._closed, self.room.presence_changed)
        peer.member = connection.participant_id
        peer.in_courtroom = in_courtroom
        peer.receives = receive
        self.peers[cid] = peer
        if self._quality is None:
            self._quality = asyncio.ensure_future(self._watch_quality())
        for other in list(self.peers.values()):
            for publication in other.publications.values():
                if other is not peer and publication.codec is not None and self._wants(peer, publication):
                    peer.subscribe(publication)
        peer.start(sources)
        return peer

    def _wants(self, peer: Peer, publication: Publication) -> bool:
        """Whether ``peer`` receives ``publication``: never its own, and in
        the courtroom never the courtroom's own voices (no echo loop)."""
        if publication.owner == peer.participant_id or publication.kind not in peer.receives \
                or publication.participant_id == peer.member:  # (their own, from another connection)
            return False
        if peer.in_courtroom and publication.kind == "audio":
            speaker = self.room.state.hearing.participants.get(publication.participant_id) \
                if self.room.state.hearing is not None else None
            return speaker is not None and speaker.site != Site.COURT
        return True

    def _published(self, peer: Peer, publication: Publication) -> None:
        asyncio.ensure_future(self._forward_when_ready(peer, publication))
        if self.config.recordings is not None:
            label = publication.kind if publication.name in ("audio", "video") else publication.name
            publication.recorder = TrackRecorder(self.config.recordings / self.room.hearing_id,
                                                 publication.participant_id, label, self.clock,
                                                 kind=publication.kind)
        # A mediation session is heard and seen, never transcribed: what is
        # said in mediation stays out of the record.
        hearing = self.room.state.hearing
        if publication.kind == "audio" and self.config.engine is not None \
                and hearing is not None and hearing.kind == "hearing":
            self._transcribe(peer, publication)
        self.update()
        self.room.presence_changed()

    def _transcribe(self, peer: Peer, publication: Publication) -> None:
        speaker = self.room.state.participant(publication.participant_id)
        key = publication.key
        seats = sum(1 for s in peer.sources.values() if s.kind == "audio") > 1
        arbiter = None
        if seats:
            arbiter = self.arbiters.get(peer.participant_id)
            if arbiter is None:
                arbiter = self.arbiters[peer.participant_id] = LiveArbiter(
                    lambda channel, result: self._write(self.room.state.participant(channel), result), self.text)
                if self._ticker is None:
                    self._ticker = asyncio.ensure_future(self._tick_arbiters())

        def recognized(stream_id: str, result: Result) -> None:
            if not result.final:
                if result.text and (arbiter is None or arbiter.loudest(speaker.participant_id, self.clock())):
                    self.room.partial(speaker.participant_id, result.text)
            elif arbiter is not None:
                arbiter.final(speaker.participant_id, result)
            else:
                self._write(speaker, result)

        levels = None if arbiter is None else (
            lambda start, energies: arbiter.levels(speaker.participant_id, start, energies))
        self.speech[key] = SpeechTap(
            publication, peer.publish[publication.name].receiver.track, self.config.engine, self.text,
            self.clock, recognized, lambda: self.room.partial(speaker.participant_id, ""),
            self.config.early_endpoints, on_levels=levels)

    async def _forward_when_ready(self, peer: Peer, publication: Publication) -> None:
        """Subscribers need the publisher's codec: wait for its first frame."""
        await publication.codec_known.wait()
        if self.peers.get(peer.participant_id) is not peer:
            return
        for other in list(self.peers.values()):
            if other is not peer and self._wants(other, publication):
                other.subscribe(publication)

    def _closed(self, peer: Peer) -> None:
        if self.peers.get(peer.participant_id) is peer:
            del self.peers[peer.participant_id]
            self.arbiters.pop(peer.participant_id, None)
        for publication in peer.publications.values():
            key = publication.key
            tap = self.speech.get(key)
            if tap is not None and tap.publication is publication:
                tap.close()
                del self.speech[key]
            for other in self.peers.values():
                other.unsubscribe(key)
            self._loss.pop(key, None)
            self._level.pop(key, None)
            self._counts.pop(key, None)
        self.room.presence_changed()

    # -- recognition ----------------------------------------------------------------

    def _write(self, speaker: Participant, result: Result) -> None:
        """A final result, written as the speaker's segment."""
        self._finals += 1
        op: dict[str, Any] = {"kind": "segment.add", "text": result.text,
                              "words": [w.to_dict() for w in result.words]}
        if result.start is not None and result.end is not None:
            op["start"], op["end"] = round(result.start, 3), round(result.end, 3)
        stream = next((t.stream_id for t in self.speech.values()
                       if t.publication.participant_id == speaker.participant_id), "0")
        self.room.submit_speech(speaker, f"{stream}-{self._finals}", op)

    # -- proceedings ----------------------------------------------------------------

    def committed(self, event: dict[str, Any]) -> None:
        kind = event.get("kind", "")
        if kind.startswith(("participant.", "hearing.", "stream.")) or kind == "transcript.locked":
            self.update()  # (a lock may have closed the hearing)
            if kind in STREAM_EVENTS or "stream" in event:
                self.follow_stream()
            if event.get("status") == "ended" and kind in ("hearing.ended", "transcript.locked"):
                # The 庭审录像 is composed at once, once the recorders just
                # closed have reached the disk.
                asyncio.get_running_loop().call_later(COMPOSE_AFTER, self._compose)
        elif kind == "vocabulary.changed":
            self.text = self._court_text()
            for tap in self.speech.values():
                tap.use_text(self.text)
            for arbiter in self.arbiters.values():
                arbiter.text = self.text

    def update(self) -> None:
        """Bring forwarding, recognition and connections in line with the
        proceedings as they stand: a seat is heard as its participant is."""
        proceedings = self.room.state.proceedings
        for cid, peer in list(self.peers.items()):
            if peer.member not in proceedings.admitted and not peer.in_courtroom:
                peer.signal({"type": "rtc.closed", "reason": "removed", "message": "您已被移出庭审"})
                asyncio.ensure_future(peer.close())
                continue
            for publication in peer.publications.values():
                heard = proceedings.heard(publication.participant_id)
                publication.enabled = heard
                if publication.recorder is not None:
                    publication.recorder.set_active(heard and proceedings.recording)
                tap = self.speech.get(publication.key)
                if tap is not None:
                    tap.set_active(heard and proceedings.recording)

    def follow_stream(self) -> None:
        """Start, tell or stop the hearing's live stream to match its state.
        A stream just started asks every camera for a keyframe: its
        composer decodes each picture from there."""
        live = self.config.live
        if live is None:
            return
        if live.follow(self.room.hearing_id, self.room.state, self.room.created_ms):
            for peer in self.peers.values():
                for publication in peer.publications.values():
                    publication.request_keyframe()

    def _compose_ahead(self) -> None:
        """While the hearing goes on, each minute of it is composed into the
        庭审录像 once it lies ``AHEAD_MARGIN`` in the past."""
        compositions, recordings = self.config.compositions, self.config.recordings
        state = self.room.state
        if compositions is None or recordings is None or state.hearing is None or state.hearing.kind != "hearing" \
                or state.proceedings.status is Status.ENDED:
            return
        upto = self.clock() - AHEAD_MARGIN
        if int(upto // PART_SECONDS) <= self._parts_ahead:
            return
        self._parts_ahead = int(upto // PART_SECONDS)
        compositions.ahead(self.room.hearing_id, recordings_folder=recordings / self.room.hearing_id, upto=upto,
                           **plan_of(state, self.room.created_ms))

    def _compose(self) -> None:
        compositions, recordings = self.config.compositions, self.config.recordings
        if compositions is None or recordings is None or self.room.state.hearing is None \
                or self.room.state.hearing.kind != "hearing":
            return
        try:
            compositions.start(self.room.hearing_id, recordings_folder=recordings / self.room.hearing_id,
                               **plan_of(self.room.state, self.room.created_ms))
        except LookupError:
            pass  # nothing was recorded

    def close_soon(self) -> None:
        asyncio.ensure_future(self.close())

    @property
    def busy(self) -> bool:
        """Connections, or a live stream: the hearing stays loaded."""
        live = self.config.live
        return bool(self.peers) or (live is not None and live.streaming(self.room.hearing_id))

    async def close(self, hub_stopping: bool = False) -> None:
        """End the media. A live stream ends with it, or, when the whole hub
        is stopping, only halts, to go on when it starts again."""
        live = self.config.live
        if live is not None:
            (live.halt if hub_stopping else live.stop)(self.room.hearing_id)
        for task in (self._quality, self._ticker):
            if task is not None:
                task.cancel()
        for peer in list(self.peers.values()):
            await peer.close()
