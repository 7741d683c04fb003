"""The live stream's composer: a process of its own per stream, started and
stopped by the hub (``live.service``).

It walks the hearing's clock a fixed ``delay`` behind the courtroom, one
segment at a time: segment ``n`` (seconds ``n * SEGMENT`` to
``(n + 1) * SEGMENT`` of the hearing) is composed only once the courtroom
is ``delay`` past its end, so nothing goes out less than ``delay`` after it
happened, and the judge's 暂停直播 (which kills this process and removes
the stream's files) cuts everything the delay still holds back. The
picture is the recording's (``composition.compose.Renderer``), the speaker
chosen from the sound (``live.speaker``), protected participants masked
and their voices changed (``live.protect``). Video and sound are encoded
once, continuously, and cut into MPEG-TS segments at the keyframe that
opens each one, then listed in ``index.m3u8`` (``live.playlist``).

Run as ``python -m courtroom.live.composer CONTROL --parent PID``: it ends
when its parent (the hub) is gone, so a killed hub leaves no stream
running.
"""

from __future__ import annotations

import argparse
import fractions
import io
import logging
import math
import os
import sys
import threading
import time
from pathlib import Path
from typing import Callable

import av
import numpy as np

from ..composition.compose import Plan, Renderer
from ..media.recording import SAMPLE_RATE, Recording, recordings
from .control import read
from .follow import FollowedPictures, FollowedSound
from .playlist import SEGMENT, Playlist, Segment, segment_name
from .protect import VoiceChanger, mosaic
from .speaker import BLOCK, Speaker, level

log = logging.getLogger("courtroom.live")

PLAYLIST = "index.m3u8"
#: The composer's niceness (composition.service.NICE is lower still).
NICE = 5
#: Segments the composer may fall behind before it skips ahead.
MAX_LAG = 3
#: x264: fast enough for a fraction of a core at 640×360; no lookahead or
#: B-frames (zerolatency), so every picture's packet comes out at once and
#: a segment is exactly its two seconds.
X264 = {"preset": "veryfast", "tune": "zerolatency", "crf": "23"}
#: A bound on the bit rate, for viewers on a phone: kbit/s per 1,000 pixels
#: of height.
KBPS_PER_LINE = 2.5
AUDIO_BITRATE = 64_000
_BLOCK_SAMPLES = round(BLOCK * SAMPLE_RATE)


def write_playlist(folder: Path, text: str) -> None:
    tmp = folder / (PLAYLIST + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, folder / PLAYLIST)


class Composer:
    def __init__(self, control_path: Path, clock: Callable[[], float] = time.time) -> None:
        self.control_path = control_path
        self.control = read(control_path)
        self._control_mtime = control_path.stat().st_mtime_ns
        self.clock = clock
        c = self.control
        self.public = Path(c.public)
        self.folder = Path(c.recordings)
        self.public.mkdir(parents=True, exist_ok=True)
        #: The first segment: the next whole one after the stream started.
        self.first = math.ceil(self.now() / SEGMENT)
        self.t0 = self.first * SEGMENT
        self._scan: list[Recording] = recordings(self.folder)
        self.pictures: dict[str, FollowedPictures] = {}
        self.sounds: dict[str, FollowedSound] = {}
        self.voices: dict[str, VoiceChanger] = {}
        self.speaker = Speaker()
        #: Sound is pulled a block at a time, ahead of the picture, for the
        #: speaker's choice: the next block starts at hearing sample
        #: ``_next_block`` (block ``speaker.heard``); each participant's
        #: samples from ``_mixed_to`` up to there wait to be mixed.
        self._pulled: dict[str, np.ndarray] = {}
        self._next_block = self._mixed_to = round(self.t0 * SAMPLE_RATE)
        plan = Plan(people=[], recordings=(), duration=0.0, caption=c.caption, started=c.started,
                    width=c.width, height=c.height, fps=c.fps)
        self.renderer = Renderer(plan, pictures=self.pictures, speaker=self._speaker_at, mask=mosaic)
        self.playlist = Playlist()
        #: Set to end ``run`` (the process ends with its parent instead).
        self.stopped = threading.Event()
        self._encoders()
        self._refresh()

    def now(self) -> float:
        """The courtroom's time on the hearing clock."""
        return self.clock() - self.control.started

    # -- what to show ---------------------------------------------------------

    def _files_of(self, participant_id: str) -> Callable[[], list[Recording]]:
        return lambda: [r for r in self._scan if r.participant_id == participant_id]

    def _refresh(self) -> None:
        """Look again at the control file and the recordings: who is in the
        picture, who is protected."""
        try:
            mtime = self.control_path.stat().st_mtime_ns
            if mtime != self._control_mtime:
                self.control, self._control_mtime = read(self.control_path), mtime
        except (OSError, ValueError) as err:
            log.warning("live %s: control file unreadable, keeping the last (%s)", self.control.hearing_id, err)
        self._scan = recordings(self.folder)
        heard = {r.participant_id for r in self._scan}
        people = [p for p in self.control.people if p.participant_id in heard]
        for p in people:
            pid = p.participant_id
            if pid not in self.pictures:
                self.pictures[pid] = FollowedPictures(self.t0, self._files_of(pid))
                self.sounds[pid] = FollowedSound(self.t0, self._files_of(pid))
                # Their sound from where mixing is (the speaker's choice for
                # the blocks already pulled was made without them).
                self._pulled[pid] = self.sounds[pid].take(self._mixed_to, self._next_block - self._mixed_to)
        self.renderer.show(people)
        protected = frozenset(self.control.protected)
        self.renderer.masked = protected
        self.voices = {pid: self.voices.get(pid) or VoiceChanger() for pid in protected}

    def _pull_block(self) -> None:
        """The next block of everyone's sound: heard by the speaker's
        choice now, mixed when the picture reaches it."""
        levels = {}
        for pid, sound in self.sounds.items():
            samples = sound.take(self._next_block, _BLOCK_SAMPLES)
            levels[pid] = level(samples)
            self._pulled[pid] = np.concatenate([self._pulled[pid], samples])
        self._next_block += _BLOCK_SAMPLES
        self.speaker.hear(levels)

    def _speaker_at(self, t: float) -> str | None:
        block = int((t - self.t0) / BLOCK)
        while self.speaker.heard <= block + self.speaker.turn_blocks:
            self._pull_block()
        return self.speaker.active(block)

    def _mix(self, start: int, count: int) -> np.ndarray:
        """Everyone's sound from hearing sample ``start`` (never before the
        last call's end); protected voices changed."""
        while self._next_block < start + count:
            self._pull_block()
        mixed = np.zeros(count, np.int32)
        at = start - self._mixed_to
        for pid, samples in self._pulled.items():
            part = samples[at:at + count]
            voice = self.voices.get(pid)
            mixed += voice(part) if voice is not None else part
            self._pulled[pid] = samples[at + count:]
        self._mixed_to = start + count
        return np.clip(mixed, -32768, 32767).astype(np.int16)

    # -- encoding -------------------------------------------------------------

    def _encoders(self) -> None:
        """One H.264 and one AAC encoder for the whole stream, in a
        container that is never written: each segment's container takes its
        streams' parameters from them."""
        c = self.control
        self._template = av.open(io.BytesIO(), "w", format="mpegts")
        kbps = round(KBPS_PER_LINE * c.height)
        video = self._template.add_stream("libx264", rate=c.fps, options={
            **X264, "maxrate": f"{kbps}k", "bufsize": f"{2 * kbps}k",
            "x264-params": f"keyint={c.fps * SEGMENT}:min-keyint={c.fps * SEGMENT}:scenecut=0"})
        video.width, video.height, video.pix_fmt = c.width, c.height, "yuv420p"
        video.codec_context.gop_size = c.fps * SEGMENT
        audio = self._template.add_stream("aac", rate=SAMPLE_RATE, layout="mono")
        audio.bit_rate = AUDIO_BITRATE
        self._template.start_encoding()
        self._video, self._audio = video, audio

    def segment(self, n: int, discontinuity: bool = False) -> Path:
        """Compose, encode and publish segment ``n``, with whoever is
        recorded by now and the control file as it is now."""
        self._refresh()
        c = self.control
        frames = c.fps * SEGMENT
        name = segment_name(n)
        tmp = self.public / (name + ".tmp")
        with av.open(str(tmp), "w", format="mpegts") as out:
            video = out.add_stream_from_template(self._video)
            audio = out.add_stream_from_template(self._audio)
            for k in range(frames):
                index = n * frames + k
                t = index / c.fps
                frame = self.renderer.frame(t)
                frame.pts, frame.time_base = index, fractions.Fraction(1, c.fps)
                if k == 0:
                    frame.pict_type = av.video.frame.PictureType.I
                for packet in self._video.encode(frame):
                    packet.stream = video
                    out.mux(packet)
                start = round(t * SAMPLE_RATE)
                count = round((index + 1) / c.fps * SAMPLE_RATE) - start
                sound = av.AudioFrame.from_ndarray(self._mix(start, count).reshape(1, -1), format="s16",
                                                   layout="mono")
                sound.sample_rate, sound.pts = SAMPLE_RATE, start
                sound.time_base = fractions.Fraction(1, SAMPLE_RATE)
                for packet in self._audio.encode(sound):
                    packet.stream = audio
                    out.mux(packet)
        os.replace(tmp, self.public / name)
        for gone in self.playlist.add(Segment(n, SEGMENT, c.started + n * SEGMENT, discontinuity)):
            (self.public / segment_name(gone.number)).unlink(missing_ok=True)
        write_playlist(self.public, self.playlist.text())
        return self.public / name

    # -- the loop -------------------------------------------------------------

    def run(self, parent: int | None = None) -> None:
        n, skipped = self.first, False
        write_playlist(self.public, self.playlist.text())
        while (parent is None or os.getppid() == parent) and not self.stopped.is_set():
            due = (n + 1) * SEGMENT + self.control.delay_s
            wait = due - self.now()
            if wait > 0:
                # Keep the playlist fresh while waiting: a stale one means
                # the stream died, and the hub serves it no more.
                (self.public / PLAYLIST).touch()
                self.stopped.wait(min(wait, 1.0))
                continue
            if -wait > MAX_LAG * SEGMENT:
                behind = math.floor((self.now() - self.control.delay_s) / SEGMENT) - 1
                log.warning("live %s: %d segments behind; skipping ahead", self.control.hearing_id, behind - n)
                n, skipped = behind, True
                continue
            self.segment(n, discontinuity=skipped)
            n, skipped = n + 1, False

    def close(self) -> None:
        self.stopped.set()
        for pictures in self.pictures.values():
            pictures.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m courtroom.live.composer")
    parser.add_argument("control", type=Path)
    parser.add_argument("--parent", type=int, default=None, help="end when this process is gone")
    args = parser.parse_args(argv)
    # Below the hub (the hearings themselves come first), above composing
    # recordings (the stream must keep up with the courtroom).
    os.nice(NICE)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    composer = Composer(args.control)
    try:
        composer.run(args.parent)
    finally:
        composer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
