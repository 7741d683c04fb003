"""Where each participant's picture goes on the composed frame.

The court's usual picture of a hearing: whoever is speaking large, everyone
else small in a strip along the bottom, in a fixed order (the judge first),
so a viewer always finds a party in the same place. Pure arithmetic: whole,
even pixel counts, since the frame is encoded as 4:2:0 and odd edges would
smear colour across a tile's border.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

#: Pictures in the strip are 16:9; the strip is at least this many tiles
#: wide, so two or three parties do not get huge thumbnails.
MIN_STRIP_TILES = 4


@dataclass(frozen=True, slots=True)
class Tile:
    x: int
    y: int
    width: int
    height: int


def _even(value: float) -> int:
    return max(2, int(value) // 2 * 2)


def fit(tile: Tile, width: int, height: int) -> Tile:
    """A ``width``×``height`` picture scaled to fit inside ``tile``, its
    aspect ratio kept, centred (the rest of the tile stays background)."""
    scale = min(tile.width / width, tile.height / height)
    w, h = min(tile.width, _even(width * scale)), min(tile.height, _even(height * scale))
    return Tile(tile.x + (tile.width - w) // 4 * 2, tile.y + (tile.height - h) // 4 * 2, w, h)


def speaker_layout(width: int, height: int, people: Sequence[str], active: str | None) -> dict[str, Tile]:
    """Tiles on a ``width``×``height`` frame for ``people`` (in the order the
    strip shows them): ``active`` large above the strip, the others in the
    strip. With nobody active the first person is shown large; with one
    person there is no strip."""
    if not people:
        return {}
    large = active if active in people else people[0]
    others = [p for p in people if p != large]
    if not others:
        return {large: Tile(0, 0, _even(width), _even(height))}
    count = max(len(others), MIN_STRIP_TILES)
    tile_w = _even(width / count)
    tile_h = _even(tile_w * 9 / 16)
    strip_y = _even(height - tile_h)
    left = (width - tile_w * len(others)) // 4 * 2  # the strip centred
    tiles = {large: Tile(0, 0, _even(width), strip_y)}
    for k, person in enumerate(others):
        tiles[person] = Tile(left + k * tile_w, strip_y, tile_w, tile_h)
    return tiles
