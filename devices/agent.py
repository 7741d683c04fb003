"""The courtroom agent: the small PC of a 融合法庭 that joins whatever
hearing its courtroom holds, publishing every seat microphone as the
speech of the participant in that seat, and playing the remote parties on
the courtroom's loudspeakers (never the courtroom's own seats: the hub
does not send them to it).

It runs unattended. With its device credential it asks the hub which
hearing the courtroom holds now; while there is none it waits; once the
hearing ends it waits for the next. Whatever fails (the network, the hub,
the audio interface) it comes back by itself with backoff, and its log
says what it is waiting for. A credential the court revoked ends it.

Only the wire protocol (``client.HearingClient``, ``terminal.Terminal``)
and the sound devices: no part of the hub.
"""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from aiortc import MediaStreamTrack

from protocol import messages
from protocol.publish import Source

from .audio import Loudspeaker, MicrophoneArray
from .client import Backoff, HearingClient, Revoked
from .roomconfig import RoomConfig, Seat, match_seats
from .terminal import Terminal

log = logging.getLogger("courtroom.room")

#: Seconds between asking the hub for the courtroom's hearing while it holds none.
POLL = 3.0
#: How often the agent looks at its media and devices (seconds).
CHECK_EVERY = 1.0
HTTP_TIMEOUT = 10.0


class NoHearing(Exception):
    """The courtroom holds no hearing now."""


class CourtroomAgent:
    def __init__(self, config: RoomConfig) -> None:
        self.config = config
        self.client: HearingClient | None = None
        self.terminal: Terminal | None = None
        self.microphones: MicrophoneArray | None = None
        self.speaker: Loudspeaker | None = None
        #: The current hearing's participants, its status, and who is seated where.
        self.participants: list[dict[str, Any]] = []
        self.status = ""
        self.seats: dict[Seat, dict[str, Any]] = {}
        self._hub_backoff = Backoff(1.0, 30.0)
        self._device_backoff = Backoff(1.0, 30.0)
        self._joined_on = -1
        #: How many times media has (re)joined.
        self.joins = 0
        self._said = ""

    def _say(self, message: str, *args: Any) -> None:
        """Log a waiting state once, not at every poll."""
        text = message % args
        if text != self._said:
            log.info("%s", text)
            self._said = text

    # -- which hearing ------------------------------------------------------------------

    def _current(self) -> dict[str, Any]:
        """Ask the hub for the courtroom's hearing (blocking: run off the loop)."""
        request = urllib.request.Request(self.config.hub + "/api/devices/current",
                                         headers={"Authorization": f"Bearer {self.config.credential}"})
        try:
            with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as answer:
                return json.loads(answer.read())
        except urllib.error.HTTPError as err:
            if err.code == 404:
                raise NoHearing from None
            if err.code in (401, 403):
                raise Revoked("the hub refuses this device credential (revoked, or never issued)") from None
            raise

    async def run(self) -> None:
        try:
            while True:
                try:
                    found = await asyncio.get_running_loop().run_in_executor(None, self._current)
                except NoHearing:
                    self._say("waiting for a hearing in this courtroom")
                    await asyncio.sleep(POLL)
                    continue
                except (OSError, ValueError) as err:  # urllib's errors are OSErrors
                    wait = self._hub_backoff.next()
                    self._say("waiting for the hub at %s (%s); trying again", self.config.hub, err)
                    await asyncio.sleep(wait)
                    continue
                self._hub_backoff.reset()
                await self._attend(found)
        finally:
            await self._leave()
            if self.speaker is not None:
                self.speaker.close()

    async def _attend(self, found: dict[str, Any]) -> None:
        """Be in one hearing until it ends (or the hub stops holding it)."""
        hearing_id = found["hearing_id"]
        url = found["ws_url"] + "?" + urllib.parse.urlencode({"token": self.config.credential})
        self.status, self.participants = "", []
        self.client = HearingClient(url, on_event=self._event, on_snapshot=self._snapshot,
                                    on_message=self._message)
        self._say("joining hearing %s", hearing_id)
        connection = asyncio.create_task(self.client.run())
        try:
            while not connection.done() and self.status != "ended":
                await self._keep_media()
                await asyncio.wait({connection}, timeout=CHECK_EVERY)
            if connection.done():
                connection.result()  # Revoked ends the agent
        finally:
            connection.cancel()
            await self._leave()
            await self.client.close()
            self.client = None
        self._say("hearing %s has ended", hearing_id)

    def _snapshot(self, seq: int, state: dict[str, Any]) -> None:
        hearing = state.get("hearing") or {}
        self.participants = hearing.get("participants", [])
        self.status = state.get("proceedings", {}).get("status", "")

    def _event(self, seq: int, event: dict[str, Any]) -> None:
        if event.get("kind") == "hearing.created":
            self.participants = event["hearing"]["participants"]
        if "status" in event:
            self.status = event["status"]

    async def _message(self, msg: dict[str, Any]) -> None:
        kind = msg.get("type", "")
        if kind == messages.SYNCED:
            self._seat()
        elif kind.startswith("rtc.") and self.terminal is not None:
            # Not awaited: events keep flowing while an offer is answered.
            asyncio.ensure_future(self.terminal.handle(msg))

    def _seat(self) -> None:
        seats = match_seats(self.config.seats, self.participants)
        if seats != self.seats:
            self.seats = seats
            for seat in self.config.seats:
                p = seats.get(seat)
                if p is None:
                    log.warning("seat %d (%s): nobody in this hearing sits there; not published",
                                seat.channel, seat.role)
                else:
                    log.info("seat %d: %s %s", seat.channel, seat.role, p["name"])

    # -- media --------------------------------------------------------------------------

    async def _keep_media(self) -> None:
        client = self.client
        assert client is not None
        if not client.live.is_set() or not self.seats:
            if self.terminal is not None:
                await self._leave()
            return
        broken = self.terminal is not None and (
            (self.terminal.pc is not None and self.terminal.pc.connectionState in ("failed", "closed"))
            or (self.microphones is not None and not self.microphones.live)
            or self._joined_on != client.connections)
        if broken:
            log.warning("media lost; joining again")
            await self._leave()
        if self.terminal is None:
            await self._join()

    async def _join(self) -> None:
        client = self.client
        assert client is not None
        try:
            self.microphones = MicrophoneArray(self.config.input, self.config.channels)
            if self.speaker is None:
                self.speaker = Loudspeaker(self.config.output)
            self._device_backoff.reset()
        except Exception as err:  # PortAudio: no such device, busy, unplugged
            wait = self._device_backoff.next()
            log.warning("waiting for the audio interface (%s); trying again in %.0f s", err, wait)
            self.microphones = None
            await asyncio.sleep(wait)
            return
        sources: list[tuple[Source, MediaStreamTrack]] = [
            (Source(seat.source_name, "audio", p["participant_id"]), self.microphones.tracks[seat.channel - 1])
            for seat, p in sorted(self.seats.items(), key=lambda sp: sp[0].channel)]
        self.terminal = Terminal(client.send, sources=sources, on_track=self._track)
        self._joined_on = client.connections
        self.joins += 1
        await self.terminal.join()
        log.info("media joined: %d seat microphones", len(sources))

    def _track(self, participant_id: str, kind: str, track: MediaStreamTrack) -> None:
        if kind == "audio" and self.speaker is not None:
            self.speaker.play(track)

    async def _leave(self) -> None:
        terminal, self.terminal = self.terminal, None
        if terminal is not None:
            await terminal.close()
        if self.microphones is not None:
            self.microphones.stop()
            self.microphones = None
