"""Whether a decoded JSON message is text the hub can store and send on.

A websocket text frame is valid UTF-8 by the time it reaches us, but JSON
can still smuggle in a lone UTF-16 surrogate as an escape (``"\\ud800"``):
Python decodes it into a ``str`` that cannot be encoded back to UTF-8, so
it can neither be written to the log nor sent to another screen. Such a
message is refused at the door, before anything looks at its content.
"""

from __future__ import annotations

import re
from typing import Any

#: A JSON escape of a UTF-16 surrogate; only messages that contain one can
#: decode to a lone surrogate, so the walk below is skipped for all others.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")
#: Deeper than this, a message is not one the protocol defines.
MAX_DEPTH = 32


def is_text(value: str) -> bool:
    """Whether ``value`` is Unicode text (no lone surrogates)."""
    return _SURROGATE.search(value) is None


def problem(raw: str, message: Any) -> str | None:
    """Why the message decoded from ``raw`` cannot be accepted, or None.

    Walks the message without recursion, checking nesting depth and, when
    ``raw`` holds a surrogate escape, every string (keys too)."""
    check_text = _SURROGATE_ESCAPE.search(raw) is not None
    stack: list[tuple[Any, int]] = [(message, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if check_text and not is_text(value):
                return "text must be valid Unicode (a lone surrogate is not)"
        elif isinstance(value, dict):
            if depth > MAX_DEPTH:
                return f"messages are nested at most {MAX_DEPTH} deep"
            for key, item in value.items():
                if check_text and not is_text(key):
                    return "text must be valid Unicode (a lone surrogate is not)"
                stack.append((item, depth + 1))
        elif isinstance(value, list):
            if depth > MAX_DEPTH:
                return f"messages are nested at most {MAX_DEPTH} deep"
            stack.extend((item, depth + 1) for item in value)
    return None
