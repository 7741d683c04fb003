"""Failed attempts at something secret (an entry link, an identity check,
a password), counted per key: after ``limit`` failures within ``window``
seconds the key is refused until the oldest of them has aged out. Nothing
is said about whether the secret was close."""

from __future__ import annotations

import time
from collections import deque
from typing import Callable


class Attempts:
    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str) -> deque[float]:
        now = self.clock()
        failures = self._failures.get(key)
        if failures is None:
            return deque()
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if not failures:
            del self._failures[key]
        return failures

    def blocked(self, *keys: str) -> float:
        """0 if every key may try now, else the seconds until all may."""
        wait = 0.0
        for key in keys:
            failures = self._recent(key)
            if len(failures) >= self.limit:
                wait = max(wait, failures[0] + self.window - self.clock())
        return wait

    def failed(self, *keys: str) -> None:
        for key in keys:
            self._recent(key)
            self._failures.setdefault(key, deque()).append(self.clock())
            if len(self._failures) > 100_000:  # bounded: the oldest keys go first
                del self._failures[next(iter(self._failures))]

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)
