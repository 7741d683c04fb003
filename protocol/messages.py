"""The hearing websocket's messages by name, and the ones a client sends.
docs/protocol.md describes each; this module is where programs (the hub,
devices, tests) take the names from, so no two spell them differently."""

from __future__ import annotations

from typing import Any

# Server → client.
WELCOME = "welcome"
EVENT = "event"
EVENTS = "events"            # catch-up events, batched
SNAPSHOT = "snapshot"        # also client → server: ask for one
SYNCED = "synced"
WAITING = "waiting"
ACK = "ack"
NACK = "nack"
PARTIAL = "partial"          # also client → server
PRESENCE = "presence"
SPEECH_UNRECORDED = "speech.unrecorded"
ERROR = "error"
# Client → server.
SYNC = "sync"
OP = "op"
#: A participant asks a courtroom's document camera for a photo as evidence;
#: the hub passes it on to the device (same type), which answers with the
#: upload, or with ``device.capture.failed``.
DEVICE_CAPTURE = "device.capture"
DEVICE_CAPTURE_FAILED = "device.capture.failed"
#: A device's fingerprint print for the participant who asked (the print
#: comes back to them; their own ``signature.add`` carries it).
DEVICE_CAPTURE_DONE = "device.capture.done"
#: A device says which seated participants have a fingerprint reader.
DEVICE_READERS = "device.readers"
#: Media signalling a client sends (the hub answers with ``rtc.offer``,
#: ``rtc.closed``, ``rtc.error``).
RTC_FROM_CLIENT = ("rtc.join", "rtc.answer", "rtc.candidate", "rtc.leave")


def sync(since: int, batch: bool = True) -> dict[str, Any]:
    return {"type": SYNC, "since": since, "batch": batch}


def snapshot(batch: bool = True) -> dict[str, Any]:
    return {"type": SNAPSHOT, "batch": batch}


def op(op_id: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"type": OP, "op_id": op_id, "op": body}
