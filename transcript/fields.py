"""Checks of an op's fields, shared by every stream's parsers (a hearing's
``transcript.ops``, a case's ``case.ops``): each either returns the value
as the core keeps it or raises ``OpError``, and a refusal never echoes
what the client sent."""

from __future__ import annotations

import base64
import binascii
import math
import re
from typing import Any, Protocol, TypeVar

from .errors import OpError, shown, shown_all

MAX_ID = 64
MAX_IMAGE_BYTES = 256 * 1024
#: Times are on the hearing's clock (seconds since it was created); a hearing
#: may be created months before it sits.
MAX_TIME = 400 * 24 * 3600.0
IMAGE_TYPES = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}

_DATA_URL = re.compile(r"data:(image/(?:png|jpeg));base64,([A-Za-z0-9+/=\s]+)\Z")
#: A lone UTF-16 surrogate: JSON can carry one, UTF-8 cannot, so text with
#: one could be neither logged nor sent on.
_SURROGATE = re.compile("[\ud800-\udfff]")


def fields(op: dict[str, Any], required: tuple[str, ...], optional: tuple[str, ...]) -> None:
    missing = [k for k in required if k not in op]
    if missing:
        raise OpError("invalid", f"missing field(s): {', '.join(missing)}")
    unknown = sorted(set(op) - set(required) - set(optional) - {"kind"})
    if unknown:
        raise OpError("invalid", f"unknown field(s): {shown_all(unknown)}")


def text(value: Any, name: str, limit: int, *, empty: bool = False) -> str:
    if not isinstance(value, str):
        raise OpError("invalid", f"{name} must be a string")
    if len(value) > limit:
        raise OpError("too_large", f"{name} is longer than {limit} characters")
    if not empty and not value.strip():
        raise OpError("invalid", f"{name} must not be empty")
    if "\x00" in value:
        raise OpError("invalid", f"{name} must not contain NUL")
    if _SURROGATE.search(value):
        raise OpError("invalid", f"{name} must be valid Unicode text")
    return value


def integer(value: Any, name: str, low: int = 0) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise OpError("invalid", f"{name} must be an integer")
    if value < low:
        raise OpError("invalid", f"{name} must be at least {low}")
    return value


def seconds(value: Any, name: str) -> float | None:
    if value is None:
        return None
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        raise OpError("invalid", f"{name} must be a number of seconds")
    if not 0 <= value <= MAX_TIME:
        raise OpError("invalid", f"{name} is out of range")
    return float(value)


def optional_id(value: Any, name: str) -> str | None:
    return None if value is None else text(value, name, MAX_ID)


def image(value: Any, name: str) -> str | None:
    """A data URL whose bytes really are a PNG or JPEG image."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise OpError("invalid", f"{name} must be a data URL")
    if len(value) > MAX_IMAGE_BYTES * 4 // 3 + 64:
        raise OpError("too_large", f"{name} is larger than {MAX_IMAGE_BYTES} bytes")
    m = _DATA_URL.match(value)
    if not m:
        raise OpError("invalid", f"{name} must be a data:image/png or data:image/jpeg base64 URL")
    try:
        raw = base64.b64decode(m.group(2), validate=False)
    except (binascii.Error, ValueError):
        raise OpError("invalid", f"{name} is not valid base64") from None
    if not raw.startswith(IMAGE_TYPES[m.group(1)]):
        raise OpError("invalid", f"{name} is not a {m.group(1)} image")
    return value


class _Kind(Protocol):
    @property
    def parse(self) -> Any: ...


K = TypeVar("K", bound=_Kind)


def kind_of(raw_op: Any, table: dict[str, K]) -> tuple[str, K]:
    """An op's kind and its entry in a stream's table of op kinds; or
    ``OpError``."""
    if not isinstance(raw_op, dict):
        raise OpError("invalid", "op must be an object")
    kind = raw_op.get("kind")
    spec = table.get(kind) if isinstance(kind, str) else None
    if spec is None:
        raise OpError("invalid", f"unknown op kind: {shown(kind)}")
    return kind, spec
