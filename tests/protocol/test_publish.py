"""The ``publish`` list of ``rtc.join``: its form, checked before the hub
decides who may publish for whom."""

from __future__ import annotations

import pytest

from protocol.publish import MAX_SOURCES, PublishError, Source, default_sources, parse_sources


def test_a_browser_publishes_its_microphone_and_camera_as_its_own() -> None:
    assert default_sources(True, True) == [Source("audio", "audio"), Source("video", "video")]
    assert default_sources(True, False) == [Source("audio", "audio")]
    assert default_sources(False, False) == []


def test_a_courtroom_pc_names_each_seat_and_whose_it_is() -> None:
    sources = parse_sources([{"name": "seat-1", "kind": "audio", "participant_id": "p-1"},
                             {"name": "document", "kind": "video"}])
    assert sources == [Source("seat-1", "audio", "p-1"), Source("document", "video")]
    assert [s.to_dict() for s in sources] == [{"name": "seat-1", "kind": "audio", "participant_id": "p-1"},
                                              {"name": "document", "kind": "video"}]
    assert parse_sources([]) == []  # a screen that only watches


@pytest.mark.parametrize("value, problem", [
    ("seat-1", "list"),
    ([{"name": "seat-1"}], "kind"),
    ([{"name": "Seat 1", "kind": "audio"}], "a-z"),
    ([{"name": "1seat", "kind": "audio"}], "a-z"),
    ([{"name": "x" * 33, "kind": "audio"}], "a-z"),
    ([{"name": "a", "kind": "audio"}, {"name": "a", "kind": "video"}], "twice"),
    ([{"name": "a", "kind": "audio", "volume": 3}], "{name, kind"),
    ([{"name": "a", "kind": "audio", "participant_id": 7}], "participant_id"),
    ([{"name": "a", "kind": "audio", "participant_id": ""}], "participant_id"),
    ([{"name": f"s{i}", "kind": "audio"} for i in range(MAX_SOURCES + 1)], "at most"),
])
def test_a_bad_list_says_what_is_wrong(value: object, problem: str) -> None:
    with pytest.raises(PublishError, match=problem):
        parse_sources(value)
