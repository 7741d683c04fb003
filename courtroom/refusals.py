"""Refused ops, remembered so that a resent op_id gets its first answer.

Refusals are not in the log, so what is kept of them must be bounded, and
bounded per participant: one participant's flood of bad ops must not push
out another's answers or grow the hub's memory. Each participant keeps its
newest refusals within a budget of count and bytes; a refusal too large to
keep whole (a conflict carries the segment as it now is) is kept as its
code and message only.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any

#: Per participant: refusals kept, and their bytes (op_id plus error JSON).
MAX_COUNT = 1_000
MAX_BYTES = 128 * 1024
#: A refusal larger than this is remembered without its details.
MAX_ONE = 8 * 1024


class Refusals:
    def __init__(self, max_count: int = MAX_COUNT, max_bytes: int = MAX_BYTES) -> None:
        self.max_count = max_count
        self.max_bytes = max_bytes
        self._by_participant: dict[str, OrderedDict[str, tuple[dict[str, Any], int]]] = {}
        self._bytes: dict[str, int] = {}

    def get(self, participant_id: str, op_id: str) -> dict[str, Any] | None:
        kept = self._by_participant.get(participant_id)
        found = kept.get(op_id) if kept is not None else None
        return found[0] if found is not None else None

    def add(self, participant_id: str, op_id: str, error: dict[str, Any]) -> None:
        size = len(op_id) + len(json.dumps(error, ensure_ascii=False))
        if size > MAX_ONE:
            error = {"code": error["code"], "message": error["message"]}
            size = len(op_id) + len(json.dumps(error, ensure_ascii=False))
        kept = self._by_participant.setdefault(participant_id, OrderedDict())
        old = kept.pop(op_id, None)
        total = self._bytes.get(participant_id, 0) - (old[1] if old else 0) + size
        kept[op_id] = (error, size)
        while kept and (len(kept) > self.max_count or total > self.max_bytes):
            _, (_, dropped) = kept.popitem(last=False)
            total -= dropped
        self._bytes[participant_id] = total

    def bytes_held(self) -> int:
        return sum(self._bytes.values())
