"""What the hub tells a live stream's composer, as one JSON file it
rewrites whenever something changes (someone protected, someone joined):
the composer looks at it between segments, so a change reaches the
stream's next segment, which is still ``delay`` ahead of going out."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..composition.compose import Person
from ..durable import fsync_path


@dataclass(frozen=True)
class Control:
    hearing_id: str
    #: The stream's number in the hearing (each start is a new one).
    number: int
    delay_s: int
    #: Unix time of the hearing clock's zero (the recordings' clock).
    started: float
    #: Where the hearing's recordings are, and where the stream goes.
    recordings: str
    public: str
    people: list[Person] = field(default_factory=list)
    protected: list[str] = field(default_factory=list)
    caption: str = ""
    width: int = 640
    height: int = 360
    fps: int = 25

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Control:
        people = [Person(**p) for p in d.pop("people", [])]
        return cls(people=people, **d)


def write(path: Path, control: Control) -> None:
    """Atomically: the composer never reads half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(control.to_json())
    os.replace(tmp, path)
    fsync_path(path.parent)


def read(path: Path) -> Control:
    return Control.from_dict(json.loads(path.read_text()))
