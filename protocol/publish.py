"""What one media connection publishes: the ``publish`` list of
``rtc.join``.

A browser publishes its microphone and camera as its participant's
``audio`` and ``video``. A courtroom PC publishes several microphones on
one connection, one per seat, each the speech of the participant in that
seat, and a second picture (the document camera): each of those is a
``Source`` with its own name, kind and speaker. Only the form is checked
here; who may publish for whom is the hub's decision.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

#: Sources one connection may publish (an 8-seat courtroom, its cameras, spare).
MAX_SOURCES = 16
KINDS = ("audio", "video")
_NAME = re.compile(r"[a-z][a-z0-9-]{0,31}\Z")


class PublishError(ValueError):
    """The ``publish`` list cannot be used; the message says why."""


@dataclass(frozen=True, slots=True)
class Source:
    """One published track: ``name`` (unique on its connection; ``audio``
    and ``video`` for a browser's microphone and camera), ``kind``, and the
    participant whose speech or picture it is (``None``: the connection's
    own participant)."""
    name: str
    kind: str
    participant_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "kind": self.kind}
        if self.participant_id is not None:
            d["participant_id"] = self.participant_id
        return d


def default_sources(audio: bool, video: bool) -> list[Source]:
    """A browser's microphone and camera (``rtc.join`` without ``publish``)."""
    return [Source(kind, kind) for kind, wanted in (("audio", audio), ("video", video)) if wanted]


def parse_sources(value: Any) -> list[Source]:
    """The ``publish`` list of an ``rtc.join``, or ``PublishError``."""
    if not isinstance(value, list):
        raise PublishError("publish must be a list of {name, kind, participant_id?}")
    if len(value) > MAX_SOURCES:
        raise PublishError(f"at most {MAX_SOURCES} published tracks per connection")
    sources: list[Source] = []
    for item in value:
        if not isinstance(item, dict) or set(item) - {"name", "kind", "participant_id"}:
            raise PublishError("each published track is {name, kind, participant_id?}")
        name, kind, pid = item.get("name"), item.get("kind"), item.get("participant_id")
        if not isinstance(name, str) or not _NAME.match(name):
            raise PublishError("a track name is 1-32 of a-z, 0-9 and '-', starting with a letter")
        if kind not in KINDS:
            raise PublishError("a track's kind is audio or video")
        if pid is not None and (not isinstance(pid, str) or not 0 < len(pid) <= 64):
            raise PublishError("participant_id must be a participant's id")
        if any(s.name == name for s in sources):
            raise PublishError(f"track name {name} is used twice")
        sources.append(Source(name, kind, pid))
    return sources
