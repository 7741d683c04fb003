"""Masking in the live stream (courtroom/live/protect.py): the voice comes
out as many samples as went in, lower by PITCH; the picture as flat cells."""

from __future__ import annotations

import av
import numpy as np

from courtroom.composition.layout import Tile
from courtroom.live.protect import CELLS, PITCH, VoiceChanger, mosaic
from tests.composition.test_compose import dominant


def test_the_voice_is_lowered_at_its_own_speed() -> None:
    voice = VoiceChanger()
    t = np.arange(48_000 * 2) / 48_000
    tone = (np.sin(2 * np.pi * 500 * t) * 8000).astype(np.int16)
    out = np.concatenate([voice(tone[k:k + 1920]) for k in range(0, len(tone), 1920)])
    assert len(out) == len(tone)
    assert abs(dominant(out[48_000:72_000]) - 500 * PITCH) < 5
    onset = int(np.argmax(np.abs(out) > 1000))
    assert onset < 0.1 * 48_000  # a few tens of milliseconds late


def test_the_picture_is_a_few_flat_cells() -> None:
    noise = np.random.default_rng(1).integers(0, 255, (240, 320, 3), np.uint8)
    inner, image = mosaic(av.VideoFrame.from_ndarray(noise, format="rgb24"), Tile(0, 0, 400, 300))
    assert (inner.width, inner.height) == (400, 300)
    luma = image[:300]
    assert len(np.unique(luma)) <= CELLS * 8 * 2  # a handful of values, not noise
    # Neighbours differ only at the cells' edges.
    assert np.abs(np.diff(luma.astype(int), axis=1)).astype(bool).mean() < 0.05
