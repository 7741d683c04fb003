"""Which of a publisher's audio frames are worth forwarding: its silence is
not, as an SFU with Opus DTX would not receive it in the first place.

In an 8-party hearing one person speaks at a time, yet every publisher
sends 50 Opus frames a second and the hub sent each to seven subscribers:
2,800 of the 6,000 packets a second it sent were mostly silence. Browsers
mark every audio packet with its level (RFC 6464: -dBov, 0 loudest, 127
silence, and a voice-activity bit), so the hub can tell silence without
decoding. ``SilenceGate`` passes every frame that is loud enough or
voiced, and the second after the last one (the ends of words and the
pauses between them, at the frame rate of 20 ms packets); in longer
silence it passes one frame in twenty, a packet every 400 ms as DTX sends,
so a listener's stream never looks dead. Subscribers number packets on
their own (``rtpsender``), so a frame not sent leaves no gap in sequence
numbers, only a jump in timestamps, which a receiver's jitter buffer takes
as DTX. A publisher that sends no levels is forwarded whole. Recording and
recognition take every frame, whatever the gate says.
"""

from __future__ import annotations

#: A frame at this level (-dBov) or quieter, without the voice-activity
#: bit, is silence: -70 dBov is below any speech a microphone picks up
#: and above the digital silence (127) a muted or noise-suppressed one sends.
SILENT_LEVEL = 70
#: Frames still forwarded after the last audible one: 1 s of 20 ms frames.
HANGOVER_FRAMES = 50
#: In longer silence, one frame in this many is forwarded (every 400 ms).
KEEPALIVE_EVERY = 20


class SilenceGate:
    """Per publisher: whether each frame goes to the subscribers."""

    def __init__(self) -> None:
        #: Frames since the last audible one (a new publisher starts audible).
        self._quiet = 0

    def audible(self, level: tuple[bool, int] | None) -> bool:
        """Whether the frame with this RFC 6464 level (voice activity,
        -dBov), or with none, is to be forwarded."""
        if level is None or level[0] or level[1] < SILENT_LEVEL:
            self._quiet = 0
            return True
        self._quiet += 1
        return self._quiet <= HANGOVER_FRAMES or self._quiet % KEEPALIVE_EVERY == 0
