"""When a hearing sat, from its log: the 笔录 states the date and the time
the hearing opened and closed. The state machine has no clock (replay must
give the same state whenever it runs), so the times come from the log
entries' timestamps, gathered here as entries are read or committed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

#: Courts in China keep Beijing time.
BEIJING = timezone(timedelta(hours=8), "北京时间")


@dataclass(slots=True)
class Sittings:
    """The log's last seq, when the hearing was created, first opened
    (开庭) and finally closed (闭庭, or a lock that closed it), in ms since
    the epoch."""
    seq: int = 0
    created_ms: int | None = None
    opened_ms: int | None = None
    closed_ms: int | None = None

    def observe(self, seq: int, ts_ms: int, event: dict[str, Any]) -> None:
        self.seq = max(self.seq, seq)
        kind = event.get("kind")
        if self.created_ms is None:
            self.created_ms = ts_ms
        if kind == "hearing.started" and self.opened_ms is None:
            self.opened_ms = ts_ms
        elif kind == "hearing.ended" or (kind == "transcript.locked" and event.get("status") == "ended"):
            self.closed_ms = ts_ms

    @classmethod
    def of(cls, entries: Any) -> Sittings:
        """From log entries (anything with ``seq``, ``ts_ms`` and ``event``)."""
        sittings = cls()
        for e in entries:
            sittings.observe(e.seq, e.ts_ms, e.event)
        return sittings

    def when(self) -> str:
        """``2026年11月24日 9时30分至10时05分``, as a 笔录 writes it."""
        start = self.opened_ms if self.opened_ms is not None else self.created_ms
        if start is None:
            return ""
        opened = _local(start)
        text = f"{opened.year}年{opened.month}月{opened.day}日 {opened.hour}时{opened.minute:02d}分"
        if self.opened_ms is None:
            return text + "（尚未开庭）"
        if self.closed_ms is None:
            return text + "起（庭审尚未结束）"
        closed = _local(self.closed_ms)
        if closed.date() != opened.date():
            return text + f"至{closed.year}年{closed.month}月{closed.day}日 {closed.hour}时{closed.minute:02d}分"
        return text + f"至{closed.hour}时{closed.minute:02d}分"


def _local(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, BEIJING)
