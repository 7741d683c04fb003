"""Fingerprint readers for the one-touch fingerprint (一键指纹) at signing.

A criminal defendant signs the record and gives a fingerprint on it (2021
刑诉法解释 Art. 546). The reader at the seat captures the print as an image;
the party's own ``signature.add`` carries it, so the print is in the log,
bound by the signature to the locked transcript's hash.

``FingerprintReader`` is what the courtroom agent needs of a reader:
``capture`` waits for a finger and gives the print as a PNG.
``LibfprintReader`` is the real driver: libfprint through PyGObject
(Debian: gir1.2-fprint-2.0), any of its image-capturing devices, chosen by
its driver id or a part of its name. Its ``virtual_image`` driver (a unix
socket named by ``FP_VIRTUAL_IMAGE`` that takes images) is how libfprint
tests itself, and how this project's tests drive the real library.
"""

from __future__ import annotations

import fractions
import threading
from typing import Any, Protocol

import av
import numpy as np

#: How long a capture waits for a finger (seconds).
CAPTURE_TIMEOUT = 30.0


class ReaderError(Exception):
    """The reader cannot be opened or could not capture; the message says why."""


class FingerprintReader(Protocol):
    name: str

    def capture(self, timeout: float = CAPTURE_TIMEOUT) -> bytes:
        """Wait for a finger; the print as a PNG. ``ReaderError`` if none."""
        ...


def png(gray: np.ndarray) -> bytes:
    """An 8-bit grayscale image (rows × columns) as a PNG."""
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(gray, np.uint8), format="gray")
    codec = av.CodecContext.create("png", "w")
    codec.width, codec.height = frame.width, frame.height
    codec.pix_fmt = "gray"
    codec.time_base = fractions.Fraction(1, 1)
    frame.pts = 0
    return b"".join(bytes(p) for p in list(codec.encode(frame)) + list(codec.encode(None)))


def _fprint() -> Any:
    try:
        import gi
        gi.require_version("FPrint", "2.0")
        from gi.repository import FPrint
    except (ImportError, ValueError) as err:
        raise ReaderError(f"libfprint is not available ({err}): apt-get install gir1.2-fprint-2.0, "
                          "pip install PyGObject") from None
    return FPrint


def readers() -> list[tuple[str, str]]:
    """(driver id, name) of every fingerprint reader libfprint finds."""
    FPrint = _fprint()
    return [(d.get_driver(), d.get_name()) for d in FPrint.Context().get_devices()]


class LibfprintReader:
    """One libfprint device that captures images, opened for each capture
    (a reader unplugged between two signings is found again)."""

    def __init__(self, match: str) -> None:
        self.match = match
        self.name = match
        self._lock = threading.Lock()

    def _device(self) -> Any:
        FPrint = _fprint()
        devices = FPrint.Context().get_devices()
        for device in devices:
            if self.match == device.get_driver() or self.match in device.get_name():
                if not device.supports_capture():
                    raise ReaderError(f"the reader {device.get_name()} gives no images")
                self.name = device.get_name()
                return device
        found = ", ".join(f"{d.get_driver()} ({d.get_name()})" for d in devices) or "none"
        raise ReaderError(f"no fingerprint reader {self.match!r} (found: {found})")

    def capture(self, timeout: float = CAPTURE_TIMEOUT) -> bytes:
        """Blocking: run it off the event loop."""
        from gi.repository import Gio, GLib
        with self._lock:  # one capture at a time per reader
            device = self._device()
            cancel = Gio.Cancellable()
            timer = threading.Timer(timeout, cancel.cancel)
            try:
                device.open_sync(None)
            except GLib.Error as err:
                raise ReaderError(f"the reader {self.name} cannot be opened: {err.message}") from None
            timer.start()
            try:
                image = device.capture_sync(True, cancel)
            except GLib.Error as err:
                if cancel.is_cancelled():
                    raise ReaderError(f"no finger on the reader within {timeout:.0f} s") from None
                raise ReaderError(f"the reader could not take the print: {err.message}") from None
            finally:
                timer.cancel()
                try:
                    device.close_sync(None)
                except GLib.Error:
                    pass
        gray = np.frombuffer(bytes(image.get_data()), np.uint8).reshape(image.get_height(), image.get_width())
        return png(gray)
