"""One hearing's media: a peer per connected participant, every heard
publication forwarded to every other peer, each speaker's audio to ASR.

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

from asr.engine import Engine
from asr.text import CourtText, Vocabulary
from asr.words import Result
from transcript.model import Participant
from transcript.roles import SPEAKING_ROLES

from .forwarding import Publication
from .peer import Peer
from .recording import TrackRecorder
from .speech import SpeechTap

if TYPE_CHECKING:
    from ..room import Room

log = logging.getLogger(__name__)

#: Seconds between looks at each speaker's packet loss.
QUALITY_INTERVAL = 5.0


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


class MediaRoom:
    def __init__(self, room: Room, config: MediaConfig) -> None:
        self.room = room
        self.config = config
        self.peers: dict[str, Peer] = {}
        self.speech: dict[str, SpeechTap] = {}
        self._finals = 0
        self._loss: dict[str, float] = {}
        #: The loudest level of each speaker's audio over the last look (dBov).
        self._level: dict[str, int | None] = {}
        self._counts: dict[str, tuple[int, int]] = {}
        self._quality: asyncio.Task[None] | None = None
        self.text = self._court_text()

    def _court_text(self) -> CourtText:
        """The hub's default spelling, or this hearing's own vocabulary."""
        terms = self.room.state.vocabulary
        return self.config.text if terms is None else CourtText(Vocabulary(terms))

    def presence(self) -> dict[str, dict[str, Any]]:
        """Each connected peer's media as screens show it: connection state,
        whether audio and video arrive, and the audio's packet loss."""
        out = {}
        for pid, peer in self.peers.items():
            state = peer.pc.connectionState
            out[pid] = {"media": "connected" if state == "connected" else "connecting",
                        "audio": "audio" in peer.publications, "video": "video" in peer.publications,
                        "loss": self._loss.get(pid), "level": self._level.get(pid)}
        return out

    async def _watch_quality(self) -> None:
        """Every few seconds: packet loss of each speaker's audio (the
        network quality the judge sees) and its loudest level (whether the
        microphone hears anything), then tell the screens if it changed."""
        while True:
            await asyncio.sleep(QUALITY_INTERVAL)
            for pid, peer in list(self.peers.items()):
                publication = peer.publications.get("audio")
                if publication is None:
                    continue
                if publication.tap.levels is not None:
                    level = publication.tap.levels.take_level()
                    # In 10 dB steps: presence goes to every screen, and only when it changes.
                    self._level[pid] = None if level is None else int(round(level / 10) * 10)
                try:
                    stats = await publication.receiver.getStats()
                except Exception:  # the peer went away meanwhile
                    continue
                inbound = [s for s in stats.values() if s.type == "inbound-rtp"]
                received = sum(s.packetsReceived for s in inbound)
                lost = sum(max(0, s.packetsLost) for s in inbound)
                before = self._counts.get(pid, (0, 0))
                self._counts[pid] = (received, lost)
                got, missed = received - before[0], lost - before[1]
                if got + missed > 0:
                    self._loss[pid] = round(missed / (got + missed), 3)
            self.room.presence_changed()

    def clock(self) -> float:
        return max(0.0, time.time() - self.room.created_ms / 1000)

    # -- participants ---------------------------------------------------------------

    async def join(self, participant: Participant, signal: Callable[[dict[str, Any]], None],
                   audio: bool, video: bool) -> Peer:
        """(Re)connect a participant's media; an older connection of theirs ends."""
        old = self.peers.pop(participant.participant_id, None)
        if old is not None:
            await old.close()
        speaks = participant.role in SPEAKING_ROLES
        peer = Peer(participant.participant_id, signal, self.config.rtc, self._published, self._closed,
                    self.room.presence_changed)
        self.peers[participant.participant_id] = peer
        if self._quality is None:
            self._quality = asyncio.ensure_future(self._watch_quality())
        for other in list(self.peers.values()):
            for publication in other.publications.values():
                if other is not peer and publication.codec is not None:
                    peer.subscribe(publication)
        peer.start(audio and speaks, video and speaks)
        return peer

    def _published(self, peer: Peer, publication: Publication) -> None:
        asyncio.ensure_future(self._forward_when_ready(peer, publication))
        if self.config.recordings is not None:
            publication.recorder = TrackRecorder(self.config.recordings / self.room.hearing_id,
                                                 peer.participant_id, publication.kind, self.clock)
        if publication.kind == "audio" and self.config.engine is not None:
            participant = self.room.state.participant(peer.participant_id)
            self.speech[peer.participant_id] = SpeechTap(
                publication, peer.publish["audio"].receiver.track, self.config.engine, self.text,
                self.clock, lambda sid, r: self._recognized(participant, sid, r),
                lambda: self.room.partial(participant.participant_id, ""), self.config.early_endpoints)
        self.update()
        self.room.presence_changed()

    async def _forward_when_ready(self, peer: Peer, publication: Publication) -> None:
        """Subscribers need the publisher's codec: wait for its first frame."""
        await publication.codec_known.wait()
        if self.peers.get(peer.participant_id) is not peer:
            return
        for other in list(self.peers.values()):
            if other is not peer:
                other.subscribe(publication)

    def _closed(self, peer: Peer) -> None:
        if self.peers.get(peer.participant_id) is peer:
            del self.peers[peer.participant_id]
        tap = self.speech.get(peer.participant_id)
        if tap is not None and tap.publication in peer.publications.values():
            tap.close()
            del self.speech[peer.participant_id]
        for other in self.peers.values():
            for kind in ("audio", "video"):
                other.unsubscribe(peer.participant_id, kind)
        self._loss.pop(peer.participant_id, None)
        self._level.pop(peer.participant_id, None)
        self._counts.pop(peer.participant_id, None)
        self.room.presence_changed()

    # -- recognition ----------------------------------------------------------------

    def _recognized(self, speaker: Participant, stream_id: str, result: Result) -> None:
        if not result.final:
            if result.text:
                self.room.partial(speaker.participant_id, result.text)
            return
        self._finals += 1
        op: dict[str, Any] = {"kind": "segment.add", "text": result.text,
                              "words": [w.to_dict() for w in result.words]}
        if result.start is not None and result.end is not None:
            op["start"], op["end"] = round(result.start, 3), round(result.end, 3)
        self.room.submit_speech(speaker, f"{stream_id}-{self._finals}", op)

    # -- proceedings ----------------------------------------------------------------

    def committed(self, event: dict[str, Any]) -> None:
        kind = event.get("kind", "")
        if kind.startswith(("participant.", "hearing.")) or kind == "transcript.locked":
            self.update()  # (a lock may have closed the hearing)
        elif kind == "vocabulary.changed":
            self.text = self._court_text()
            for tap in self.speech.values():
                tap.use_text(self.text)

    def update(self) -> None:
        """Bring forwarding, recognition and connections in line with the
        proceedings as they stand."""
        proceedings = self.room.state.proceedings
        for pid, peer in list(self.peers.items()):
            if pid not in proceedings.admitted:
                peer.signal({"type": "rtc.closed", "reason": "removed", "message": "您已被移出庭审"})
                asyncio.ensure_future(peer.close())
                continue
            heard = proceedings.heard(pid)
            for publication in peer.publications.values():
                publication.enabled = heard
                if publication.recorder is not None:
                    publication.recorder.set_active(heard and proceedings.recording)
            tap = self.speech.get(pid)
            if tap is not None:
                tap.set_active(heard and proceedings.recording)

    def close_soon(self) -> None:
        asyncio.ensure_future(self.close())

    async def close(self) -> None:
        if self._quality is not None:
            self._quality.cancel()
        for peer in list(self.peers.values()):
            await peer.close()
