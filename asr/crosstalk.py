"""Crosstalk between seat microphones: a word several microphones picked up
is kept once, where it was loudest.

In a courtroom every seat has its own microphone and each is recognized on
its own, so a neighbour's microphone also "hears" the speaker's words, a
little quieter. Two words are the same word said once when they are equal
and overlap in time by more than half of the shorter; of those, the one on
the channel that was loudest over the word's span is kept.

``drop_crosstalk`` does this for a recorded file, all results at once.
``LiveArbiter`` does it for live seat streams as each final arrives, with
bounded delay: a word on the channel that is loudest over it is written at
once (the speaker's own microphone, nearly always); a word that is louder
elsewhere waits until the louder channel reports it (then it is dropped),
or until that channel has been quiet for ``wait`` seconds without
reporting it (then it is kept: never lose a word to a neighbour who did not
recognize it); the speaker's sentence may go on long after the word, so
the wait runs from when the louder channel falls silent, and ends after
``most`` seconds whatever happens.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .text import CourtText
from .words import Result, Word

#: Loudness is measured in hops of this many seconds.
HOP = 0.01


def overlap(a: Word, b: Word) -> float:
    """The shared time of two words, as a fraction of the shorter one."""
    return max(0.0, min(a.end, b.end) - max(a.start, b.start)) / max(1e-6, min(a.end - a.start, b.end - b.start))


def same_word(a: Word, b: Word) -> bool:
    return a.word == b.word and overlap(a, b) > 0.5


class ChannelEnergy:
    """Per-channel loudness (mean square) in ``HOP`` hops of one
    multichannel recording, read whole (files)."""

    def __init__(self, rate: int, channels: int) -> None:
        self.hop = max(1, int(rate * HOP))
        self._rest = np.zeros((0, channels))
        self._rows: list[np.ndarray] = []

    def add(self, chunk: np.ndarray) -> None:
        data = np.concatenate([self._rest, chunk.astype(np.float64)])
        whole = len(data) // self.hop * self.hop
        if whole:
            frames = data[:whole].reshape(-1, self.hop, data.shape[1])
            self._rows.append((frames ** 2).mean(axis=1))
        self._rest = data[whole:]

    def done(self) -> np.ndarray:
        return np.concatenate(self._rows) if self._rows else np.zeros((0, self._rest.shape[1]))


def hop_energies(samples: np.ndarray, rate: int, channels: int = 1) -> np.ndarray:
    """Loudness (mean square) of each whole ``HOP`` of interleaved samples,
    channels mixed: what a live stream reports to ``LiveArbiter.levels``
    with each piece of audio (a 20 ms Opus frame is two hops)."""
    mono = samples.reshape(-1, channels).astype(np.float64).mean(axis=1)
    hop = max(1, int(rate * HOP))
    whole = len(mono) // hop
    return (mono[:whole * hop].reshape(whole, hop) ** 2).mean(axis=1)


def loudness(energy: np.ndarray, channel: int, word: Word) -> float:
    a = int(word.start / HOP)
    b = max(int(word.end / HOP), a + 1)
    span = energy[a:b, channel]
    return float(span.mean()) if len(span) else 0.0


def drop_crosstalk(results: list[Result], energy: np.ndarray, text: CourtText) -> list[Result]:
    """A file's results (speaker = channel index) with each word kept only
    on the channel where it is loudest; utterances that lose words are
    rebuilt, or dropped when nothing is left."""
    words = [(r_i, w_i, int(r.speaker), w) for r_i, r in enumerate(results) for w_i, w in enumerate(r.words)]
    words.sort(key=lambda x: x[3].start)
    loud = {(r_i, w_i): loudness(energy, ch, w) for r_i, w_i, ch, w in words}
    dropped: set[tuple[int, int]] = set()
    for k, (r_i, w_i, ch, w) in enumerate(words):
        for r_j, w_j, ch2, w2 in words[k + 1:]:
            if w2.start >= w.end:
                break
            if ch2 != ch and same_word(w, w2):
                dropped.add((r_i, w_i) if loud[(r_i, w_i)] < loud[(r_j, w_j)] else (r_j, w_j))
    return [r for r in (_rebuilt(r, [w for w_i, w in enumerate(r.words) if (r_i, w_i) not in dropped], text)
                        for r_i, r in enumerate(results)) if r is not None]


def _rebuilt(result: Result, kept: list[Word], text: CourtText) -> Result | None:
    if len(kept) == len(result.words):
        return result
    if not kept:
        return None
    line, kept_words = text.final(kept)
    return Result(result.speaker, line, tuple(kept_words))


class _Levels:
    """One channel's loudness in ``HOP`` hops on the hearing's clock, for
    the last ``keep`` seconds."""

    def __init__(self, keep: float) -> None:
        self.keep = int(keep / HOP)
        self.first = 0  # hop index of values[0]
        self.values = np.zeros(0)

    def add(self, start: float, energies: np.ndarray) -> None:
        at = int(round(start / HOP))
        if not len(self.values):
            self.first = at
        end = self.first + len(self.values)
        if at > end:  # a gap (a muted or paused stretch): silence
            self.values = np.concatenate([self.values, np.zeros(at - end)])
        elif at < end:
            energies = energies[end - at:]
        self.values = np.concatenate([self.values, energies])
        if len(self.values) > 2 * self.keep:
            cut = len(self.values) - self.keep
            self.values, self.first = self.values[cut:], self.first + cut

    def over(self, word: Word) -> float | None:
        return self.mean(word.start, word.end)

    def mean(self, start: float, end: float) -> float | None:
        """Mean loudness from ``start`` to ``end``, None where nothing is known."""
        a = int(start / HOP) - self.first
        b = max(int(end / HOP), int(start / HOP) + 1) - self.first
        if b <= 0 or a >= len(self.values):
            return None
        span = self.values[max(0, a):b]
        return float(span.mean()) if len(span) else None


@dataclass(frozen=True, slots=True)
class _Doubt:
    """A word louder on ``louder``, whose level over it was ``level``."""
    louder: str
    level: float
    end: float


@dataclass(slots=True)
class _Held:
    channel: str
    result: Result
    #: index in result.words → why it waits
    doubtful: dict[int, _Doubt]
    dropped: set[int] = field(default_factory=set)


class LiveArbiter:
    """Decides each live final of a seat channel as it comes (see the
    module's doc). Call ``levels`` with each channel's audio loudness,
    ``final`` with each final result (words on the hearing's clock) and
    ``tick`` with the hearing's clock now and then; results to write go to
    ``emit``. Not thread-safe: call it from one thread (the event loop)."""

    def __init__(self, emit: Callable[[str, Result], None], text: CourtText | None = None,
                 wait: float = 1.0, most: float = 30.0, keep: float = 60.0) -> None:
        self.emit = emit
        self.text = text or CourtText()
        self.wait = wait
        self.most = most
        self._levels: dict[str, _Levels] = {}
        self._keep = keep
        #: Words reported lately per channel (a quieter copy that comes later is dropped).
        self._seen: dict[str, list[Word]] = {}
        self._held: list[_Held] = []

    def levels(self, channel: str, start: float, energies: np.ndarray) -> None:
        """``energies``: mean squares of consecutive ``HOP`` hops of this
        channel's audio, the first starting at ``start`` (hearing clock)."""
        self._levels.setdefault(channel, _Levels(self._keep)).add(start, np.asarray(energies, np.float64))

    def final(self, channel: str, result: Result) -> None:
        doubtful: dict[int, _Doubt] = {}
        dropped: set[int] = set()
        for i, w in enumerate(result.words):
            here = self._loudness(channel, w)
            louder = sorted((c for c in self._levels if c != channel and self._loudness(c, w) > here),
                            key=lambda c: -self._loudness(c, w))
            if any(same_word(w, x) for c in louder for x in self._seen.get(c, ())):
                dropped.add(i)  # the louder channel has reported it already
            elif louder:
                doubtful[i] = _Doubt(louder[0], self._loudness(louder[0], w), w.end)
        # Quieter copies held from other channels give way to these words.
        for held in self._held:
            if held.channel == channel:
                continue
            for i in list(held.doubtful):
                x = held.result.words[i]
                if any(same_word(x, w) for w in result.words) \
                        and self._loudness(channel, x) > self._loudness(held.channel, x):
                    del held.doubtful[i]
                    held.dropped.add(i)
        seen = self._seen.setdefault(channel, [])
        seen.extend(result.words)
        if result.words:
            horizon = result.words[-1].end - self._keep
            self._seen[channel] = [w for w in seen if w.end >= horizon]
        self._held.append(_Held(channel, result, doubtful, dropped))
        self._release()

    def tick(self, now: float) -> None:
        """The hearing's clock is at ``now``: doubtful words whose louder
        channel fell silent ``wait`` seconds ago (or ``most`` seconds after
        the word) without reporting them are kept."""
        for held in self._held:
            for i, doubt in list(held.doubtful.items()):
                if now - doubt.end >= self.most or now - self._talking_until(doubt, now) >= self.wait:
                    del held.doubtful[i]
        self._release()

    def _talking_until(self, doubt: _Doubt, now: float) -> float:
        """The last time up to ``now`` the louder channel was within 10 dB of
        its level over the word (still speaking)."""
        levels = self._levels.get(doubt.louder)
        if levels is None:
            return doubt.end
        a = max(0, int(doubt.end / HOP) - levels.first)
        b = min(len(levels.values), int(now / HOP) - levels.first)
        if b <= a:
            return now  # no levels for that time yet: assume it still talks
        loud = np.nonzero(levels.values[a:b] >= doubt.level / 10)[0]
        return doubt.end if not len(loud) else (levels.first + a + int(loud[-1]) + 1) * HOP

    def loudest(self, channel: str, now: float, span: float = 0.5) -> bool:
        """Whether ``channel`` was the loudest over the last ``span`` seconds
        up to ``now``: its interim text is its speaker's own, not what it
        overhears from a neighbour (which need not flicker on screens)."""
        here = self._levels.get(channel)
        mine = here.mean(now - span, now) if here is not None else None
        if mine is None:
            return True
        return all((levels.mean(now - span, now) or 0.0) <= mine
                   for c, levels in self._levels.items() if c != channel)

    @property
    def waiting(self) -> int:
        """Results held back for a decision."""
        return len(self._held)

    def _loudness(self, channel: str, word: Word) -> float:
        levels = self._levels.get(channel)
        value = levels.over(word) if levels is not None else None
        return value if value is not None else 0.0

    def _release(self) -> None:
        """Write, in arrival order per channel, every held result that has
        no word left in doubt."""
        blocked: set[str] = set()
        still: list[_Held] = []
        for held in self._held:
            if held.doubtful or held.channel in blocked:
                blocked.add(held.channel)
                still.append(held)
                continue
            kept = [w for i, w in enumerate(held.result.words) if i not in held.dropped]
            result = _rebuilt(held.result, kept, self.text)
            if result is not None:
                self.emit(held.channel, result)
        self._held = still
