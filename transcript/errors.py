"""The one error type the transcript core raises for a rejected op."""

from __future__ import annotations

import re
from typing import Any, Literal

ErrorCode = Literal["forbidden", "invalid", "conflict", "locked", "not_found", "too_large"]


class OpError(Exception):
    """An op was rejected; nothing changed.

    ``code`` is one of the wire contract's nack codes; ``details`` carries
    extra JSON (a ``conflict`` carries the current segment so the client can
    rebase without another round trip).
    """

    def __init__(self, code: ErrorCode, message: str, **details: Any) -> None:
        super().__init__(message)
        self.code: ErrorCode = code
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.details}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, OpError) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:  # pragma: no cover - errors are not used as keys
        return hash((self.code, self.message))


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_.]{0,31}\Z")


def shown(value: Any) -> str:
    """A client-sent name as a refusal may quote it: itself if it is a short
    identifier (a field or kind name), else a placeholder. Refusals never
    echo what a client sent, so they stay small however big the input."""
    return repr(value) if isinstance(value, str) and _IDENTIFIER.match(value) else "(not shown)"


def shown_all(values: list[Any], limit: int = 5) -> str:
    more = f" and {len(values) - limit} more" if len(values) > limit else ""
    return ", ".join(shown(v) for v in values[:limit]) + more
