"""Tiles of the composed picture: inside the frame, never overlapping, even."""

from __future__ import annotations

import itertools

import pytest

from courtroom.composition.layout import Tile, fit, speaker_layout


def overlap(a: Tile, b: Tile) -> bool:
    return a.x < b.x + b.width and b.x < a.x + a.width and a.y < b.y + b.height and b.y < a.y + a.height


@pytest.mark.parametrize("size", [(1280, 720), (640, 360), (1920, 1080)])
@pytest.mark.parametrize("count", [1, 2, 3, 5, 8])
def test_every_tile_is_inside_the_frame_apart_and_even(size: tuple[int, int], count: int) -> None:
    width, height = size
    people = [f"p{k}" for k in range(count)]
    for active in [None, *people]:
        tiles = speaker_layout(width, height, people, active)
        assert set(tiles) == set(people)
        for tile in tiles.values():
            assert 0 <= tile.x and tile.x + tile.width <= width and 0 <= tile.y and tile.y + tile.height <= height
            assert all(v % 2 == 0 for v in (tile.x, tile.y, tile.width, tile.height))
        assert not any(overlap(a, b) for a, b in itertools.combinations(tiles.values(), 2))


def test_the_speaker_is_large_and_the_strip_keeps_its_order() -> None:
    people = ["judge", "plaintiff", "defendant"]
    tiles = speaker_layout(1280, 720, people, "defendant")
    assert tiles["defendant"].width * tiles["defendant"].height > 4 * tiles["judge"].width * tiles["judge"].height
    assert tiles["judge"].x < tiles["plaintiff"].x and tiles["judge"].y == tiles["plaintiff"].y
    assert speaker_layout(1280, 720, people, None)["judge"] == speaker_layout(1280, 720, people, "judge")["judge"]
    assert speaker_layout(1280, 720, people, "someone else")["judge"].width == 1280  # not present: the first
    assert speaker_layout(1280, 720, ["judge"], "judge") == {"judge": Tile(0, 0, 1280, 720)}


def test_a_picture_is_fitted_with_its_aspect_kept_and_centred() -> None:
    tile = Tile(100, 50, 640, 400)
    inner = fit(tile, 640, 480)  # 4:3 into 16:10: bars left and right
    assert inner.height == 400 and abs(inner.width / inner.height - 4 / 3) < 0.01
    assert inner.x - tile.x == pytest.approx(tile.x + tile.width - (inner.x + inner.width), abs=2)
    wide = fit(tile, 1920, 1080)  # 16:9 into 16:10: bars above and below
    assert wide.width == 640 and wide.y > tile.y
