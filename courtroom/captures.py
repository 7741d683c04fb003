"""Photos a participant asks a courtroom's document camera (高拍仪) to take.

A device sends no ops and files nothing of its own: a participant who may
file evidence asks for a capture; the hub passes the request to the device
with a one-time capture id; the device uploads the frame with that id, and
the hub files it as the asking participant's ``evidence.add`` (their
quota, their name on it; the judge approves, shows and pastes it as any
other evidence). An id is good once, for its device only, for ``TTL``
seconds.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field

#: Seconds a capture id stays good.
TTL = 60.0
#: Captures waiting at once in one hearing; beyond it the oldest is forgotten.
MAX_WAITING = 64


@dataclass(frozen=True, slots=True)
class Capture:
    capture_id: str
    device_id: str
    requester_id: str
    source: str
    name: str
    expires: float = field(default_factory=lambda: time.monotonic() + TTL)


class Captures:
    def __init__(self) -> None:
        self._waiting: dict[str, Capture] = {}

    def request(self, device_id: str, requester_id: str, source: str, name: str) -> Capture:
        self._expire()
        while len(self._waiting) >= MAX_WAITING:
            del self._waiting[next(iter(self._waiting))]
        capture = Capture("c-" + secrets.token_hex(8), device_id, requester_id, source, name)
        self._waiting[capture.capture_id] = capture
        return capture

    def take(self, capture_id: str, device_id: str) -> Capture | None:
        """The capture, once, if it is this device's and still good."""
        self._expire()
        capture = self._waiting.get(capture_id)
        if capture is None or capture.device_id != device_id:
            return None
        del self._waiting[capture_id]
        return capture

    def peek(self, capture_id: str, device_id: str) -> Capture | None:
        self._expire()
        capture = self._waiting.get(capture_id)
        return capture if capture is not None and capture.device_id == device_id else None

    def _expire(self) -> None:
        now = time.monotonic()
        for capture_id in [c for c, capture in self._waiting.items() if capture.expires < now]:
            del self._waiting[capture_id]
