"""Who is shown large: the transcript's turns, without flicker."""

from __future__ import annotations

from courtroom.composition.timeline import Speech, Timeline


def test_the_picture_follows_turns_and_holds_through_pauses() -> None:
    t = Timeline([Speech("judge", 1.0, 5.0), Speech("plaintiff", 8.0, 12.0), Speech("defendant", 20.0, 25.0)])
    assert t.active_at(0.5) is None
    assert [t.active_at(x) for x in (1.0, 4.9, 7.9, 8.0, 19.0, 30.0)] == \
        ["judge", "judge", "judge", "plaintiff", "plaintiff", "defendant"]


def test_a_word_or_two_does_not_move_the_picture() -> None:
    t = Timeline([Speech("judge", 0.0, 6.0), Speech("clerk", 6.2, 6.8), Speech("plaintiff", 7.0, 9.0)])
    assert [t.active_at(x) for x in (6.5, 7.5)] == ["judge", "plaintiff"]


def test_order_of_input_and_repeated_turns_do_not_matter() -> None:
    turns = [Speech("a", 10.0, 14.0), Speech("b", 0.0, 3.0), Speech("b", 4.0, 8.0)]
    t = Timeline(turns)
    assert (t.times, t.people) == ([0.0, 10.0], ["b", "a"])
