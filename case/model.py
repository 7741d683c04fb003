"""The objects of a case's space, as they appear on the wire.

A case (案件) holds its parties and the court staff assigned to it, and,
around its hearings, the parties' messages to the court, the evidence they
exchange, the documents served on them and the mediation. Everything here
is built by ``case.state`` from the case's log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from transcript.model import Participant
from transcript.roles import Role, Site


class CaseRole(StrEnum):
    """In what capacity an actor acts on a case: as the court staff assigned
    to it, as a court administrator, or as one of its parties or agents."""
    JUDGE = "judge"
    CLERK = "clerk"
    MEDIATOR = "mediator"
    ADMIN = "admin"
    PARTY = "party"
    AGENT = "agent"


#: Court staff roles that are assigned to a case by name.
ASSIGNED = (CaseRole.JUDGE, CaseRole.CLERK, CaseRole.MEDIATOR)
STAFF_ROLES = frozenset({CaseRole.JUDGE, CaseRole.CLERK, CaseRole.MEDIATOR, CaseRole.ADMIN})
PARTY_SIDE = frozenset({CaseRole.PARTY, CaseRole.AGENT})
#: The roles a party of a case has; they are the hearing's roles of the
#: same name, so a hearing of the case seats each party as it is.
PARTY_ROLES = (Role.PLAINTIFF, Role.DEFENDANT, Role.AGENT)
PROCEDURES = ("ordinary", "simple")

CASE_ROLE_LABELS = {CaseRole.JUDGE: "承办法官", CaseRole.CLERK: "书记员", CaseRole.MEDIATOR: "调解员",
                    CaseRole.ADMIN: "法院管理员", CaseRole.PARTY: "当事人", CaseRole.AGENT: "代理人"}


@dataclass(frozen=True, slots=True)
class Party:
    """A party of the case, or an agent (代理人) who acts for one. The ID
    number and phone are the case record that identity checks are made
    against; no other party ever sees them."""
    party_id: str
    role: Role
    name: str
    id_number: str | None = None
    phone: str | None = None
    #: For an agent: the party it acts for (None: the agent of no one named).
    represents: str | None = None

    @property
    def participant_id(self) -> str:
        """The log's actor column: the party's id."""
        return self.party_id

    @property
    def case_role(self) -> CaseRole:
        return CaseRole.AGENT if self.role == Role.AGENT else CaseRole.PARTY

    @property
    def thread(self) -> str:
        """Whose conversation with the court this party writes in: its own,
        or, for an agent, the party it acts for."""
        return self.represents or self.party_id

    def as_participant(self) -> Participant:
        """The party as a signer or an author is labelled."""
        return Participant(self.party_id, self.role, self.name, Site.REMOTE)

    def label(self) -> dict[str, Any]:
        return {"party_id": self.party_id, "role": self.role.value, "name": self.name}

    def public(self) -> dict[str, Any]:
        """What every party of the case sees of this one."""
        d = self.label()
        if self.represents is not None:
            d["represents"] = self.represents
        return d

    def to_dict(self) -> dict[str, Any]:
        d = self.public()
        if self.id_number is not None:
            d["id_number"] = self.id_number
        if self.phone is not None:
            d["phone"] = self.phone
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Party:
        return cls(d["party_id"], Role(d["role"]), d["name"], d.get("id_number"), d.get("phone"),
                   d.get("represents"))


@dataclass(frozen=True, slots=True)
class Assigned:
    """A member of the court's staff assigned to the case."""
    staff_id: str
    name: str

    def to_dict(self) -> dict[str, Any]:
        return {"staff_id": self.staff_id, "name": self.name}


@dataclass(slots=True)
class CaseInfo:
    case_id: str
    case_number: str
    cause: str
    court: str
    #: 普通程序 or 简易程序: it sets the mediation's time limit.
    procedure: str = "ordinary"
    #: When the case was filed in the space (ms since the epoch).
    filed_ms: int = 0
    staff: dict[CaseRole, Assigned] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "case_number": self.case_number, "cause": self.cause,
                "court": self.court, "procedure": self.procedure, "filed_ms": self.filed_ms,
                "staff": {role.value: a.to_dict() for role, a in sorted(self.staff.items())}}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CaseInfo:
        return cls(d["case_id"], d["case_number"], d["cause"], d["court"], d.get("procedure", "ordinary"),
                   int(d.get("filed_ms", 0)),
                   {CaseRole(r): Assigned(a["staff_id"], a["name"]) for r, a in d.get("staff", {}).items()})


@dataclass(slots=True)
class Attachment:
    sha256: str
    name: str
    media_type: str
    size: int

    def to_dict(self) -> dict[str, Any]:
        return {"sha256": self.sha256, "name": self.name, "media_type": self.media_type, "size": self.size}


@dataclass(slots=True)
class Message:
    """One message in a party's conversation with the court (联系法官)."""
    id: str
    #: The party whose conversation it is in: only that party, its agents
    #: and the court see it.
    thread: str
    author: dict[str, Any]
    #: Whether the court wrote it (a reply), which the party may rate.
    from_court: bool
    text: str
    attachments: list[Attachment]
    ts_ms: int
    reply_to: str | None = None
    #: Who has read it, by actor id, and when (ms since the epoch).
    read: dict[str, int] = field(default_factory=dict)
    rating: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"id": self.id, "thread": self.thread, "author": self.author,
                             "from_court": self.from_court, "text": self.text,
                             "attachments": [a.to_dict() for a in self.attachments], "ts_ms": self.ts_ms,
                             "read": dict(sorted(self.read.items()))}
        if self.reply_to is not None:
            d["reply_to"] = self.reply_to
        if self.rating is not None:
            d["rating"] = self.rating
        return d


@dataclass(slots=True)
class Hearing:
    """A hearing of the case, scheduled from its space."""
    hearing_id: str
    start_ms: int | None
    #: Each party's participant id in the hearing.
    seats: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"hearing_id": self.hearing_id, "start_ms": self.start_ms, "seats": dict(sorted(self.seats.items()))}


#: The three questions of 质证, in the order a court asks them.
OPINION_ASPECTS = ("authenticity", "legality", "relevance")
ASPECT_LABELS = {"authenticity": "真实性", "legality": "合法性", "relevance": "关联性"}


@dataclass(slots=True)
class Opinion:
    """One side's 质证意见 on an evidence item: per aspect, whether it
    accepts it (认可) and, if not, why."""
    by: dict[str, Any]
    side: str
    aspects: dict[str, dict[str, Any]]
    ts_ms: int

    def to_dict(self) -> dict[str, Any]:
        return {"by": self.by, "side": self.side, "aspects": self.aspects, "ts_ms": self.ts_ms}


@dataclass(slots=True)
class ExhibitItem:
    """An evidence item filed in the case with its catalogue entry
    (证据目录: 名称, 来源, 证明目的, 页数), and the other sides' opinions."""
    id: str
    file: Attachment
    title: str
    source: str
    purpose: str
    pages: int
    filer: dict[str, Any]
    #: The side (conversation) of the party that filed it.
    side: str
    ts_ms: int
    opinions: dict[str, Opinion] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "file": self.file.to_dict(), "title": self.title, "source": self.source,
                "purpose": self.purpose, "pages": self.pages, "filer": self.filer, "side": self.side,
                "ts_ms": self.ts_ms, "opinions": [o.to_dict() for _, o in sorted(self.opinions.items())]}


@dataclass(slots=True)
class Served:
    """A document served on a party in its space (电子送达), with the times
    the proof of service is made from."""
    id: str
    party_id: str
    #: The conversation it is served into (the party's, seen by its agents).
    thread: str
    title: str
    doc_kind: str
    file: Attachment
    by: dict[str, Any]
    sent_ms: int
    #: When it reached the address the party confirmed (its space, once the
    #: party consented to service there); None until then.
    delivered_ms: int | None = None
    opened_ms: int | None = None
    acknowledged_ms: int | None = None

    @property
    def completed_ms(self) -> int | None:
        """When service was complete: the earliest of reaching the confirmed
        address and the party's 已阅知 receipt (Arts. 29–32; the earliest
        completed channel counts)."""
        times = [t for t in (self.delivered_ms, self.acknowledged_ms) if t is not None]
        return min(times) if times else None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "party_id": self.party_id, "thread": self.thread, "title": self.title,
                "doc_kind": self.doc_kind, "file": self.file.to_dict(), "by": self.by, "sent_ms": self.sent_ms,
                "delivered_ms": self.delivered_ms, "opened_ms": self.opened_ms,
                "acknowledged_ms": self.acknowledged_ms, "completed_ms": self.completed_ms}


@dataclass(slots=True)
class Mediation:
    """The case's online mediation: when it opened, the agreement drafted
    in it (调解协议), and its signing."""
    opened_ms: int
    by: dict[str, Any]
    text: str = ""
    rev: int = 0
    #: When every party had signed (the agreement took effect).
    effective_ms: int | None = None
    closed: dict[str, Any] | None = None
    #: Its video sessions (streams of the hearing's kind, ``kind: mediation``).
    sessions: list[Hearing] = field(default_factory=list)
