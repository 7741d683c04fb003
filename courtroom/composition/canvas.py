"""The composed picture, built in the encoder's own format (4:2:0 planes).

Each participant's frame is scaled by FFmpeg straight into 4:2:0 at its
tile's size and copied into the planes: no RGB round trip per frame. Text
(each tile's name, the case number and the time) is drawn once with
Pillow in a CJK font and kept as 4:2:0 too; the clock's image is redrawn
once a second.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import av
import numpy as np

from .layout import Tile, fit

#: Debian's fonts-noto-cjk; another CJK font can be named with
#: COURTROOM_CAPTION_FONT.
FONTS = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
         "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
         "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
BACKGROUND = (16, 128, 128)  # Y, U, V: near black
EMPTY = (40, 128, 128)       # a tile with no picture: dark grey


def font_path() -> str | None:
    named = os.environ.get("COURTROOM_CAPTION_FONT")
    if named:
        return named
    return next((f for f in FONTS if Path(f).exists()), None)


class Planes:
    """One 4:2:0 frame as three numpy planes (Y full size, U and V half)."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.data = np.empty((height * 3 // 2, width), np.uint8)
        self.y = self.data[:height]
        chroma = self.data[height:].reshape(2, height // 2, width // 2)
        self.u, self.v = chroma[0], chroma[1]

    def fill(self, tile: Tile, colour: tuple[int, int, int]) -> None:
        x, y, w, h = tile.x, tile.y, tile.width, tile.height
        self.y[y:y + h, x:x + w] = colour[0]
        self.u[y // 2:(y + h) // 2, x // 2:(x + w) // 2] = colour[1]
        self.v[y // 2:(y + h) // 2, x // 2:(x + w) // 2] = colour[2]

    def paste(self, x: int, y: int, image: np.ndarray) -> None:
        """A 4:2:0 image (as ``av``'s ``to_ndarray`` gives it: Y rows, then
        U and V rows of half width) with its top left at (x, y), clipped to
        the frame."""
        h, w = image.shape[0] * 2 // 3, image.shape[1]
        w, h = min(w, self.width - x) // 2 * 2, min(h, self.height - y) // 2 * 2
        if w <= 0 or h <= 0:
            return
        full_h, full_w = image.shape[0] * 2 // 3, image.shape[1]
        self.y[y:y + h, x:x + w] = image[:h, :w]
        chroma = image[full_h:].reshape(2, full_h // 2, full_w // 2)
        self.u[y // 2:(y + h) // 2, x // 2:(x + w) // 2] = chroma[0, :h // 2, :w // 2]
        self.v[y // 2:(y + h) // 2, x // 2:(x + w) // 2] = chroma[1, :h // 2, :w // 2]

    def frame(self) -> av.VideoFrame:
        return av.VideoFrame.from_ndarray(self.data, format="yuv420p")


def picture(frame: av.VideoFrame, tile: Tile) -> tuple[Tile, np.ndarray]:
    """``frame`` scaled into ``tile`` (aspect kept), as 4:2:0."""
    inner = fit(tile, frame.width, frame.height)
    scaled = frame.reformat(width=inner.width, height=inner.height, format="yuv420p")
    return inner, scaled.to_ndarray()


@lru_cache(maxsize=256)
def text_image(text: str, size: int, box: bool = True) -> np.ndarray:
    """``text`` in white on a dark box, as 4:2:0 (even width and height)."""
    from PIL import Image, ImageDraw, ImageFont
    path = font_path()
    font = ImageFont.truetype(path, size) if path else ImageFont.load_default()
    left, top, right, bottom = font.getbbox(text)
    pad = max(2, size // 4)
    w, h = (right - left + 2 * pad + 1) // 2 * 2, (bottom - top + 2 * pad + 1) // 2 * 2
    image = Image.new("RGB", (max(w, 2), max(h, 2)), (20, 20, 20) if box else (0, 0, 0))
    ImageDraw.Draw(image).text((pad - left, pad - top), text, font=font, fill=(255, 255, 255))
    rgb = av.VideoFrame.from_ndarray(np.asarray(image), format="rgb24")
    return rgb.reformat(format="yuv420p").to_ndarray()
