"""A fixed terminal (detention centre, procuratorate) as an appliance: given
its join link, it joins the hearing with the machine's microphone, plays
the others on its loudspeaker, and whatever fails (the network, the hub,
the sound device) it comes back by itself. Nobody at the terminal types
anything; its log says what it is waiting for.

It speaks the wire protocol only: ``client.HearingClient`` keeps the
connection and the sync, ``soundmedia.SoundMedia`` its microphone and
loudspeaker in the hearing.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from protocol import messages
from protocol.publish import Source

from .audio import MicrophoneArray
from .client import HearingClient
from .kiosk import Kiosk
from .soundmedia import SoundMedia, systemd_unit

log = logging.getLogger("courtroom.terminal")

#: How often the terminal looks at its media and devices (seconds).
CHECK_EVERY = 1.0


class Appliance:
    def __init__(self, join_url: str, input_device: str | None = None, output_device: str | None = None,
                 screen: Kiosk | None = None) -> None:
        """``screen``: a kiosk browser showing the others' pictures."""
        self.join_url = join_url
        self.screen = screen
        self.client = HearingClient(join_url, on_message=self._message)
        self.media = SoundMedia(lambda: MicrophoneArray(input_device, 1),
                                lambda mics: [(Source("audio", "audio"), mics.tracks[0])], output_device, named=False)
        self._admitted = asyncio.Event()

    async def run(self) -> None:
        connection = asyncio.create_task(self.client.run())
        screen = asyncio.create_task(self.screen.run()) if self.screen is not None else None
        try:
            while not connection.done():
                await self.media.keep(self.client, self.client.live.is_set() and self._admitted.is_set())
                await asyncio.wait({connection}, timeout=CHECK_EVERY)
            connection.result()
        finally:
            connection.cancel()
            if screen is not None:
                screen.cancel()
            await self.media.close()

    async def _message(self, msg: dict[str, Any]) -> None:
        kind = msg.get("type", "")
        if kind == messages.SYNCED:
            self._admitted.set()
            log.info("in the hearing as %s", self.client.participant.get("name"))
        elif kind == messages.WAITING:
            self._admitted.clear()
            log.info("waiting for the judge to admit this terminal")
            await self.media.leave()
        elif kind.startswith("rtc."):
            self.media.handle(msg)


SYSTEMD_UNIT = systemd_unit(
    "融合法庭 terminal (joins its hearing by itself)", "terminal --join-url ${{COURTROOM_JOIN_URL}}",
    "# The invite link the court issued for this terminal.\n"
    "Environment=COURTROOM_JOIN_URL=https://hub.court.example/hearings/h-...?token=...\n")
