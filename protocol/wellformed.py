"""Whether a decoded JSON message is text the hub can store and send on.

A websocket text frame is valid UTF-8 by the time it reaches us, but JSON
can still smuggle in a lone UTF-16 surrogate as an escape (``"\\ud800"``):
Python decodes it into a ``str`` that cannot be encoded back to UTF-8, so
it can neither be written to the log nor sent to another screen. Control
characters arrive the same way and break the Word export of the 笔录. Such
a message is refused at the door, before anything looks at its content.
"""

from __future__ import annotations

import re
from typing import Any

#: The JSON escapes that can decode to text the hub refuses: a UTF-16
#: surrogate, a control character (``\u0001``, ``\b``, ``\f``), a
#: non-character (``\uFFFE``). Messages without one skip the walk below.
_SUSPECT_ESCAPE = re.compile(r"\\(?:u(?:[dD][89a-fA-F]|00[01][0-9a-fA-F]|007[fF]|[fF][fF][fF][eEfF])|[bf])")
_SURROGATE = re.compile("[\ud800-\udfff]")
#: Text nobody types and no export can hold (XML 1.0 forbids it): control
#: characters but tab and line breaks, DEL, the non-characters, and lone
#: surrogates, which UTF-8 cannot even encode.
_UNFIT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff\ud800-\udfff]")
UNFIT = "text must be valid Unicode without control characters (a lone surrogate is not valid)"
#: Deeper than this, a message is not one the protocol defines.
MAX_DEPTH = 32


def is_text(value: str) -> bool:
    """Whether ``value`` is Unicode text (no lone surrogates): what can be
    encoded, logged and sent on at all."""
    return _SURROGATE.search(value) is None


def is_fit(value: str) -> bool:
    """Whether ``value`` is text a client may send: Unicode text without
    control characters (but tab and line breaks) or non-characters."""
    return _UNFIT.search(value) is None


def problem(raw: str, message: Any) -> str | None:
    """Why the message decoded from ``raw`` cannot be accepted, or None.

    Walks the message without recursion, checking nesting depth and, when
    ``raw`` holds a surrogate escape, every string (keys too)."""
    check_text = _SUSPECT_ESCAPE.search(raw) is not None
    stack: list[tuple[Any, int]] = [(message, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if check_text and not is_fit(value):
                return UNFIT
        elif isinstance(value, dict):
            if depth > MAX_DEPTH:
                return f"messages are nested at most {MAX_DEPTH} deep"
            for key, item in value.items():
                if check_text and not is_fit(key):
                    return UNFIT
                stack.append((item, depth + 1))
        elif isinstance(value, list):
            if depth > MAX_DEPTH:
                return f"messages are nested at most {MAX_DEPTH} deep"
            stack.extend((item, depth + 1) for item in value)
    return None
