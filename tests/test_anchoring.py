from __future__ import annotations

import pytest

from transcript import anchoring


def moved(old: str, new: str, start: int, end: int) -> tuple[int, int, bool]:
    quote = old[start:end]
    prefix, suffix = anchoring.context(old, start, end)
    return anchoring.reanchor(anchoring.diff(old, new), new, start, end, quote, prefix, suffix, False)


@pytest.mark.parametrize("old, new, span, expected", [
    ("被告支付货款", "被告应当支付货款", (4, 6), "货款"),          # insertion before
    ("被告支付货款", "被告支付货款及利息", (2, 4), "支付"),          # insertion after
    ("被告支付货款", "货款", (4, 6), "货款"),                        # deletion before
    ("货款 货款 货款", "新 货款 货款 货款", (3, 5), "货款"),          # repeated quote: nearest one
    ("原告说。被告说。", "被告说。原告说。", (0, 3), "原告说"),      # moved text is found again
])
def test_quote_follows_its_words(old: str, new: str, span: tuple[int, int], expected: str) -> None:
    s, e, orphaned = moved(old, new, *span)
    assert not orphaned and new[s:e] == expected


def test_repeated_quote_keeps_its_own_occurrence() -> None:
    old, new = "货款 货款 货款", "新 货款 货款 货款"
    s, _, _ = moved(old, new, 3, 5)
    assert s == 5  # the second occurrence, shifted by the two inserted characters


def test_insertion_at_the_edges_is_not_swallowed() -> None:
    ops = anchoring.diff("ab", "xaby")
    assert anchoring.map_offset(ops, 0, "start") == 1
    assert anchoring.map_offset(ops, 2, "end") == 3


def test_gone_quote_is_orphaned_with_offsets_inside_the_text() -> None:
    s, e, orphaned = moved("支付三十万元", "支付三万元", 2, 6)
    assert orphaned and 0 <= s <= e <= len("支付三万元")
