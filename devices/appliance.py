"""A fixed terminal (detention centre, procuratorate) as an appliance: given
its join link, it joins the hearing with the machine's microphone, plays
the others on its loudspeaker, and whatever fails (the network, the hub,
the sound device) it comes back by itself. Nobody at the terminal types
anything; its log says what it is waiting for.

It speaks the wire protocol only: ``client.HearingClient`` keeps the
connection and the sync, ``terminal.Terminal`` answers the hub's media
offers, ``audio`` opens the devices.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiortc import MediaStreamTrack

from protocol import messages

from .audio import ChannelTrack, Loudspeaker, microphone
from .client import Backoff, HearingClient
from .terminal import Terminal

log = logging.getLogger("courtroom.terminal")

#: How often the terminal looks at its media and devices (seconds).
CHECK_EVERY = 1.0


class Appliance:
    def __init__(self, join_url: str, input_device: str | None = None, output_device: str | None = None) -> None:
        self.join_url = join_url
        self.input_device = input_device
        self.output_device = output_device
        self.client = HearingClient(join_url, on_message=self._message)
        self.terminal: Terminal | None = None
        self.microphone: ChannelTrack | None = None
        self.speaker: Loudspeaker | None = None
        self._admitted = asyncio.Event()
        self._device_backoff = Backoff(1.0, 30.0)
        #: How many times media has (re)joined, and on which connection last.
        self.joins = 0
        self._joined_on = -1

    async def run(self) -> None:
        connection = asyncio.create_task(self.client.run())
        try:
            while not connection.done():
                await self._keep_media()
                await asyncio.wait({connection}, timeout=CHECK_EVERY)
            connection.result()
        finally:
            connection.cancel()
            await self._leave()
            if self.speaker is not None:
                self.speaker.close()

    async def _message(self, msg: dict[str, Any]) -> None:
        kind = msg.get("type", "")
        if kind == messages.SYNCED:
            self._admitted.set()
            log.info("in the hearing as %s", self.client.participant.get("name"))
        elif kind == messages.WAITING:
            self._admitted.clear()
            log.info("waiting for the judge to admit this terminal")
            await self._leave()
        elif kind.startswith("rtc.") and self.terminal is not None:
            # Not awaited: answering an offer may wait for the connection to
            # settle, and events must keep flowing meanwhile (the hub sends
            # one offer at a time, so they stay in order).
            asyncio.ensure_future(self.terminal.handle(msg))

    async def _keep_media(self) -> None:
        """Media joined whenever the hearing is live for this terminal; a
        dead connection or a stopped microphone is replaced."""
        live = self.client.live.is_set() and self._admitted.is_set()
        if not live:
            if self.terminal is not None:
                await self._leave()
            return
        broken = self.terminal is not None and (
            self.terminal.removed is not None
            or (self.terminal.pc is not None and self.terminal.pc.connectionState in ("failed", "closed"))
            or (self.microphone is not None and self.microphone.readyState != "live")
            or self._joined_on != self.client.connections)
        if broken:
            log.warning("media lost; joining again")
            await self._leave()
        if self.terminal is None:
            await self._join()

    async def _join(self) -> None:
        try:
            self.microphone = microphone(self.input_device)
            if self.speaker is None:
                self.speaker = Loudspeaker(self.output_device)
            self._device_backoff.reset()
        except Exception as err:  # PortAudio: no such device, device busy, unplugged
            wait = self._device_backoff.next()
            log.warning("waiting for the sound device (%s); trying again in %.0f s", err, wait)
            self.microphone = None
            await asyncio.sleep(wait)
            return
        self.terminal = Terminal(self.client.send, audio=self.microphone, on_track=self._track)
        self._joined_on = self.client.connections
        self.joins += 1
        await self.terminal.join()

    def _track(self, participant_id: str, kind: str, track: MediaStreamTrack) -> None:
        if kind == "audio" and self.speaker is not None:
            self.speaker.play(track)

    async def _leave(self) -> None:
        terminal, self.terminal = self.terminal, None
        if terminal is not None:
            await terminal.close()
        if self.microphone is not None:
            self.microphone.stop()
            self.microphone = None


SYSTEMD_UNIT = """\
[Unit]
Description=融合法庭 terminal (joins its hearing by itself)
After=network-online.target sound.target
Wants=network-online.target

[Service]
# The invite link the court issued for this terminal.
Environment=COURTROOM_JOIN_URL=https://hub.court.example/hearings/h-...?token=...
ExecStart={python} -m courtroom.cli terminal --join-url ${{COURTROOM_JOIN_URL}}
Restart=always
RestartSec=5
# A user with access to the sound devices (audio group, or a PulseAudio session).
User=courtroom
SupplementaryGroups=audio

[Install]
WantedBy=multi-user.target
"""
