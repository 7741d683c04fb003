"""The HLS media playlist of a live stream (RFC 8216), as a pure value.

Segments are numbered by where they fall on the hearing's clock (segment
``n`` is seconds ``n * SEGMENT`` to ``(n + 1) * SEGMENT``), so the media
sequence only ever grows, across a restart of the composer too; a gap
between numbers is marked as a discontinuity. Each segment carries its
``EXT-X-PROGRAM-DATE-TIME``: the wall-clock time its first picture was
taken in the courtroom, which is what lets anyone check the delay.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

#: Seconds per segment: switching the stream off is honoured within one.
SEGMENT = 2
#: Segments listed: players start three from the end of the list.
WINDOW = 6
#: Segments kept on disk past the list, for players still fetching them.
KEEP = 4


def segment_name(number: int) -> str:
    return f"seg-{number:08d}.ts"


@dataclass(frozen=True, slots=True)
class Segment:
    number: int
    duration: float
    #: Unix time of the segment's first picture in the courtroom.
    taken: float
    discontinuity: bool = False


@dataclass(slots=True)
class Playlist:
    segments: list[Segment] = field(default_factory=list)
    #: Discontinuities that have slid out of the list.
    discontinuities: int = 0

    def add(self, segment: Segment) -> list[Segment]:
        """Add the next segment; returns the segments now to be deleted
        from disk (out of the list for ``KEEP`` segments)."""
        if self.segments and segment.number <= self.segments[-1].number:
            raise ValueError("segments are added in order")
        gap = bool(self.segments) and segment.number != self.segments[-1].number + 1
        self.segments.append(Segment(segment.number, segment.duration, segment.taken,
                                     segment.discontinuity or gap))
        gone = []
        while len(self.segments) > WINDOW + KEEP:
            gone.append(self.segments.pop(0))
            self.discontinuities += gone[-1].discontinuity
        return gone

    @property
    def listed(self) -> list[Segment]:
        return self.segments[-WINDOW:]

    def text(self) -> str:
        listed = self.listed
        dropped = self.segments[:len(self.segments) - len(listed)]
        lines = ["#EXTM3U", "#EXT-X-VERSION:3", f"#EXT-X-TARGETDURATION:{SEGMENT}",
                 f"#EXT-X-MEDIA-SEQUENCE:{listed[0].number if listed else 0}",
                 f"#EXT-X-DISCONTINUITY-SEQUENCE:"
                 f"{self.discontinuities + sum(s.discontinuity for s in dropped)}"]
        for s in listed:
            if s.discontinuity:
                lines.append("#EXT-X-DISCONTINUITY")
            taken = datetime.datetime.fromtimestamp(s.taken, datetime.timezone.utc)
            lines.append("#EXT-X-PROGRAM-DATE-TIME:" + taken.isoformat(timespec="milliseconds").replace("+00:00", "Z"))
            lines.append(f"#EXTINF:{s.duration:.3f},")
            lines.append(segment_name(s.number))
        return "\n".join(lines) + "\n"
