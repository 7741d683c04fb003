"""Which decoded messages the hub may read at all."""

from __future__ import annotations

import json

from protocol.wellformed import MAX_DEPTH, is_text, problem


def check(message: object) -> str | None:
    raw = json.dumps(message)  # escapes every non-ASCII character, surrogates too
    return problem(raw, json.loads(raw))


def test_ordinary_messages_pass() -> None:
    assert check({"type": "op", "op_id": "a", "op": {"kind": "segment.add", "text": "现在开庭 😀"}}) is None
    assert is_text("现在开庭 😀")


def test_a_lone_surrogate_anywhere_is_found() -> None:
    for message in ({"type": "partial", "text": "a\ud800"}, {"type": "op", "op": {"\udc00": 1}},
                    {"type": "op", "op": {"words": [{"word": ["x", "\udfff"]}]}}):
        assert check(message) is not None and "Unicode" in check(message)


def test_control_characters_and_non_characters_are_found() -> None:
    for text in ("a\x01b", "a\x08", "\x0c", "\x7f", "\ufffe", "\uffff"):
        assert check({"type": "op", "op": {"kind": "segment.add", "text": text}}) is not None, repr(text)
    assert check({"type": "op", "op": {"text": "第一行\n第二行\t制表\r"}}) is None
    assert check({"type": "op", "op": {"text": "反斜杠\\b 不是控制字符"}}) is None


def test_nesting_is_bounded() -> None:
    deep: object = "x"
    for _ in range(MAX_DEPTH):
        deep = [deep]
    assert check({"type": "op", "op": deep}) is not None
    assert check({"type": "op", "op": [[["x"]]]}) is None
