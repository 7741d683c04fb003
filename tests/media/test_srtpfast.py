"""The forwarding loop's own SRTP call and NTP clock give exactly what
pylibsrtp's ``Session.protect`` and aiortc's clock give."""

from __future__ import annotations

import os
import struct

import pylibsrtp
import pytest
from aiortc import clock

from courtroom.media.srtpfast import Protector, ntp_now, protector


def session(key: bytes) -> pylibsrtp.Session:
    policy = pylibsrtp.Policy(key=key, ssrc_type=pylibsrtp.Policy.SSRC_ANY_OUTBOUND,
                              srtp_profile=pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_80)
    return pylibsrtp.Session(policy=policy)


def rtp(seq: int, payload: bytes) -> bytes:
    return struct.pack("!BBHII", 0x80, 96, seq, 3000 * seq, 0x1234) + payload


def test_protects_packets_as_pylibsrtp_does() -> None:
    key = os.urandom(30)
    theirs, ours = session(key), session(key)
    fast = protector(ours)
    assert isinstance(fast, Protector)  # the pylibsrtp installed is the one this module knows
    for seq in range(200):
        packet = rtp(seq, os.urandom(seq * 7 % 1200))
        assert fast(packet) == theirs.protect(packet)


def test_a_packet_too_long_is_refused_and_the_session_goes_on() -> None:
    key = os.urandom(30)
    theirs, ours = session(key), session(key)
    fast = protector(ours)
    with pytest.raises(ValueError):
        fast(rtp(1, bytes(1500)))
    assert fast(rtp(2, b"after")) == theirs.protect(rtp(2, b"after"))


def test_a_session_it_does_not_know_keeps_its_own_protect() -> None:
    class Other:
        def protect(self, packet: bytes) -> bytes:
            return packet[::-1]
    other = Other()
    assert protector(other)(b"abc") == b"cba"


def test_ntp_time_is_aiortcs() -> None:
    before = clock.current_ntp_time()
    ours = ntp_now()
    after = clock.current_ntp_time()
    assert before <= ours <= after
    assert ours >> 32 > 3_900_000_000  # seconds since 1900: after 2023
