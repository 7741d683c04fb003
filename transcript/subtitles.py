"""Timed text as WebVTT or SRT: one home for clocks and cue layout."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Cue:
    start: float
    end: float
    text: str
    speaker: str | None = None
    ident: str | None = None


def clock(seconds: float, sep: str = ".") -> str:
    ms = round(seconds * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def to_vtt(cues: list[Cue]) -> str:
    lines = ["WEBVTT", ""]
    for n, c in enumerate(cues, 1):
        voice = f"<v {c.speaker.replace('>', '')}>" if c.speaker else ""
        lines += [c.ident or str(n), f"{clock(c.start)} --> {clock(max(c.end, c.start + 0.001))}",
                  f"{voice}{c.text}", ""]
    return "\n".join(lines)


def to_srt(cues: list[Cue]) -> str:
    lines = []
    for n, c in enumerate(cues, 1):
        who = f"{c.speaker}：" if c.speaker else ""
        lines += [str(n), f"{clock(c.start, ',')} --> {clock(max(c.end, c.start + 0.001), ',')}",
                  f"{who}{c.text}", ""]
    return "\n".join(lines)
