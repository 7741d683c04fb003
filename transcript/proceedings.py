"""The hearing as the judge runs it: its status, who is admitted from the
waiting room, and who is muted. Pure data with its rules; the state machine
applies the ops, the hub acts on the result (media, recognition)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .errors import OpError
from .model import HearingInfo, Participant
from .roles import NEVER_WAIT, Site


class Status(StrEnum):
    NOT_STARTED = "not_started"
    IN_SESSION = "in_session"  # 开庭
    PAUSED = "paused"          # 休庭
    ENDED = "ended"            # 闭庭


#: action → (statuses it may follow, status it leads to)
TRANSITIONS: dict[str, tuple[frozenset[Status], Status]] = {
    "start": (frozenset({Status.NOT_STARTED, Status.PAUSED}), Status.IN_SESSION),
    "pause": (frozenset({Status.IN_SESSION}), Status.PAUSED),
    "end": (frozenset({Status.NOT_STARTED, Status.IN_SESSION, Status.PAUSED}), Status.ENDED),
}
STATUS_LABELS = {Status.NOT_STARTED: "未开庭", Status.IN_SESSION: "庭审中", Status.PAUSED: "休庭",
                 Status.ENDED: "已闭庭"}


def waits(hearing: HearingInfo, participant: Participant) -> bool:
    """Whether a participant starts in the waiting room: only in hearings
    created with one, only away from the courtroom, never judge or clerk."""
    return hearing.waiting_room and participant.site != Site.COURT and participant.role not in NEVER_WAIT


@dataclass(slots=True)
class Proceedings:
    status: Status = Status.NOT_STARTED
    admitted: set[str] = field(default_factory=set)
    #: participant id → id of who muted them (themselves or the judge)
    muted: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, hearing: HearingInfo) -> Proceedings:
        return cls(admitted={p.participant_id for p in hearing.participants.values() if not waits(hearing, p)})

    @property
    def recording(self) -> bool:
        """Speech is recorded and transcribed from the first word until the
        judge pauses or ends the hearing (the clerk's opening announcements
        before 开庭 belong in the record too)."""
        return self.status in (Status.NOT_STARTED, Status.IN_SESSION)

    def heard(self, participant_id: str) -> bool:
        """Whether this participant's media is forwarded and transcribed."""
        return participant_id in self.admitted and participant_id not in self.muted

    def transition(self, action: str) -> Status:
        before, after = TRANSITIONS[action]
        if self.status not in before:
            raise OpError("conflict", f"the hearing is {self.status.value}; it cannot {action} now",
                          status=self.status.value)
        self.status = after
        return after

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status.value, "admitted": sorted(self.admitted), "muted": dict(self.muted)}
