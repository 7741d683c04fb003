"""One speaker's audio, decoded once, to that speaker's recognizer.

The publication's tap passes encoded audio on to aiortc's decoder thread
only while the speaker is heard (admitted, not muted, hearing not paused or
ended); the decoded frames are fed to an ``asr`` stream. When the speaker
stops being heard the stream is closed, which emits its last final, so
words said before a mute or a pause are kept; a new stream starts, on the
hearing's clock, when they are heard again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Callable

import numpy as np
from aiortc.mediastreams import MediaStreamError

from asr.crosstalk import hop_energies
from asr.endpointing import Endpointer
from asr.engine import Engine
from asr.stream import SpeakerStream
from asr.text import CourtText
from asr.words import Result

from .forwarding import Publication

log = logging.getLogger(__name__)

#: The longest stretch of lost audio filled with silence (seconds); a
#: longer jump in timestamps is a new start, not a loss.
MAX_GAP = 5.0


class SpeechTap:
    def __init__(self, publication: Publication, track: Any, engine: Engine, text: CourtText,
                 clock: Callable[[], float], on_result: Callable[[str, Result], None],
                 on_end: Callable[[], None] = lambda: None, early_endpoints: bool = True,
                 on_levels: Callable[[float, np.ndarray], None] | None = None) -> None:
        """``clock``: seconds on the hearing's clock now; ``on_result`` is
        called on the event loop with (stream id, result); ``on_end`` on the
        loop once a stream has ended and given its last final (so an
        interim line that led to nothing is cleared); ``early_endpoints``:
        end utterances where the pause is clear, not only at the
        recognizer's fixed silence; ``on_levels(start, energies)`` gets the
        loudness of the audio recognized, in ``asr.crosstalk.HOP`` hops
        from ``start`` on the hearing's clock (for crosstalk between seats)."""
        self.publication = publication
        self.engine = engine
        self.text = text
        self.clock = clock
        self.on_result = on_result
        self.on_end = on_end
        self.on_levels = on_levels
        #: The current stream's start on the hearing's clock, and the
        #: samples (per channel) fed to it since.
        self._offset = 0.0
        self._fed = 0
        self._first_pts: int | None = None
        self.stream: SpeakerStream | None = None
        self.stream_id = ""
        #: Ends this speaker's utterances where the pause is clear; kept
        #: across their streams, as it learns how they pause.
        self.endpointer = Endpointer() if early_endpoints else None
        self._loop = asyncio.get_running_loop()
        self._track = track
        self._task = asyncio.ensure_future(self._run())

    def use_text(self, text: CourtText) -> None:
        """A new vocabulary: for the utterance under way and every later one
        (the worker reads ``stream.text`` per result; swapping it is atomic)."""
        self.text = text
        if self.stream is not None:
            self.stream.text = text

    @property
    def active(self) -> bool:
        return self.publication.tap.decode

    def set_active(self, active: bool) -> None:
        if active == self.active:
            return
        self.publication.tap.decode = active
        if not active:
            self._end_stream()

    def _end_stream(self) -> None:
        stream, self.stream = self.stream, None
        if stream is not None:
            # close() waits for the last final: off the loop.
            done = self._loop.run_in_executor(None, stream.close)
            done.add_done_callback(lambda _: self.on_end())

    async def _run(self) -> None:
        try:
            while True:
                frame = await self._track.recv()
                if not self.active:
                    continue  # decoded before the tap was turned off
                if self.stream is None:
                    self.stream_id = f"{int(time.time() * 1000):x}"
                    sid = self.stream_id
                    self._offset, self._fed = self.clock(), 0
                    self.stream = SpeakerStream(
                        self.engine, self.publication.participant_id,
                        lambda r: self._loop.call_soon_threadsafe(self.on_result, sid, r),
                        text=self.text, offset=self._offset, endpointer=self.endpointer)
                channels = len(frame.layout.channels)
                samples = frame.to_ndarray().reshape(-1)
                gap = self._gap(frame)
                if gap:  # lost or dropped audio: silence keeps the words on the clock
                    self.stream.feed(np.zeros(gap * channels, samples.dtype), frame.sample_rate, channels)
                    self._fed += gap
                self.stream.feed(samples, frame.sample_rate, channels)
                if self.on_levels is not None:
                    self.on_levels(self._offset + self._fed / frame.sample_rate,
                                   hop_energies(samples, frame.sample_rate, channels))
                self._fed += len(samples) // channels
        except (MediaStreamError, asyncio.CancelledError):
            pass
        except Exception:
            log.exception("speech recognition of %s stopped", self.publication.participant_id)
        finally:
            self._end_stream()

    def _gap(self, frame: Any) -> int:
        """Samples missing before this frame, by its RTP timestamp (its pts):
        audio lost on the network, or dropped by a publisher that fell
        behind. Seat microphones are compared word by word in time
        (crosstalk), so a seat that lost 100 ms must not run 100 ms early."""
        pts = frame.pts
        if pts is None:
            return 0
        if self._fed == 0 or self._first_pts is None:
            self._first_pts = pts
            return 0
        missing = (pts - self._first_pts - self._fed) % 2 ** 32  # RTP timestamps wrap
        return missing if missing <= MAX_GAP * frame.sample_rate else 0

    def close(self) -> None:
        self.publication.tap.decode = False
        self._task.cancel()
