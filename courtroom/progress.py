"""A one-line progress bar on standard error, for long commands."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    def __init__(self, label: str, unit: str = "", stream: TextIO = sys.stderr,
                 interval: float = 0.2) -> None:
        self.label, self.unit, self.stream, self.interval = label, unit, stream, interval
        self._shown = 0.0
        self._last: tuple[float, float | None] | None = None

    def __call__(self, done: float, total: float | None) -> None:
        self._last = (done, total)
        now = time.monotonic()
        if now - self._shown < self.interval:
            return
        self._shown = now
        self._draw(done, total)

    def _draw(self, done: float, total: float | None) -> None:
        if total:
            filled = int(30 * min(done / total, 1.0))
            line = f"{self.label} [{'#' * filled}{'.' * (30 - filled)}] {100 * min(done / total, 1):3.0f}% " \
                   f"{done:.1f}/{total:.1f}{self.unit}"
        else:
            line = f"{self.label} {done:.1f}{self.unit}"
        self.stream.write("\r" + line)
        self.stream.flush()

    def finish(self) -> None:
        """Show the final state and end the line (if anything was shown)."""
        if self._last is not None:
            self._draw(*self._last)
            self.stream.write("\n")
            self.stream.flush()
