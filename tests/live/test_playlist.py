"""The live playlist as a value: a sliding window of numbered segments,
each with the courtroom time of its first picture; gaps marked."""

from __future__ import annotations

import datetime

import pytest

from courtroom.live.playlist import KEEP, SEGMENT, WINDOW, Playlist, Segment, segment_name


def test_an_empty_playlist_is_live_and_lists_nothing() -> None:
    text = Playlist().text()
    assert text.startswith("#EXTM3U\n") and f"#EXT-X-TARGETDURATION:{SEGMENT}" in text
    assert "#EXTINF" not in text and "#EXT-X-ENDLIST" not in text


def test_the_window_slides_and_old_segments_are_deleted_after_a_while() -> None:
    playlist = Playlist()
    gone = []
    for n in range(100, 100 + WINDOW + KEEP + 3):
        gone += playlist.add(Segment(n, 2.0, 1_764_000_000.0 + n * 2))
    assert [s.number for s in gone] == [100, 101, 102]
    text = playlist.text()
    names = [line for line in text.splitlines() if line.startswith("seg-")]
    last = 100 + WINDOW + KEEP + 2
    assert names == [segment_name(n) for n in range(last - WINDOW + 1, last + 1)]
    assert f"#EXT-X-MEDIA-SEQUENCE:{last - WINDOW + 1}" in text
    first_listed = text.splitlines().index(names[0])
    assert text.splitlines()[first_listed - 2] == "#EXT-X-PROGRAM-DATE-TIME:" + _iso(1_764_000_000.0 + (last - WINDOW + 1) * 2)


def _iso(t: float) -> str:
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).isoformat(timespec="milliseconds") \
        .replace("+00:00", "Z")


def test_a_gap_is_a_discontinuity_counted_once_it_slides_out() -> None:
    playlist = Playlist()
    playlist.add(Segment(1, 2.0, 2.0))
    playlist.add(Segment(5, 2.0, 10.0))  # the composer skipped ahead
    text = playlist.text()
    assert text.count("#EXT-X-DISCONTINUITY\n") == 1 and "#EXT-X-DISCONTINUITY-SEQUENCE:0" in text
    for n in range(6, 6 + WINDOW):
        playlist.add(Segment(n, 2.0, n * 2.0))
    assert "#EXT-X-DISCONTINUITY-SEQUENCE:1" in playlist.text()
    assert "#EXT-X-DISCONTINUITY\n" not in playlist.text()
    for n in range(6 + WINDOW, 6 + WINDOW + KEEP + 2):
        playlist.add(Segment(n, 2.0, n * 2.0))
    assert "#EXT-X-DISCONTINUITY-SEQUENCE:1" in playlist.text()  # still one, once dropped from memory


def test_segments_come_in_order() -> None:
    playlist = Playlist()
    playlist.add(Segment(3, 2.0, 6.0))
    with pytest.raises(ValueError):
        playlist.add(Segment(3, 2.0, 6.0))
