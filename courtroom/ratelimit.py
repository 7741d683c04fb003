"""How fast each participant may send: a token bucket per participant.

Every websocket message and every HTTP request of a participant takes a
token, on any of their connections; tokens come back at ``rate`` per
second up to ``burst``. A browser's bursts (ICE candidates, a quick series
of marks) fit in the burst; a flood of thousands of ops does not.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True, slots=True)
class RateLimit:
    """Messages per second per participant, and the burst allowed; a rate of
    0 means no limit."""
    rate: float = 50.0
    burst: float = 200.0


class TokenBucket:
    def __init__(self, limit: RateLimit, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.clock = clock
        self.tokens = limit.burst
        self.at = clock()

    def take(self) -> float:
        """0 if a message may go now (and one token is used), else the
        seconds until one may."""
        if not self.limit.rate:
            return 0.0
        now = self.clock()
        self.tokens = min(self.limit.burst, self.tokens + (now - self.at) * self.limit.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.limit.rate


class Pace:
    """Work shared out over time: at most ``rate`` units a second for all who
    take from it, in the order they ask (virtual time, with a short burst).
    Catch-up replays take from one pace, so however many screens join at
    once they never take the whole event loop from the live hearing."""

    def __init__(self, rate: float, burst: float = 0.05, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self._next = 0.0

    def delay(self, units: float) -> float:
        """Book ``units`` of work; the seconds to wait before doing it."""
        now = self.clock()
        start = max(now - self.burst, self._next)
        self._next = start + units / self.rate
        return max(0.0, start - now)

    async def take(self, units: float) -> None:
        await asyncio.sleep(self.delay(units))  # sleep(0) still lets others run
