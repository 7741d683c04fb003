"""Capture ids: one device's, good once, for a minute."""

from __future__ import annotations

import pytest

from courtroom import captures
from courtroom.captures import Captures


def test_a_capture_is_its_devices_and_good_once() -> None:
    c = Captures()
    capture = c.request("d-1", "p-1", "document", "借条")
    assert c.take(capture.capture_id, "d-2") is None  # another device's
    assert c.peek(capture.capture_id, "d-1") == capture
    assert c.take(capture.capture_id, "d-1") == capture
    assert c.take(capture.capture_id, "d-1") is None
    assert c.take("c-nonsense", "d-1") is None


def test_a_capture_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(captures.time, "monotonic", lambda: now[0])
    c = Captures()
    capture = c.request("d-1", "p-1", "document", "借条")
    now[0] += captures.TTL + 1
    assert c.peek(capture.capture_id, "d-1") is None


def test_waiting_captures_are_bounded() -> None:
    c = Captures()
    first = c.request("d-1", "p-1", "document", "0")
    for i in range(captures.MAX_WAITING):
        c.request("d-1", "p-1", "document", str(i + 1))
    assert c.peek(first.capture_id, "d-1") is None  # the oldest was forgotten
