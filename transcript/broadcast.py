"""The public live stream of a hearing (庭审直播) as the judge runs it.

Whether the hearing may be shown to the public at all is decided when it is
created: a hearing marked 不公开 (minors, privacy, state secrets; the 2010
rules on live-streaming hearings and Art. 27 of 人民法院在线诉讼规则) can
never be streamed. In a public one the judge switches the stream on and off
(each start is a stream of its own, approved for this case), sets the delay
it goes out with, and marks who must not be recognizable in it (a minor, a
victim, a witness): they are shown blurred and heard with a changed voice,
in the stream only. Ending the hearing ends the stream.

The composed recording (庭审录像) is the court's; the judge may let the
parties have it too (``video.share``).

Pure data with its rules; the state machine applies the ops, the hub makes
the picture.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import OpError

#: Seconds the stream runs behind the courtroom: long enough for the judge
#: to cut it before something said goes out.
DEFAULT_DELAY = 30
#: Below this the stream could not be composed in time (recordings reach
#: the disk a second late, the speaker is chosen from the next seconds'
#: sound, and a segment is two seconds).
MIN_DELAY = 10
MAX_DELAY = 600


@dataclass(slots=True)
class Broadcast:
    #: False for a hearing marked 不公开: it is never streamed.
    public: bool = True
    streaming: bool = False
    delay_s: int = DEFAULT_DELAY
    #: Streams started so far; the current one is number ``started``.
    started: int = 0
    #: Participants shown blurred and with a changed voice.
    protected: set[str] = field(default_factory=set)
    #: The judge lets the parties have the composed recording (庭审录像);
    #: the bench always has it, observers never.
    video_shared: bool = False

    def start(self, delay_s: int | None) -> None:
        if not self.public:
            raise OpError("conflict", "this hearing is not public (不公开) and cannot be streamed")
        if self.streaming:
            raise OpError("conflict", "the hearing is already being streamed")
        self.streaming = True
        self.delay_s = DEFAULT_DELAY if delay_s is None else delay_s
        self.started += 1

    def stop(self) -> None:
        if not self.streaming:
            raise OpError("conflict", "the hearing is not being streamed")
        self.streaming = False

    def protect(self, participant_id: str, protected: bool) -> None:
        if protected == (participant_id in self.protected):
            raise OpError("conflict", f"already {'protected' if protected else 'not protected'} in the stream")
        if protected:
            self.protected.add(participant_id)
        else:
            self.protected.discard(participant_id)

    def share_video(self, shared: bool) -> None:
        if shared == self.video_shared:
            raise OpError("conflict", f"the video is already {'shared with' if shared else 'kept from'} the parties")
        self.video_shared = shared

    def stream(self) -> dict[str, Any]:
        """The current (or last) stream, as events carry it."""
        return {"number": self.started, "streaming": self.streaming, "delay_s": self.delay_s}

    def to_dict(self) -> dict[str, Any]:
        return {"public": self.public, **self.stream(), "protected": sorted(self.protected),
                "video_shared": self.video_shared}
