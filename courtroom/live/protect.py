"""Making a protected participant unrecognizable in the live stream: a
mosaic over their picture, and their voice lowered in pitch at its own
speed. The recording for the case file keeps them as they were."""

from __future__ import annotations

import fractions

import av
import numpy as np

from ..composition.layout import Tile, fit
from ..media.recording import SAMPLE_RATE

#: Mosaic cells across the picture's width: a face is a few flat squares.
CELLS = 10
#: The voice's pitch, as a ratio: about four semitones lower.
PITCH = 0.8


def mosaic(frame: av.VideoFrame, tile: Tile) -> tuple[Tile, np.ndarray]:
    """``frame`` fitted into ``tile`` as flat cells (4:2:0), like
    ``canvas.picture``: shrunk to a few pixels by averaging, then blown up
    again without smoothing."""
    inner = fit(tile, frame.width, frame.height)
    across = max(2, CELLS)
    down = max(2, round(across * inner.height / max(1, inner.width)))
    small = frame.reformat(width=across, height=down, format="yuv420p", interpolation="AREA")
    big = small.reformat(width=inner.width, height=inner.height, format="yuv420p", interpolation="POINT")
    return inner, big.to_ndarray()


class VoiceChanger:
    """A participant's voice, lowered by ``PITCH`` and played at its own
    speed (FFmpeg: ``asetrate`` lowers pitch and tempo, ``atempo`` restores
    the tempo), sample for sample: what goes in comes out, a few tens of
    milliseconds late, silence first."""

    def __init__(self, pitch: float = PITCH) -> None:
        graph = av.filter.Graph()
        source = graph.add_abuffer(format="s16", sample_rate=SAMPLE_RATE, layout="mono",
                                   time_base=fractions.Fraction(1, SAMPLE_RATE))
        lower = graph.add("asetrate", f"{round(SAMPLE_RATE * pitch)}")
        back = graph.add("aresample", str(SAMPLE_RATE))
        tempo = graph.add("atempo", f"{1 / pitch:.6f}")
        fmt = graph.add("aformat", "sample_fmts=s16:channel_layouts=mono:sample_rates=48000")
        sink = graph.add("abuffersink")
        source.link_to(lower)
        lower.link_to(back)
        back.link_to(tempo)
        tempo.link_to(fmt)
        fmt.link_to(sink)
        graph.configure()
        self._graph = graph
        self._pts = 0
        self._out = np.zeros(0, np.int16)

    def __call__(self, samples: np.ndarray) -> np.ndarray:
        frame = av.AudioFrame.from_ndarray(samples.astype(np.int16).reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate, frame.pts = SAMPLE_RATE, self._pts
        frame.time_base = fractions.Fraction(1, SAMPLE_RATE)
        self._pts += len(samples)
        self._graph.push(frame)
        chunks = [self._out]
        while True:
            try:
                out = self._graph.pull()
            except (av.error.BlockingIOError, av.error.EOFError):
                break
            chunks.append(out.to_ndarray().reshape(-1))
        have = np.concatenate(chunks)
        if len(have) < len(samples):
            have = np.concatenate([np.zeros(len(samples) - len(have), np.int16), have])
        self._out = have[len(samples):]
        return have[:len(samples)]
