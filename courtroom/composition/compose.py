"""Composing a hearing's recordings into one MP4 (H.264 + AAC + subtitles).

The picture is rendered in parts of ``PART_SECONDS`` (``part-NNNNN.mp4``,
each its own H.264 stream starting at a keyframe), every part written to a
temporary name, fsync'd and renamed when whole: a composition stopped by a
crash or a restart goes on from the first part it lacks. The picture is
the costly work (decoding every participant, scaling, encoding); the
sound is cheap, so the last step mixes every participant's audio from the
recordings in one continuous AAC stream (parts of AAC would each add the
encoder's priming samples and drift), copies the parts' video behind one
another, adds the transcript as a subtitle track (mov_text, which players
and browsers show as captions) and writes ``video.mp4`` with its index at
the front, so a browser can play it while it downloads.

Everything is on the hearing's clock: second ``t`` of the video is second
``t`` of the hearing, so a transcript line's time seeks the video.
"""

from __future__ import annotations

import fractions
import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Protocol, Sequence

import av
import numpy as np

from transcript.subtitles import Cue

from ..durable import fsync_path
from ..media.recording import SAMPLE_RATE, Recording
from .canvas import BACKGROUND, EMPTY, Planes, picture, text_image
from .layout import Tile, speaker_layout
from .sources import Pictures, Sound
from .timeline import Speech, Timeline

PART_SECONDS = 60
#: x264's speed preset: "veryfast" keeps a composition several times faster
#: than real time on two cores at 1280×720 with a file size close to
#: "medium"'s for a mostly still picture.
PRESET = "veryfast"
CRF = 23
FINAL = "video.mp4"
PROGRESS = "progress.json"
_MS = fractions.Fraction(1, 1000)
_SAMPLE = fractions.Fraction(1, SAMPLE_RATE)
#: Audio is mixed a second at a time.
_BLOCK = SAMPLE_RATE


@dataclass(frozen=True, slots=True)
class Person:
    participant_id: str
    #: Shown under their picture: role and name (审判长 张三).
    label: str
    #: Shown instead where they are protected (the live stream): the role.
    masked_label: str = ""


class PictureSource(Protocol):
    def at(self, t: float) -> av.VideoFrame | None: ...


@dataclass(frozen=True)
class Plan:
    """What to compose: who (in the strip's order), their recordings, who
    spoke when (from the transcript), the subtitles, and the caption."""
    people: Sequence[Person]
    recordings: Sequence[Recording]
    duration: float
    speech: Sequence[Speech] = ()
    cues: Sequence[Cue] = ()
    #: Top left of every frame: the case number and the court.
    caption: str = ""
    #: Unix time of the hearing clock's zero: the overlay shows the time of
    #: day; without it, the time since the hearing began.
    started: float | None = None
    width: int = 1280
    height: int = 720
    fps: int = 25

    @property
    def parts(self) -> int:
        return max(1, math.ceil(self.duration / PART_SECONDS))


def part_path(folder: Path, k: int) -> Path:
    return folder / f"part-{k:05d}.mp4"


def write_progress(folder: Path, done: int, parts: int, state: str) -> None:
    """``progress.json``: parts done of all (the mixing pass is one more)."""
    tmp = folder / (PROGRESS + ".tmp")
    tmp.write_text(json.dumps({"state": state, "done": done, "steps": parts + 1,
                               "fraction": round(done / (parts + 1), 4)}))
    os.replace(tmp, folder / PROGRESS)


def read_progress(folder: Path) -> dict[str, object] | None:
    try:
        return json.loads((folder / PROGRESS).read_text())  # type: ignore[no-any-return]
    except (OSError, ValueError):
        return None


def compose(plan: Plan, folder: Path, on_progress: Callable[[float], None] | None = None) -> Path:
    """Compose ``plan`` into ``folder``/video.mp4, reusing whole parts a
    stopped composition left there. Returns the video's path."""
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / FINAL
    if final.exists():
        return final
    renderer = Renderer(plan)
    for k in range(plan.parts):
        path = part_path(folder, k)
        if not path.exists():
            renderer.render(k, path)
        write_progress(folder, k + 1, plan.parts, "composing")
        if on_progress is not None:
            on_progress((k + 1) / (plan.parts + 1))
    finish(plan, folder)
    write_progress(folder, plan.parts + 1, plan.parts, "done")
    if on_progress is not None:
        on_progress(1.0)
    return final


def compose_ahead(plan: Plan, folder: Path) -> int:
    """While the hearing goes on: make the whole parts of ``plan.duration``
    not made yet, so that after 闭庭 only the last part and the mix are
    left. Returns how many whole parts there are."""
    folder.mkdir(parents=True, exist_ok=True)
    whole = int(plan.duration // PART_SECONDS)
    renderer: Renderer | None = None
    for k in range(whole):
        path = part_path(folder, k)
        if not path.exists():
            renderer = renderer or Renderer(plan)
            renderer.render(k, path)
    return whole


class Renderer:
    """The picture, frame by frame, walking the hearing forward.

    By default from the plan: the recordings read back, the speaker from
    the transcript. The live stream gives its own ``pictures`` (followed
    as they are written), ``speaker`` (from the sound) and ``masked``
    participants (a mosaic, their role without their name)."""

    def __init__(self, plan: Plan, pictures: Mapping[str, PictureSource] | None = None,
                 speaker: Callable[[float], str | None] | None = None,
                 mask: Callable[[av.VideoFrame, Tile], tuple[Tile, np.ndarray]] | None = None) -> None:
        self.plan = plan
        self.show(plan.people)
        if pictures is None:
            mine = {pid: [r for r in plan.recordings if r.participant_id == pid] for pid in self.ids}
            pictures = {pid: Pictures(recs) for pid, recs in mine.items()}
        self.pictures = pictures
        self.speaker = speaker if speaker is not None else Timeline(plan.speech).active_at
        self.mask = mask
        self.masked: frozenset[str] = frozenset()
        self.planes = Planes(plan.width, plan.height)
        self.whole = Tile(0, 0, plan.width, plan.height)
        self.label_size = max(12, plan.height // 40)
        self.caption_size = max(14, plan.height // 30)

    def show(self, people: Sequence[Person]) -> None:
        """Who is in the picture, in the strip's order."""
        self.ids = [p.participant_id for p in people]
        self.people = {p.participant_id: p for p in people}

    def render(self, k: int, path: Path) -> None:
        plan = self.plan
        first = k * PART_SECONDS * plan.fps
        count = min(PART_SECONDS * plan.fps, math.ceil(plan.duration * plan.fps) - first)
        tmp = path.with_suffix(".tmp")
        with av.open(str(tmp), "w", format="mp4") as out:
            stream = out.add_stream("libx264", rate=plan.fps, options={"preset": PRESET, "crf": str(CRF)})
            stream.width, stream.height, stream.pix_fmt = plan.width, plan.height, "yuv420p"
            stream.codec_context.gop_size = plan.fps * 2  # a keyframe every 2 s: seeking stays quick
            for n in range(max(1, count)):
                frame = self.frame((first + n) / plan.fps)
                frame.pts = n
                out.mux(stream.encode(frame))
            out.mux(stream.encode(None))
        fsync_path(tmp)
        os.replace(tmp, path)
        fsync_path(path.parent)

    def frame(self, t: float) -> av.VideoFrame:
        planes = self.planes
        planes.fill(self.whole, BACKGROUND)
        tiles = speaker_layout(self.plan.width, self.plan.height, self.ids, self.speaker(t))
        for pid, tile in tiles.items():
            source = self.pictures.get(pid)
            shown = source.at(t) if source is not None else None
            masked = pid in self.masked and self.mask is not None
            if shown is None:
                planes.fill(tile, EMPTY)
                inner = tile
            else:
                inner, image = self.mask(shown, tile) if masked and self.mask else picture(shown, tile)
                planes.paste(inner.x, inner.y, image)
            person = self.people[pid]
            text = (person.masked_label or "受保护人员") if masked else person.label
            label = text_image(text, self.label_size)  # on the picture's bottom left
            planes.paste(inner.x + 4, inner.y + inner.height - label.shape[0] * 2 // 3 - 4, label)
        if self.plan.caption:
            planes.paste(8, 8, text_image(self.plan.caption, self.caption_size))
        clock = text_image(self.clock(t), self.caption_size)
        planes.paste(self.plan.width - clock.shape[1] - 8, 8, clock)
        return planes.frame()

    def clock(self, t: float) -> str:
        if self.plan.started is not None:
            return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.plan.started + int(t)))
        s = int(t)
        return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"


def finish(plan: Plan, folder: Path) -> None:
    """The parts' video behind one another, every participant's audio mixed
    into one AAC stream, and the subtitles, as ``video.mp4``."""
    tmp = folder / (FINAL + ".tmp")
    sounds = [Sound([r for r in plan.recordings if r.participant_id == p.participant_id]) for p in plan.people]
    with av.open(str(tmp), "w", format="mp4", options={"movflags": "+faststart"}) as out:
        video = None
        audio = out.add_stream("aac", rate=SAMPLE_RATE, layout="mono")
        subtitles = out.add_mux_stream("mov_text") if plan.cues else None
        if subtitles is not None:
            subtitles.time_base = _MS
        cues = sorted(plan.cues, key=lambda c: c.start)
        samples_done = 0
        for k in range(plan.parts):
            with av.open(str(part_path(folder, k))) as part:
                source = part.streams.video[0]
                if video is None:
                    video = out.add_stream_from_template(source)
                offset = round(k * PART_SECONDS / source.time_base)
                for packet in part.demux(source):
                    if packet.dts is None:
                        continue
                    packet.pts, packet.dts = packet.pts + offset, packet.dts + offset
                    packet.stream = video
                    out.mux(packet)
            end = min(plan.duration, (k + 1) * PART_SECONDS)
            samples_done = _mix(out, audio, sounds, samples_done, round(end * SAMPLE_RATE))
            while cues and subtitles is not None and cues[0].start < end:
                _subtitle(out, subtitles, cues.pop(0))
        out.mux(audio.encode(None))
    fsync_path(tmp)
    os.replace(tmp, folder / FINAL)
    fsync_path(folder)


def _mix(out: av.container.OutputContainer, stream: av.AudioStream, sounds: list[Sound],
         start: int, end: int) -> int:
    at = start
    while at < end:
        count = min(_BLOCK, end - at)
        mixed = np.zeros(count, np.int32)
        for sound in sounds:
            mixed += sound.take(at, count)
        frame = av.AudioFrame.from_ndarray(np.clip(mixed, -32768, 32767).astype(np.int16).reshape(1, -1),
                                           format="s16", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = SAMPLE_RATE, at, _SAMPLE
        out.mux(stream.encode(frame))
        at += count
    return at


def _subtitle(out: av.container.OutputContainer, stream: av.stream.Stream, cue: Cue) -> None:
    """One cue as a 3GPP timed-text sample: its length, then UTF-8."""
    text = f"{cue.speaker}：{cue.text}" if cue.speaker else cue.text
    body = text.encode()[:65535]
    packet = av.Packet(len(body).to_bytes(2, "big") + body)
    packet.pts = packet.dts = round(cue.start * 1000)
    packet.duration = max(1, round((cue.end - cue.start) * 1000))
    packet.time_base = _MS
    packet.stream = stream
    out.mux(packet)
