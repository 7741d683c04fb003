"""The hub's live streams: one composer process per hearing it streams.

The media room calls ``follow`` after every op that bears on the stream
(and when it loads the hearing, so a stream survives a restart of its hub
or the move of its hearing to another node): the composer is started,
told of a change, or stopped, to match the hearing's state.

Public files live in ``DATA/live/HEARING/`` (the playlist, its segments and
``stream.json``, what the public page shows about the hearing); what the
composer is told, with the names of protected participants, lives apart in
``DATA/live-control/HEARING.json``, never served. Stopping kills the
composer and removes the public files before anything more can go out.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from transcript.proceedings import Status
from transcript.state import TranscriptState

from ..composition.service import people_of
from .composer import PLAYLIST, write_playlist
from .control import Control, write
from .playlist import SEGMENT, Playlist

log = logging.getLogger(__name__)

#: The public page's facts about the hearing.
INFO = "stream.json"
#: A playlist not rewritten for this long belongs to a stream that died
#: (a hub killed before it could remove it): it is not served.
STALE_AFTER = 3 * SEGMENT + 4


def playlist_path(root: Path, hearing_id: str) -> Path | None:
    """The stream's playlist if the hearing is being streamed now."""
    path = root / hearing_id / PLAYLIST
    try:
        age = time.time() - path.stat().st_mtime
    except OSError:
        return None
    return path if age <= STALE_AFTER else None


class LiveStreams:
    def __init__(self, data: Path, recordings: Path, width: int = 640, height: int = 360, fps: int = 25) -> None:
        self.root = data / "live"
        self.controls = data / "live-control"
        self.recordings = recordings
        self.size = (width, height, fps)
        #: hearing id → (stream number, its composer)
        self._running: dict[str, tuple[int, subprocess.Popen[bytes]]] = {}

    def public(self, hearing_id: str) -> Path:
        return self.root / hearing_id

    def control_path(self, hearing_id: str) -> Path:
        return self.controls / f"{hearing_id}.json"

    def streaming(self, hearing_id: str) -> bool:
        running = self._running.get(hearing_id)
        return running is not None and running[1].poll() is None

    def follow(self, hearing_id: str, state: TranscriptState, created_ms: int) -> bool:
        """Match the stream to the hearing's state. True when a composer
        was started now (the caller asks the cameras for keyframes)."""
        broadcast, hearing = state.broadcast, state.hearing
        if hearing is None or not broadcast.streaming or state.proceedings.status is Status.ENDED:
            if hearing_id in self._running or self.control_path(hearing_id).exists():
                self.stop(hearing_id)  # (nothing to remove for a hearing never streamed here)
            return False
        width, height, fps = self.size
        control = Control(hearing_id, broadcast.started, broadcast.delay_s, created_ms / 1000,
                          str(self.recordings / hearing_id), str(self.public(hearing_id)), people_of(hearing),
                          sorted(broadcast.protected), f"{hearing.case_number} {hearing.court}", width, height, fps)
        running = self._running.get(hearing_id)
        if running is not None and running[0] == broadcast.started and running[1].poll() is None:
            write(self.control_path(hearing_id), control)  # the composer reads it between segments
            return False
        self.stop(hearing_id)
        write(self.control_path(hearing_id), control)
        public = self.public(hearing_id)
        public.mkdir(parents=True, exist_ok=True)
        (public / INFO).write_text(json.dumps({
            "case_number": hearing.case_number, "title": hearing.title, "court": hearing.court,
            "delay_s": broadcast.delay_s}, ensure_ascii=False))
        write_playlist(public, Playlist().text())  # streaming from now; segments come after the delay
        process = subprocess.Popen([sys.executable, "-m", "courtroom.live.composer", str(self.control_path(hearing_id)),
                                    "--parent", str(os.getpid())], stdin=subprocess.DEVNULL)
        self._running[hearing_id] = (broadcast.started, process)
        log.info("hearing %s: live stream %d on, %d s behind", hearing_id, broadcast.started, broadcast.delay_s)
        return True

    def halt(self, hearing_id: str) -> None:
        """Kill the composer and keep its files (the hub is stopping): the
        stream goes on when the hub starts again (``resumable``). Its
        playlist, no longer rewritten, is not served meanwhile."""
        running = self._running.pop(hearing_id, None)
        if running is not None:
            running[1].kill()
            running[1].wait()

    def resumable(self) -> list[str]:
        """The hearings streamed when this hub (or another, on the same
        data) last stopped: each is loaded again, and its stream goes on if
        the hearing still says so."""
        return sorted(p.stem for p in self.controls.glob("h-*.json")) if self.controls.is_dir() else []

    def stop(self, hearing_id: str) -> None:
        """Kill the composer, then remove what the public could fetch."""
        running = self._running.pop(hearing_id, None)
        if running is not None:
            running[1].kill()
            running[1].wait()
            log.info("hearing %s: live stream %d off", hearing_id, running[0])
        shutil.rmtree(self.public(hearing_id), ignore_errors=True)
        self.control_path(hearing_id).unlink(missing_ok=True)

    def close(self) -> None:
        for hearing_id in list(self._running):
            self.halt(hearing_id)
