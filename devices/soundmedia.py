"""A program's media through its sound devices, kept up: what a terminal
and a courtroom PC share. While the hearing is live for it, its
microphones are open and published and its loudspeaker plays the others;
a connection that failed, a microphone that stopped (unplugged) or a new
websocket connection gets a fresh join; a sound device that cannot be
opened is tried again with backoff, and the log says so.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable

from aiortc import MediaStreamTrack

from protocol.publish import Source

from .audio import Loudspeaker, MicrophoneArray
from .client import Backoff, HearingClient
from .terminal import Terminal

log = logging.getLogger("courtroom.media")

#: What to publish, given the open microphones.
Sources = Callable[[MicrophoneArray], list[tuple[Source, MediaStreamTrack]]]


class SoundMedia:
    def __init__(self, open_microphones: Callable[[], MicrophoneArray], sources: Sources,
                 output_device: str | int | None = None, named: bool = True) -> None:
        """``open_microphones`` opens the input device; ``sources`` says what
        of it to publish; ``named``: join with a ``publish`` list (a
        courtroom PC), else as a participant's own microphone. It takes
        only audio: it has no screen (a picture is a kiosk browser's)."""
        self.open_microphones = open_microphones
        self.sources = sources
        self.output_device = output_device
        self.named = named
        self.terminal: Terminal | None = None
        self.microphones: MicrophoneArray | None = None
        self.speaker: Loudspeaker | None = None
        self._backoff = Backoff(1.0, 30.0)
        #: How many times media has (re)joined, and on which connection last.
        self.joins = 0
        self._joined_on = -1

    def handle(self, msg: dict[str, Any]) -> None:
        """An ``rtc.*`` message from the hub. Not awaited: answering an offer
        may wait for the connection to settle, and events must keep flowing
        meanwhile (the hub sends one offer at a time, so they stay in order)."""
        if self.terminal is not None:
            asyncio.ensure_future(self.terminal.handle(msg))

    async def keep(self, client: HearingClient, live: bool) -> None:
        """Joined while ``live``, left otherwise; broken media replaced."""
        if not live:
            if self.terminal is not None:
                await self.leave()
            return
        broken = self.terminal is not None and (
            self.terminal.removed is not None
            or (self.terminal.pc is not None and self.terminal.pc.connectionState in ("failed", "closed"))
            or (self.microphones is not None and not self.microphones.live)
            or (self.speaker is not None and self.speaker.failed)
            or self._joined_on != client.connections)
        if broken:
            log.warning("media lost; joining again")
            await self.leave()
            if self.speaker is not None and self.speaker.failed:
                self.speaker.close()
                self.speaker = None
        if self.terminal is None:
            await self._join(client)

    async def _join(self, client: HearingClient) -> None:
        try:
            self.microphones = self.open_microphones()
            if self.speaker is None:
                self.speaker = Loudspeaker(self.output_device)
            self._backoff.reset()
        except Exception as err:  # PortAudio: no such device, device busy, unplugged
            wait = self._backoff.next()
            log.warning("waiting for the sound device (%s); trying again in %.0f s", err, wait)
            if self.microphones is not None:
                self.microphones.stop()
            self.microphones = None
            await asyncio.sleep(wait)
            return
        sources = self.sources(self.microphones)
        if self.named:
            self.terminal = Terminal(client.send, sources=sources, on_track=self._track, receive=("audio",))
        else:
            self.terminal = Terminal(client.send, audio=sources[0][1], on_track=self._track, receive=("audio",))
        self._joined_on = client.connections
        self.joins += 1
        await self.terminal.join()
        log.info("media joined: %d microphone%s", len(sources), "s" if len(sources) != 1 else "")

    def _track(self, participant_id: str, kind: str, track: MediaStreamTrack) -> None:
        if kind == "audio" and self.speaker is not None:
            self.speaker.play(track)

    async def leave(self) -> None:
        terminal, self.terminal = self.terminal, None
        if terminal is not None:
            await terminal.close()
        if self.microphones is not None:
            self.microphones.stop()
            self.microphones = None

    async def close(self) -> None:
        await self.leave()
        if self.speaker is not None:
            self.speaker.close()
            self.speaker = None


def systemd_unit(description: str, command: str, before: str = "") -> str:
    """A systemd unit that runs ``courtroom COMMAND`` at boot and again
    whenever it stops."""
    return f"""\
[Unit]
Description={description}
After=network-online.target sound.target
Wants=network-online.target

[Service]
{before}ExecStart={{python}} -m courtroom.cli {command}
Restart=always
RestartSec=5
# A user with access to the sound devices (audio group, or a PulseAudio session).
User=courtroom
SupplementaryGroups=audio

[Install]
WantedBy=multi-user.target
"""
