"""A courtroom PC's configuration (``room.toml``): which hub, its device
credential, the audio interface and which of its input channels is which
seat, and the loudspeakers.

Seats name roles, not people: the same courtroom holds a different case
every hour. At each hearing a seat is matched to a participant of that
hearing seated in the courtroom (``site`` court): by ``name`` where the
seat gives one, else the first seat of a role takes the first such
participant of that role, the second the second, and so on. A seat with
nobody to match is not published.

Example::

    hub = "https://hub.court.example"
    credential_file = "/etc/courtroom/device-credential"

    [audio]
    input = "Scarlett 18i8"   # a PortAudio device name (part of it) or number
    output = "ceiling"

    [[seat]]
    channel = 1               # the interface's input, as printed on it (from 1)
    role = "judge"

    [[seat]]
    channel = 2
    role = "clerk"

    [[seat]]
    channel = 4
    role = "defendant"
    fingerprint = "goodixmoc"  # its fingerprint reader (libfprint driver, or part of its name)

    [[camera]]                # a room camera: "/dev/video0" (V4L2), a video file, or "test"
    device = "/dev/video0"
    seat = 1                  # optional: shown as that seat's participant

    [document_camera]         # 高拍仪: its picture, and photos filed as evidence on request
    device = "/dev/video2"
"""

from __future__ import annotations

import re
import tomllib
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The roles that speak at a seat (the hub's speaking roles).
SEAT_ROLES = ("judge", "clerk", "plaintiff", "defendant", "agent", "prosecutor", "witness", "mediator")
MAX_CHANNELS = 64


class ConfigError(ValueError):
    """The configuration cannot be used; the message says where and why."""


@dataclass(frozen=True, slots=True)
class Seat:
    #: The interface's input channel, counted from 1 as printed on it.
    channel: int
    role: str
    #: A participant's name, where the role alone does not say who sits here.
    name: str | None = None
    #: The fingerprint reader at this seat: a libfprint driver id or part of its name.
    fingerprint: str | None = None

    @property
    def source_name(self) -> str:
        """The name its track is published under."""
        return f"seat-{self.channel}"


@dataclass(frozen=True, slots=True)
class CameraConfig:
    #: The track's name: ``camera-N`` for room cameras, ``document`` for the document camera.
    name: str
    device: str
    #: The seat (its channel) whose participant the picture shows, if any.
    seat: int | None = None
    size: str | None = None


@dataclass(frozen=True, slots=True)
class RoomConfig:
    hub: str
    credential: str
    seats: tuple[Seat, ...]
    input: str | int | None = None
    output: str | int | None = None
    cameras: tuple[CameraConfig, ...] = ()

    @property
    def channels(self) -> int:
        """Input channels to open: up to the highest seat's."""
        return max(seat.channel for seat in self.seats)


def _device(value: Any, where: str) -> str | int | None:
    if value is None or isinstance(value, (str, int)) and not isinstance(value, bool):
        return value
    raise ConfigError(f"{where} must be a device name or number")


def parse(data: dict[str, Any], base: Path) -> RoomConfig:
    hub = data.get("hub")
    if not isinstance(hub, str) or urllib.parse.urlsplit(hub).scheme not in ("http", "https"):
        raise ConfigError("hub must be the hub's address, e.g. \"https://hub.court.example\"")
    credential = data.get("credential")
    if "credential_file" in data:
        path = base / str(data["credential_file"])
        try:
            credential = path.read_text().strip()
        except OSError as err:
            raise ConfigError(f"credential_file {path}: {err.strerror}") from None
    if not isinstance(credential, str) or not credential:
        raise ConfigError("credential_file (or credential) must give the device credential court staff issued")
    audio = data.get("audio", {})
    if not isinstance(audio, dict):
        raise ConfigError("[audio] must be a table")
    seats = []
    for i, raw in enumerate(data.get("seat", []), 1):
        where = f"seat {i}"
        if not isinstance(raw, dict) or set(raw) - {"channel", "role", "name", "fingerprint"}:
            raise ConfigError(f"{where}: a seat has channel, role and (optionally) name and fingerprint")
        channel, role, name = raw.get("channel"), raw.get("role"), raw.get("name")
        reader = raw.get("fingerprint")
        if reader is not None and (not isinstance(reader, str) or not reader.strip()):
            raise ConfigError(f"{where}: fingerprint names the seat's reader (its libfprint driver or name)")
        if not isinstance(channel, int) or isinstance(channel, bool) or not 1 <= channel <= MAX_CHANNELS:
            raise ConfigError(f"{where}: channel must be the input's number, 1 to {MAX_CHANNELS}")
        if role not in SEAT_ROLES:
            raise ConfigError(f"{where}: role must be one of {', '.join(SEAT_ROLES)}")
        if name is not None and (not isinstance(name, str) or not name.strip()):
            raise ConfigError(f"{where}: name must be a participant's name")
        if any(s.channel == channel for s in seats):
            raise ConfigError(f"{where}: channel {channel} is already seat {[s.channel for s in seats].index(channel) + 1}")
        seats.append(Seat(channel, role, name.strip() if name else None, reader))
    if not seats:
        raise ConfigError("no [[seat]]: name at least one seat microphone")
    cameras = [_camera(raw, f"camera-{i}", f"camera {i}", seats) for i, raw in enumerate(data.get("camera", []), 1)]
    if "document_camera" in data:
        cameras.append(_camera(data["document_camera"], "document", "document_camera", seats))
    return RoomConfig(hub.rstrip("/"), credential, tuple(seats),
                      _device(audio.get("input"), "audio.input"), _device(audio.get("output"), "audio.output"),
                      tuple(cameras))


def _camera(raw: Any, name: str, where: str, seats: list[Seat]) -> CameraConfig:
    if not isinstance(raw, dict) or set(raw) - {"device", "seat", "size"}:
        raise ConfigError(f"{where}: a camera has device and (optionally) seat and size")
    device, seat, size = raw.get("device"), raw.get("seat"), raw.get("size")
    if not isinstance(device, str) or not device:
        raise ConfigError(f"{where}: device must be /dev/videoN, a video file, or \"test\"")
    if seat is not None and (isinstance(seat, bool) or seat not in [s.channel for s in seats]):
        raise ConfigError(f"{where}: seat must be the channel of a [[seat]]")
    if size is not None and (not isinstance(size, str) or not re.fullmatch(r"[1-9][0-9]{1,4}x[1-9][0-9]{1,4}", size)):
        raise ConfigError(f"{where}: size is WIDTHxHEIGHT, e.g. \"1280x720\"")
    return CameraConfig(name, device, seat, size)


def load(path: Path) -> RoomConfig:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(f"{path}: {err.strerror}") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: {err}") from None
    return parse(data, path.parent)


def match_seats(seats: tuple[Seat, ...], participants: list[dict[str, Any]]) -> dict[Seat, dict[str, Any]]:
    """Each seat's participant in this hearing (see the module's doc)."""
    here = [p for p in participants if p.get("site", "court") == "court"]
    taken: set[str] = set()
    matched: dict[Seat, dict[str, Any]] = {}
    for seat in sorted(seats, key=lambda s: s.name is None):  # named seats choose first
        for p in here:
            if p["participant_id"] in taken or p["role"] != seat.role:
                continue
            if seat.name is not None and p["name"] != seat.name:
                continue
            matched[seat] = p
            taken.add(p["participant_id"])
            break
    return matched
