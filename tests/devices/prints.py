"""Fingerprints for libfprint's ``virtual_image`` driver: a synthetic print
(ridges around a core, bent by a smooth random field, so the library's
minutiae detection finds ridge endings and bifurcations in it) and the
finger that puts it on the reader (the driver's socket: width and height as
two native ints, then the 8-bit grayscale pixels, as libfprint's own
examples/sendvirtimg.py sends them)."""

from __future__ import annotations

import socket
import struct
import time
from pathlib import Path

import numpy as np
import pytest

from tests.support import env_flag


def need_libfprint() -> None:
    """libfprint through PyGObject, or the test skips (fails under CI)."""
    try:
        from devices.fingerprint import readers
        readers()
    except Exception as err:  # noqa: BLE001
        message = f"libfprint is not available ({err}): apt-get install gir1.2-fprint-2.0; pip install PyGObject"
        pytest.fail(message) if env_flag("CI") else pytest.skip(message)


def synthetic_print(seed: int = 1, width: int = 256, height: int = 360) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(float)
    cx, cy = width / 2, height * 0.45
    r = np.hypot((x - cx) * 1.2, y - cy)
    theta = np.arctan2(y - cy, x - cx)
    field = np.zeros((height, width))
    for i in range(6):
        for j in range(6):
            field += rng.normal() * np.sin(x / width * np.pi * (i + 1) + rng.uniform(0, 6)) \
                * np.sin(y / height * np.pi * (j + 1) + rng.uniform(0, 6))
    phase = r / 3.2 + 0.8 * np.sin(2 * theta) + 1.5 * field
    ridges = 128 + 110 * np.sign(np.sin(phase)) * np.abs(np.sin(phase)) ** 0.5
    inside = ((x - cx) / (width * 0.45)) ** 2 + ((y - cy) / (height * 0.5)) ** 2 < 1
    return np.where(inside, ridges, 255).clip(0, 255).astype(np.uint8)


def press(socket_path: Path, image: np.ndarray, timeout: float = 20.0) -> None:
    """Put a finger on the virtual reader once it is open (its socket exists
    and listens while a capture waits)."""
    deadline = time.monotonic() + timeout
    while True:
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(str(socket_path))
            break
        except OSError:
            s.close()
            if time.monotonic() > deadline:
                raise TimeoutError(f"the virtual reader at {socket_path} never opened") from None
            time.sleep(0.1)
    with s:
        time.sleep(0.3)  # the driver asks for a finger after it accepts the connection
        s.sendall(struct.pack("ii", image.shape[1], image.shape[0]) + image.tobytes())
        time.sleep(1.0)
