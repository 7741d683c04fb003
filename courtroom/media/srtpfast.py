"""Per-packet helpers of the forwarding loop: SRTP protection without
pylibsrtp's wrapper, and the NTP time without ``datetime``.

The hub protects and sends several thousand packets a second from Python.
pylibsrtp's ``Session.protect`` is two Python calls around one C call: a
type check, a length check, a fresh ``int *`` from cffi, then the copy in
and out of the session's buffer. ``Protector`` keeps the ``int *`` and the
buffer and makes the C call itself, so a packet costs the copy in, the C
call and the copy out. aiortc's ``clock.current_ntp_time`` goes through two
``datetime`` objects and a ``timedelta``; ``ntp_now`` gives the same 64-bit
NTP time from ``time.time_ns``. Both produce exactly what the originals do
(tests/media/test_srtpfast.py); a pylibsrtp whose session does not look
as expected gets its own ``protect`` instead.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import pylibsrtp

#: Seconds from the NTP epoch (1900) to the Unix epoch (1970).
NTP_UNIX_OFFSET = 2_208_988_800


def ntp_now() -> int:
    """Now as a 64-bit NTP timestamp (32 bits of seconds since 1900, 32 of
    fraction), as aiortc's ``clock.current_ntp_time`` gives it (to the
    microsecond, as that one is)."""
    ns = time.time_ns()
    seconds, micros = divmod(ns // 1000, 1_000_000)
    return ((seconds + NTP_UNIX_OFFSET) << 32) | ((micros << 32) // 1_000_000)


def protector(session: Any) -> Callable[[bytes], bytes]:
    """``session.protect``, or the same without its wrapper when the session
    is a pylibsrtp ``Session`` as this module knows it."""
    try:
        from pylibsrtp import _binding  # type: ignore[attr-defined]
        srtp, cdata, buffer = session._srtp, session._cdata, session._buffer
        ffi, lib = _binding.ffi, _binding.lib
        if ffi.typeof(srtp) is not ffi.typeof("srtp_t *") or ffi.typeof(cdata) is not ffi.typeof("char[]"):
            raise TypeError
    except (ImportError, AttributeError, TypeError):
        return session.protect  # type: ignore[no-any-return]
    return Protector(session, srtp[0], cdata, buffer, lib.srtp_protect, ffi.new("int *"))


class Protector:
    """SRTP protection of RTP packets by one session (see the module's
    docstring). Not reentrant, as the session's own buffer is not."""

    #: Room left in the session's buffer for the authentication tag (and
    #: MKI): pylibsrtp's SRTP_MAX_TRAILER_LEN.
    TRAILER = 16 + 128

    def __init__(self, session: Any, srtp: Any, cdata: Any, buffer: Any, protect: Any, length: Any) -> None:
        self._session = session  # keeps srtp and the buffer alive
        self._srtp, self._cdata, self._buffer, self._protect, self._length = srtp, cdata, buffer, protect, length
        self._limit = len(buffer) - self.TRAILER

    def __call__(self, packet: bytes) -> bytes:
        n = len(packet)
        if n > self._limit:
            raise ValueError("packet is too long")
        self._buffer[0:n] = packet
        length = self._length
        length[0] = n
        status = self._protect(self._srtp, self._cdata, length)
        if status:
            raise pylibsrtp.Error(f"srtp_protect failed: {status}")
        return self._buffer[0:length[0]]  # type: ignore[no-any-return]
