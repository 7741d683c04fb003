"""How much each participant may add to a hearing.

A participant could otherwise fill the hub's disk through ops that are
each valid (thousands of ink strokes, dozens of 20 MiB uploads). What each
participant has added is part of the state (derived from the log, so the
same after a restart); the limits are the hub's configuration, checked in
the core when an op is applied. Replaying a log runs without limits, so a
court that lowers a quota never makes an old log fail to replay.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import OpError

MiB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Quotas:
    """Per participant and hearing; 0 means no limit."""
    annotations: int = 5_000
    #: UTF-8 bytes of annotation bodies (comments, ink strokes).
    annotation_bytes: int = 8 * MiB
    evidence_items: int = 100
    evidence_bytes: int = 200 * MiB

    @classmethod
    def parse(cls, specs: list[str]) -> Quotas:
        """From ``NAME=VALUE`` strings (the command line's ``--quota``)."""
        values: dict[str, int] = {}
        for spec in specs:
            name, _, value = spec.partition("=")
            if name not in cls.__dataclass_fields__ or not value.isdigit():
                raise ValueError(f"a quota is NAME=NUMBER with NAME one of {', '.join(cls.__dataclass_fields__)}")
            values[name] = int(value)
        return cls(**values)


UNLIMITED = Quotas(0, 0, 0, 0)


@dataclass(slots=True)
class Usage:
    """What one participant has added to the hearing so far (removing an
    annotation does not give its bytes back: the log keeps them)."""
    annotations: int = 0
    annotation_bytes: int = 0
    evidence_items: int = 0
    evidence_bytes: int = 0


def check(quotas: Quotas, usage: Usage, **adding: int) -> None:
    """Raise ``too_large`` if adding these amounts would pass a quota; the
    error names the quota and its limit so a page can say which."""
    for name, amount in adding.items():
        limit = getattr(quotas, name)
        if limit and getattr(usage, name) + amount > limit:
            raise OpError("too_large", f"quota reached: {name} is limited to {limit} per participant",
                          quota=name, limit=limit)
