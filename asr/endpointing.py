"""When an utterance is over, sooner than the recognizer's fixed silence.

A recognizer ends an utterance after a fixed stretch of silence (vosk:
0.5 s), which is most of the delay between a speaker's last word and their
line on the screens. A pause inside a sentence can be as long as one at its
end, so the silence alone cannot decide; what was said and how can:

* mid-clause: the last word is one a sentence does not end on (a
  conjunction, a preposition, a structural particle such as 的): wait for
  the recognizer's own endpoint;
* a falling voice (sentence-final intonation: the pitch of the last voiced
  stretch well below the utterance's own middle): end after ``falling``
  seconds of silence;
* a long partial (``long_chars`` characters or more said since the last
  end): after ``long`` seconds;
* otherwise (a short partial, level voice): the recognizer's own endpoint.

A speaker who goes on within the recognizer's endpoint after an early end
paused inside a sentence: for them the early silences grow (by ``learn``
each time, up to the recognizer's own), so a deliberate speaker is not cut
up; they shrink back slowly while early ends hold.

Pure: 16 kHz mono s16 PCM in, a decision out; no clock, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

SAMPLE_RATE = 16_000
FRAME = 160  # 10 ms
#: Voiced frames that make "the end" of an utterance's voice (150 ms).
LAST = 15
#: Words a Chinese sentence does not end on: after them the speaker goes on.
CONTINUING = frozenset(
    "和 与 及 以及 或 或者 但 但是 而 而且 并 并且 因为 由于 所以 因此 如果 假如 虽然 即使 尽管 然后 "
    "的 地 得 之 对 向 把 被 在 从 给 将 跟 同 于 关于 根据 按照 通过 为 为了 除了 是 就 也 还 都 又 再 "
    "要 应 应当 应该 请 让 使 和解 及其 其 该 这 那 这个 那个 一个".split())


@dataclass(slots=True)
class Endpointer:
    #: The recognizer's own endpoint silence (seconds).
    engine: float = 0.5
    falling: float = 0.25
    long: float = 0.3
    long_chars: int = 6
    #: How much a speaker's early silences grow after a split, and shrink
    #: after an early end that held.
    learn: float = 0.1
    relax: float = 0.02
    #: A frame is voiced this many dB above the noise floor (and above -50 dBFS).
    voiced_db: float = 12.0
    #: Trailing silence, seconds.
    silence: float = 0.0
    #: Seconds added to the early silences for this speaker (see ``learn``).
    extra: float = 0.0
    _floor: float = -60.0
    _pitches: list[float] = field(default_factory=list)
    _voiced_run: list[float] = field(default_factory=list)
    _spoken: bool = False  # voiced since the last end
    _ended_early: bool = False
    _since_early: float = 0.0
    _tail: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int16))

    def observe(self, pcm: bytes) -> None:
        """The next stretch of audio, as given to the recognizer."""
        samples = np.concatenate([self._tail, np.frombuffer(pcm, dtype="<i2")])
        whole = len(samples) // FRAME * FRAME
        self._tail = samples[whole:]
        for frame in samples[:whole].reshape(-1, FRAME).astype(np.float64):
            self._frame(frame)

    def _frame(self, frame: np.ndarray) -> None:
        rms = float(np.sqrt(np.mean(frame * frame))) + 1e-9
        level = 20 * np.log10(rms / 32768)
        # The noise floor follows the quietest frames quickly and rises slowly.
        self._floor = level if level < self._floor else self._floor + 0.05
        voiced = level > max(-50.0, self._floor + self.voiced_db)
        if self._ended_early:
            self._since_early += FRAME / SAMPLE_RATE
            if voiced and self._since_early < self.engine:
                # Went on speaking: the early end split a sentence.
                self.extra = min(self.engine, self.extra + self.learn)
                self._ended_early = False
            elif self._since_early >= self.engine:
                self.extra = max(0.0, self.extra - self.relax)
                self._ended_early = False
        if voiced:
            self.silence = 0.0
            self._spoken = True
            self._voiced_run.append(_pitch(frame))
        else:
            if self._voiced_run:
                self._pitches.extend(p for p in self._voiced_run if p > 0)
                self._voiced_run = []
            self.silence += FRAME / SAMPLE_RATE

    def falling_voice(self) -> bool:
        """The pitch of the last ``LAST`` voiced frames is well below the
        utterance's middle."""
        if len(self._pitches) < 2 * LAST:
            return False
        return float(np.median(self._pitches[-LAST:])) < 0.85 * float(np.median(self._pitches))

    @property
    def pausing(self) -> bool:
        """Silent after speech long enough that ``due`` might say yes (so
        the caller asks the recognizer for its partial only then)."""
        return self._spoken and self.silence >= min(self.falling, self.long)

    def due(self, partial: str) -> bool:
        """Whether the utterance whose partial text (the recognizer's words,
        space separated) is ``partial`` should end now."""
        words = partial.split()
        if not self._spoken or not words or words[-1] in CONTINUING:
            return False
        if self.falling_voice() and self.silence >= min(self.engine, self.falling + self.extra):
            return True
        chars = sum(len(w) for w in words)
        return chars >= self.long_chars and self.silence >= min(self.engine, self.long + self.extra)

    def ended(self, early: bool) -> None:
        """The utterance ended (``early``: by this endpointer's decision)."""
        self._pitches, self._voiced_run = [], []
        self._ended_early, self._since_early, self._spoken = early, 0.0, False


def _pitch(frame: np.ndarray) -> float:
    """The frame's fundamental frequency by autocorrelation (60–500 Hz),
    or 0 where it has none clear enough. A 10 ms frame holds at least one
    period down to 100 Hz; lower voices read from the frame pair."""
    x = frame - frame.mean()
    energy = float(np.dot(x, x))
    if energy <= 0:
        return 0.0
    corr = np.correlate(x, x, mode="full")[len(x) - 1:]
    low, high = SAMPLE_RATE // 500, min(len(corr) - 1, SAMPLE_RATE // 60)
    if high <= low:
        return 0.0
    lag = low + int(np.argmax(corr[low:high]))
    return SAMPLE_RATE / lag if corr[lag] > 0.3 * energy else 0.0
