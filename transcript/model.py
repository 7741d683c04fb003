"""The objects of a hearing's transcript, as they appear on the wire."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .roles import Role, Site


@dataclass(frozen=True, slots=True)
class Participant:
    participant_id: str
    role: Role
    name: str
    site: Site = Site.COURT

    def label(self) -> dict[str, Any]:
        """How a speaker or an author is shown on segments and annotations."""
        return {"participant_id": self.participant_id, "role": self.role.value, "name": self.name}

    def to_dict(self) -> dict[str, Any]:
        return {**self.label(), "site": self.site.value}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Participant:
        return cls(d["participant_id"], Role(d["role"]), d["name"], Site(d.get("site", "court")))


@dataclass(frozen=True, slots=True)
class Staff:
    """Court staff acting from outside a hearing: whoever holds the hub's
    admin token (``admin``), or a staff account (judge, clerk, mediator,
    admin). Logged as actor ``staff:<staff_id>`` for an administrator and
    ``staff:<role>:<staff_id>`` for the other roles, so a log says in what
    capacity each of them acted."""
    staff_id: str
    name: str
    role: str = "admin"

    @property
    def participant_id(self) -> str:
        """The log's actor column, where participants have their id."""
        if self.role == "admin":
            return f"staff:{self.staff_id}"
        return f"staff:{self.role}:{self.staff_id}"

    def label(self) -> dict[str, Any]:
        if self.role == "admin":  # as hearings' logs have always shown it
            return {"staff_id": self.staff_id, "name": self.name}
        return {"staff_id": self.staff_id, "name": self.name, "role": self.role}


#: Who may act on a hearing: one of its participants, or court staff.
Actor = Participant | Staff


@dataclass(slots=True)
class Segment:
    id: str
    rev: int
    text: str
    speaker: Participant
    start: float | None
    end: float | None
    #: A segment that stands for an evidence item pasted into the transcript.
    evidence_id: str | None = None
    #: Recognized words with confidence, while the text is still as recognized.
    words: list[dict[str, Any]] | None = None
    #: Struck from the record by the clerk or the judge: kept, and shown
    #: struck through, so the history stays whole; absent from the 笔录.
    deleted: bool = False

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"id": self.id, "rev": self.rev, "text": self.text, "speaker": self.speaker.label(),
                             "start": self.start, "end": self.end}
        # Optional fields are absent when unset, so older logs replay unchanged.
        if self.evidence_id is not None:
            d["evidence_id"] = self.evidence_id
        if self.words is not None:
            d["words"] = self.words
        if self.deleted:
            d["deleted"] = True
        return d


@dataclass(slots=True)
class Evidence:
    """An uploaded photo or document; the file itself is stored by the hub
    under its SHA-256, which the log keeps."""
    id: str
    sha256: str
    name: str
    media_type: str
    size: int
    uploader: Participant
    approved: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "sha256": self.sha256, "name": self.name, "media_type": self.media_type,
                "size": self.size, "uploader": self.uploader.label(),
                "status": "approved" if self.approved else "submitted"}


@dataclass(slots=True)
class Annotation:
    """A mark on a span of one segment's text.

    Like a web annotation it keeps its quote and a little context besides the
    offsets, so that it can be found again after the text under it changes.
    """

    id: str
    segment_id: str
    start: int
    end: int
    quote: str
    prefix: str
    suffix: str
    style: str
    body: str
    color: str
    author: Participant
    orphaned: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "segment_id": self.segment_id, "start": self.start, "end": self.end,
                "quote": self.quote, "prefix": self.prefix, "suffix": self.suffix,
                "style": self.style, "body": self.body, "color": self.color,
                "author": self.author.label(), "orphaned": self.orphaned}


@dataclass(slots=True)
class Signature:
    participant: Participant
    transcript_hash: str
    image: str | None
    fingerprint: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"participant": self.participant.label(), "transcript_hash": self.transcript_hash,
                "image": self.image, "fingerprint": self.fingerprint}


@dataclass(slots=True)
class HearingInfo:
    hearing_id: str
    case_number: str
    title: str
    court: str
    participants: dict[str, Participant] = field(default_factory=dict)
    #: Remote participants wait until the judge admits them.
    waiting_room: bool = False
    #: Which edition of the rules the hearing's log was written under. A
    #: log replays under the rules it was written with, so a rule can change
    #: for new hearings without making an old log unverifiable (see
    #: ``RULES``).
    rules: int = 1
    #: The courtroom it is held in (its equipment joins it), if any.
    courtroom: str | None = None
    #: ``hearing``, or ``mediation``: an online mediation session of a case,
    #: run by a mediator, heard and seen but not transcribed.
    kind: str = "hearing"
    #: False: a hearing not open to the public (不公开审理), never streamed.
    public: bool = True

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"hearing_id": self.hearing_id, "case_number": self.case_number, "title": self.title,
                             "court": self.court, "participants": [p.to_dict() for p in self.participants.values()]}
        if self.waiting_room:  # absent when false, so logs written before it replay unchanged
            d["waiting_room"] = True
        if self.rules != 1:
            d["rules"] = self.rules
        if self.courtroom is not None:
            d["courtroom"] = self.courtroom
        if self.kind != "hearing":
            d["kind"] = self.kind
        if not self.public:
            d["public"] = False
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> HearingInfo:
        parts = [Participant.from_dict(p) for p in d["participants"]]
        return cls(d["hearing_id"], d["case_number"], d["title"], d["court"],
                   {p.participant_id: p for p in parts}, bool(d.get("waiting_room", False)), int(d.get("rules", 1)),
                   d.get("courtroom"), d.get("kind", "hearing"), bool(d.get("public", True)))


#: The rules new hearings are created under.
#: 1: the first edition.
#: 2: locking the transcript also ends the hearing (闭庭), if it has not
#:    ended yet: nothing said after the lock could be recorded, so the
#:    hearing cannot go on being heard.
RULES = 2
