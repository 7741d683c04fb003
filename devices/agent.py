"""The courtroom agent: the small PC of a 融合法庭 that joins whatever
hearing its courtroom holds, publishing every seat microphone as the
speech of the participant in that seat and its cameras (a room camera
as its seat's participant, or as the courtroom's picture; the document
camera, whose photo a participant can file as evidence), and playing the
remote parties on the courtroom's loudspeakers (never the courtroom's own
seats: the hub does not send them to it).

It runs unattended. With its device credential it asks the hub which
hearing the courtroom holds now; while there is none it waits; it stays
in a hearing after 闭庭 (the parties sign, some with its fingerprint
readers) until the courtroom holds the next one. Whatever fails (the network, the hub,
the audio interface) it comes back by itself with backoff, and its log
says what it is waiting for. A credential the court revoked ends it.

Only the wire protocol (``client.HearingClient``, ``terminal.Terminal``)
and the sound devices: no part of the hub.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from aiortc import MediaStreamTrack

from protocol import messages
from protocol.publish import Source

from .audio import MicrophoneArray
from .camera import Camera
from .fingerprint import FingerprintReader, LibfprintReader, ReaderError
from .client import Backoff, HearingClient, Revoked
from .roomconfig import RoomConfig, Seat, match_seats
from .soundmedia import SoundMedia, systemd_unit

log = logging.getLogger("courtroom.room")

#: Seconds between asking the hub for the courtroom's hearing while it holds none.
POLL = 3.0
#: How often the agent looks at its media and devices (seconds).
CHECK_EVERY = 1.0
#: How often, while in a hearing, it asks whether the courtroom holds another.
RECHECK = 5.0
HTTP_TIMEOUT = 10.0


class NoHearing(Exception):
    """The courtroom holds no hearing now."""


class CourtroomAgent:
    def __init__(self, config: RoomConfig) -> None:
        self.config = config
        self.client: HearingClient | None = None
        self.media = SoundMedia(lambda: MicrophoneArray(config.input, config.channels, encoded=True),
                                self._sources, config.output)
        #: By track name (``camera-N``, ``document``); opened at the first hearing.
        self.cameras: dict[str, Camera] = {}
        #: Fingerprint readers by what the seats name.
        self.readers: dict[str, FingerprintReader] = {}
        #: The current hearing's participants, and who is seated where.
        self.participants: list[dict[str, Any]] = []
        self.seats: dict[Seat, dict[str, Any]] = {}
        self._hub_backoff = Backoff(1.0, 30.0)
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
            await self.media.close()
            for camera in self.cameras.values():
                camera.stop()

    async def _attend(self, found: dict[str, Any]) -> None:
        """Be in one hearing until it ends (or the hub stops holding it)."""
        hearing_id = found["hearing_id"]
        url = found["ws_url"] + "?" + urllib.parse.urlencode({"token": self.config.credential})
        self.participants = []
        self.client = HearingClient(url, on_event=self._event, on_snapshot=self._snapshot,
                                    on_message=self._message)
        self._say("joining hearing %s", hearing_id)
        connection = asyncio.create_task(self.client.run())
        checked = time.monotonic()
        try:
            while not connection.done():
                await self.media.keep(self.client, self.client.live.is_set() and bool(self.seats))
                await asyncio.wait({connection}, timeout=CHECK_EVERY)
                if time.monotonic() - checked >= RECHECK:
                    checked = time.monotonic()
                    if await self._moved_on(hearing_id):
                        break
            if connection.done():
                connection.result()  # Revoked ends the agent
        finally:
            connection.cancel()
            await self.media.leave()
            await self.client.close()
            self.client = None
        self._say("left hearing %s", hearing_id)

    async def _moved_on(self, hearing_id: str) -> bool:
        """Whether the courtroom now holds another hearing (the hub still
        gives an ended one while its parties sign, until the next begins)."""
        try:
            found = await asyncio.get_running_loop().run_in_executor(None, self._current)
        except NoHearing:
            return True
        except (OSError, ValueError):
            return False  # the hub is away: the connection's own retries say so
        return found["hearing_id"] != hearing_id

    def _snapshot(self, seq: int, state: dict[str, Any]) -> None:
        hearing = state.get("hearing") or {}
        self.participants = hearing.get("participants", [])

    def _event(self, seq: int, event: dict[str, Any]) -> None:
        if event.get("kind") == "hearing.created":
            self.participants = event["hearing"]["participants"]

    async def _message(self, msg: dict[str, Any]) -> None:
        kind = msg.get("type", "")
        if kind == messages.SYNCED:
            await self._seat()
        elif kind.startswith("rtc."):
            self.media.handle(msg)
        elif kind == messages.DEVICE_CAPTURE and "status" not in msg:
            asyncio.ensure_future(self._print(msg) if msg.get("source") == "fingerprint" else self._capture(msg))

    async def _seat(self) -> None:
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
        # Which seated participants can give a print here (every connection).
        assert self.client is not None
        await self.client.send({"type": messages.DEVICE_READERS, "fingerprint": [
            p["participant_id"] for seat, p in self.seats.items() if seat.fingerprint is not None]})

    # -- media --------------------------------------------------------------------------

    def _sources(self, microphones: MicrophoneArray) -> list[tuple[Source, MediaStreamTrack]]:
        """Each seated participant's microphone, and each camera: as its
        seat's participant where it has one seated, else as the courtroom's."""
        sources: list[tuple[Source, MediaStreamTrack]] = [
            (Source(seat.source_name, "audio", p["participant_id"]), microphones.tracks[seat.channel - 1])
            for seat, p in sorted(self.seats.items(), key=lambda sp: sp[0].channel)]
        by_channel = {seat.channel: p["participant_id"] for seat, p in self.seats.items()}
        for config in self.config.cameras:
            camera = self.cameras.get(config.name)
            if camera is None:
                camera = self.cameras[config.name] = Camera(config.device, config.size)
            sources.append((Source(config.name, "video", by_channel.get(config.seat or 0)), camera.track()))
        return sources

    async def _print(self, msg: dict[str, Any]) -> None:
        """A participant at a seat with a reader asked to give their print
        (to sign the record): wait for their finger, send the print back."""
        client = self.client
        seat = next((s for s, p in self.seats.items() if p["participant_id"] == msg.get("participant_id")), None)
        try:
            if seat is None or seat.fingerprint is None:
                raise ReaderError("no fingerprint reader at this seat")
            reader = self.readers.get(seat.fingerprint)
            if reader is None:
                reader = self.readers[seat.fingerprint] = LibfprintReader(seat.fingerprint)
            log.info("seat %d: waiting for a finger on %s", seat.channel, reader.name)
            image = await asyncio.get_running_loop().run_in_executor(None, reader.capture)
            answer = {"type": messages.DEVICE_CAPTURE_DONE, "capture_id": msg.get("capture_id"),
                      "fingerprint": "data:image/png;base64," + base64.b64encode(image).decode("ascii")}
            log.info("seat %d: print taken", seat.channel)
        except ReaderError as err:
            log.warning("print for %s failed: %s", msg.get("participant_id"), err)
            answer = {"type": messages.DEVICE_CAPTURE_FAILED, "capture_id": msg.get("capture_id"),
                      "message": f"指纹采集失败：{str(err)[:100]}"}
        if client is not None:
            await client.send(answer)

    async def _capture(self, msg: dict[str, Any]) -> None:
        """A participant asked for a photo from a camera, to file as their
        evidence: take the camera's latest picture and upload it with the
        capture's id (the hub files it as theirs)."""
        client = self.client
        capture_id, source, name = msg.get("capture_id"), msg.get("source"), msg.get("name", "")
        camera = self.cameras.get(source) if isinstance(source, str) else None
        try:
            if camera is None or client is None or client.welcome is None:
                raise LookupError(f"no camera {source} here")
            photo = camera.photo()
            hearing_id = client.welcome["hearing_id"]
            query = urllib.parse.urlencode({"name": name, "capture": capture_id})
            request = urllib.request.Request(
                f"{self.config.hub}/api/hearings/{hearing_id}/evidence?{query}", data=photo, method="POST",
                headers={"Authorization": f"Bearer {self.config.credential}", "Content-Type": "image/jpeg"})
            await asyncio.get_running_loop().run_in_executor(
                None, lambda: urllib.request.urlopen(request, timeout=HTTP_TIMEOUT).close())
            log.info("photo from %s filed as evidence %s", source, name)
        except Exception as err:  # no picture yet, the hub refused it, the network
            log.warning("photo from %s for %s failed: %s", source, name, err)
            if client is not None:
                await client.send({"type": messages.DEVICE_CAPTURE_FAILED, "capture_id": capture_id,
                                   "message": f"高拍仪未能拍照：{str(err)[:100]}"})


SYSTEMD_UNIT = systemd_unit("融合法庭 courtroom PC (seat microphones, loudspeakers)",
                            "room --config /etc/courtroom/room.toml")
