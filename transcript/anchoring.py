"""Keeping annotations on their words when the text under them changes.

An edit is turned into character opcodes (difflib); an annotation's offsets
are mapped through them. If the mapped span no longer reads as the quote,
the quote is searched for in the new text, preferring the occurrence whose
context matches and that lies nearest the mapped place. If the quote is gone
the annotation is kept and flagged ``orphaned``, never dropped.
"""

from __future__ import annotations

from difflib import SequenceMatcher
from typing import Literal

CONTEXT = 32

Opcodes = list[tuple[str, int, int, int, int]]


def diff(old: str, new: str) -> Opcodes:
    return SequenceMatcher(None, old, new, autojunk=False).get_opcodes()


def map_offset(opcodes: Opcodes, pos: int, side: Literal["start", "end"]) -> int:
    """Where ``pos`` in the old text lies in the new text.

    A start never takes in text inserted right before it, an end never takes
    in text inserted right after it; a bound inside a replaced region moves
    outwards, so the span covers the replacement.
    """
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            if i1 < pos < i2 or (pos == i1 and side == "start") or (pos == i2 and side == "end"):
                return j1 + (pos - i1)
        elif tag != "insert":
            if i1 < pos < i2:
                return j1 if side == "start" else j2
            if (pos == i1 and side == "start") or (pos == i2 and side == "end"):
                return j1 if side == "start" else j2
    # Only inserts remain around pos: the old text was empty or pos is at an edge.
    return 0 if pos == 0 and side == "start" else (opcodes[-1][4] if opcodes else pos)


def context(text: str, start: int, end: int) -> tuple[str, str]:
    return text[max(0, start - CONTEXT):start], text[end:end + CONTEXT]


def find_quote(text: str, quote: str, prefix: str, suffix: str, near: int) -> int | None:
    """The best occurrence of ``quote`` in ``text``, or None."""
    best: tuple[int, int] | None = None
    best_pos: int | None = None
    pos = text.find(quote)
    while pos != -1:
        score = int(text[:pos].endswith(prefix)) + int(text[pos + len(quote):].startswith(suffix))
        key = (-score, abs(pos - near))
        if best is None or key < best:
            best, best_pos = key, pos
        pos = text.find(quote, pos + 1)
    return best_pos


def reanchor(opcodes: Opcodes, new_text: str, start: int, end: int, quote: str, prefix: str,
             suffix: str, orphaned: bool) -> tuple[int, int, bool]:
    """New (start, end, orphaned) for one annotation after an edit."""
    ns, ne = map_offset(opcodes, start, "start"), map_offset(opcodes, end, "end")
    if ne < ns:
        ne = ns
    if not orphaned and new_text[ns:ne] == quote:
        return ns, ne, False
    found = find_quote(new_text, quote, prefix, suffix, ns)
    if found is not None:
        return found, found + len(quote), False
    return ns, ne, True
