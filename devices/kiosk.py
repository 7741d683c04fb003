"""A terminal's local picture: a fullscreen browser (Chromium in kiosk
mode) on the machine's screen, showing the hearing page as a screen that
only watches (``?autojoin=1&watch=1``: the others' pictures, no microphone,
no sound; the appliance itself carries the terminal's microphone and
loudspeaker). Nobody at a detention centre operates it: if the browser
exits it is started again, waiting longer each time; the page itself
reconnects to the hub by itself.
"""

from __future__ import annotations

import asyncio
import logging
import urllib.parse

from .client import Backoff

log = logging.getLogger("courtroom.kiosk")

#: Chromium's switches for an unattended screen.
KIOSK_FLAGS = ("--kiosk", "--noerrdialogs", "--disable-infobars", "--no-first-run",
               "--autoplay-policy=no-user-gesture-required", "--disable-session-crashed-bubble")


def watch_url(join_url: str) -> str:
    """The hearing page of a join link, joining by itself as a watching screen."""
    parts = urllib.parse.urlsplit(join_url)
    query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query) if k not in ("autojoin", "watch")]
    query += [("autojoin", "1"), ("watch", "1")]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


class Kiosk:
    def __init__(self, join_url: str, browser: str = "chromium") -> None:
        self.url = watch_url(join_url)
        self.browser = browser
        self.starts = 0
        self._backoff = Backoff(2.0, 60.0)

    def command(self) -> list[str]:
        return [self.browser, *KIOSK_FLAGS, self.url]

    async def run(self) -> None:
        while True:
            try:
                proc = await asyncio.create_subprocess_exec(*self.command())
            except OSError as err:
                wait = self._backoff.next()
                log.warning("cannot start the screen's browser %s (%s); trying again in %.0f s",
                            self.browser, err, wait)
                await asyncio.sleep(wait)
                continue
            self.starts += 1
            try:
                code = await proc.wait()
            except asyncio.CancelledError:
                proc.terminate()
                await proc.wait()
                raise
            wait = self._backoff.next()
            log.warning("the screen's browser exited (%s); starting it again in %.0f s", code, wait)
            await asyncio.sleep(wait)
