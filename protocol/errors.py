"""The error envelope: ``{"code", "message", ...details}``, the same in a
``nack``, an ``error`` message and an HTTP answer's ``{"error": ...}``."""

from __future__ import annotations

from typing import Any

def envelope(code: str, message: str, **details: Any) -> dict[str, Any]:
    """An error as the wire carries it."""
    return {"code": code, "message": message, **details}


class Refused(Exception):
    """The hub refused something: an op (``nack``), a message (``error``) or
    a request. ``error`` is the envelope, details included."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(f"{error.get('code', '?')}: {error.get('message', '')}")
        self.error = error

    @property
    def code(self) -> str:
        return str(self.error.get("code", ""))
