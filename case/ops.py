"""A case's ops: parsed from JSON and validated field by field, one parser
per kind (``parse_<kind>``; the table of kinds is ``case.state.OPS``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from transcript.errors import OpError
from transcript.fields import MAX_ID, fields, image, integer, text
from transcript.ops import stored_file
from transcript.roles import Role

from .model import ASSIGNED, OPINION_ASPECTS, PARTY_ROLES, PROCEDURES, Attachment, CaseRole

MAX_CASE_NUMBER = 64
MAX_CAUSE = 200
MAX_COURT = 100
MAX_NAME = 50
MAX_MESSAGE = 2_000
MAX_REASON = 500
MAX_ATTACHMENTS = 9
MAX_PARTIES = 50
#: Times (ms since the epoch) a case may name: up to the year 2100.
MAX_MS = 4_102_444_800_000

#: Why a party proves who it is: to enter the space, and again before each
#: of these (人民法院在线诉讼规则 Art. 7).
PURPOSES = ("entry", "exchange", "mediation", "hearing")
RATINGS = ("satisfied", "basically_satisfied", "unsatisfied")
RATING_LABELS = {"satisfied": "满意", "basically_satisfied": "基本满意", "unsatisfied": "不满意"}

_ID_NUMBER = re.compile(r"[0-9A-Za-z]{5,32}\Z")
_PHONE = re.compile(r"\+?[0-9][0-9 -]{4,19}\Z")
_STAFF_ID = re.compile(r"[a-z0-9][a-z0-9_.-]{0,31}\Z")


@dataclass(frozen=True, slots=True)
class NewParty:
    role: Role
    name: str
    id_number: str | None
    phone: str | None
    represents: str | None


@dataclass(frozen=True, slots=True)
class StaffAssign:
    role: CaseRole
    staff_id: str
    name: str


@dataclass(frozen=True, slots=True)
class IdentityCheck:
    purpose: str
    name: str
    id_number: str


@dataclass(frozen=True, slots=True)
class MessagePost:
    text: str
    thread: str | None
    attachments: tuple[Attachment, ...]
    reply_to: str | None


@dataclass(frozen=True, slots=True)
class MessageRead:
    message_id: str


@dataclass(frozen=True, slots=True)
class MessageRate:
    message_id: str
    rating: str
    reason: str | None


@dataclass(frozen=True, slots=True)
class HearingSchedule:
    hearing_id: str
    start_ms: int | None
    #: Each party's participant id in the hearing (the hub seats them).
    seats: dict[str, str]


@dataclass(frozen=True, slots=True)
class CaseClose:
    pass


def name(value: Any, field_name: str = "name") -> str:
    return text(value, field_name, MAX_NAME).strip()


def id_number(value: Any) -> str:
    if not isinstance(value, str) or not _ID_NUMBER.match(value.strip()):
        raise OpError("invalid", "id_number must be 5 to 32 letters or digits")
    return value.strip().upper()


def staff_id(value: Any) -> str:
    if not isinstance(value, str) or not _STAFF_ID.match(value):
        raise OpError("invalid", "staff_id must be 1 to 32 lowercase letters, digits, '_', '.' or '-'")
    return value


def new_party(d: Any) -> NewParty:
    """One party as a case names it: ``{role, name, id_number?, phone?,
    represents?}`` (``represents``: the party_id an agent acts for)."""
    if not isinstance(d, dict):
        raise OpError("invalid", "a party must be an object")
    fields(d, ("role", "name"), ("id_number", "phone", "represents"))
    if d["role"] not in PARTY_ROLES:
        raise OpError("invalid", f"a party's role must be one of {', '.join(r.value for r in PARTY_ROLES)}")
    phone = d.get("phone")
    if phone is not None and (not isinstance(phone, str) or not _PHONE.match(phone.strip())):
        raise OpError("invalid", "phone must be 5 to 20 digits")
    represents = d.get("represents")
    if represents is not None:
        if d["role"] != Role.AGENT:
            raise OpError("invalid", "only an agent represents another party")
        represents = text(represents, "represents", MAX_ID)
    return NewParty(Role(d["role"]), name(d["name"]), None if d.get("id_number") is None else id_number(d["id_number"]),
                    None if phone is None else phone.strip(), represents)


def epoch_ms(value: Any, field_name: str) -> int:
    ms = integer(value, field_name, 0)
    if ms > MAX_MS:
        raise OpError("invalid", f"{field_name} is out of range")
    return ms


def parse_party_add(op: dict[str, Any]) -> NewParty:
    return new_party({k: v for k, v in op.items() if k != "kind"})


def parse_staff_assign(op: dict[str, Any]) -> StaffAssign:
    fields(op, ("role", "staff_id", "name"), ())
    if op["role"] not in [r.value for r in ASSIGNED]:
        raise OpError("invalid", f"role must be one of {', '.join(r.value for r in ASSIGNED)}")
    return StaffAssign(CaseRole(op["role"]), staff_id(op["staff_id"]), name(op["name"]))


def parse_identity_check(op: dict[str, Any]) -> IdentityCheck:
    fields(op, ("purpose", "name", "id_number"), ())
    if op["purpose"] not in PURPOSES:
        raise OpError("invalid", f"purpose must be one of {', '.join(PURPOSES)}")
    return IdentityCheck(op["purpose"], name(op["name"]), id_number(op["id_number"]))


def attachments(value: Any) -> tuple[Attachment, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise OpError("invalid", "attachments must be a list")
    if len(value) > MAX_ATTACHMENTS:
        raise OpError("too_large", f"at most {MAX_ATTACHMENTS} attachments")
    out = []
    for a in value:
        if not isinstance(a, dict):
            raise OpError("invalid", "an attachment is {sha256, name, media_type, size}")
        fields(a, ("sha256", "name", "media_type", "size"), ())
        f = stored_file(a)
        out.append(Attachment(f.sha256, f.name, f.media_type, f.size))
    return tuple(out)


def parse_message_post(op: dict[str, Any]) -> MessagePost:
    fields(op, ("text",), ("thread", "attachments", "reply_to"))
    body = text(op["text"], "text", MAX_MESSAGE, empty=bool(op.get("attachments")))
    thread = op.get("thread")
    reply_to = op.get("reply_to")
    return MessagePost(body, None if thread is None else text(thread, "thread", MAX_ID),
                       attachments(op.get("attachments")),
                       None if reply_to is None else text(reply_to, "reply_to", MAX_ID))


def parse_message_read(op: dict[str, Any]) -> MessageRead:
    fields(op, ("message_id",), ())
    return MessageRead(text(op["message_id"], "message_id", MAX_ID))


def parse_message_rate(op: dict[str, Any]) -> MessageRate:
    fields(op, ("message_id", "rating"), ("reason",))
    if op["rating"] not in RATINGS:
        raise OpError("invalid", f"rating must be one of {', '.join(RATINGS)}")
    reason = op.get("reason")
    return MessageRate(text(op["message_id"], "message_id", MAX_ID), op["rating"],
                       None if reason is None or reason == "" else text(reason, "reason", MAX_REASON))


def parse_hearing_schedule(op: dict[str, Any]) -> HearingSchedule:
    fields(op, ("hearing_id",), ("start_ms", "seats"))
    start = op.get("start_ms")
    seats = op.get("seats", {})
    if not isinstance(seats, dict) or len(seats) > MAX_PARTIES:
        raise OpError("invalid", "seats must map party ids to participant ids")
    return HearingSchedule(text(op["hearing_id"], "hearing_id", MAX_ID),
                           None if start is None else epoch_ms(start, "start_ms"),
                           {text(k, "party id", MAX_ID): text(v, "participant id", MAX_ID) for k, v in seats.items()})


def parse_case_close(op: dict[str, Any]) -> CaseClose:
    fields(op, (), ())
    return CaseClose()


@dataclass(frozen=True, slots=True)
class NewCase:
    case_number: str
    cause: str
    court: str
    procedure: str
    parties: tuple[NewParty, ...]


def new_case(body: Any) -> NewCase:
    """A case as the court's case-management system or the staff console
    files it: ``{case_number, cause, court, procedure?, parties: [...]}``;
    an agent's ``represents`` names a party by its index in ``parties``
    (``"0"``, ``"1"``…), since none has an id yet."""
    if not isinstance(body, dict):
        raise OpError("invalid", "a case must be an object")
    fields(body, ("case_number", "cause", "court", "parties"), ("procedure",))
    procedure = body.get("procedure", "ordinary")
    if procedure not in PROCEDURES:
        raise OpError("invalid", f"procedure must be one of {', '.join(PROCEDURES)}")
    parties = body["parties"]
    if not isinstance(parties, list) or not parties:
        raise OpError("invalid", "parties must be a non-empty list")
    if len(parties) > MAX_PARTIES:
        raise OpError("too_large", f"a case has at most {MAX_PARTIES} parties")
    out = tuple(new_party(p) for p in parties)
    for i, p in enumerate(out):
        if p.represents is not None and not (p.represents.isdigit() and int(p.represents) < i
                                             and out[int(p.represents)].role != Role.AGENT):
            raise OpError("invalid", "an agent's represents must be the index of a party before it in parties")
    if not any(p.role != Role.AGENT for p in out):
        raise OpError("invalid", "a case needs a party besides agents")
    return NewCase(text(body["case_number"], "case_number", MAX_CASE_NUMBER).strip(),
                   text(body["cause"], "cause", MAX_CAUSE).strip(), text(body["court"], "court", MAX_COURT).strip(),
                   procedure, out)


MAX_TITLE = 200
MAX_TEXT = 20_000
MAX_PAGES = 10_000
DOC_KINDS = ("summons", "notice", "judgment", "ruling", "mediation", "other")
DOC_KIND_LABELS = {"summons": "传票", "notice": "通知书", "judgment": "判决书", "ruling": "裁定书",
                   "mediation": "调解书", "other": "其他文书"}


@dataclass(frozen=True, slots=True)
class ExchangeOpen:
    deadline_ms: int | None


@dataclass(frozen=True, slots=True)
class EvidenceFile:
    file: Attachment
    title: str
    source: str
    purpose: str
    pages: int


@dataclass(frozen=True, slots=True)
class EvidenceOpinion:
    evidence_id: str
    aspects: dict[str, dict[str, Any]]


@dataclass(frozen=True, slots=True)
class ServiceConsent:
    pass


@dataclass(frozen=True, slots=True)
class DocumentServe:
    party_id: str
    title: str
    doc_kind: str
    file: Attachment


@dataclass(frozen=True, slots=True)
class DocumentRef:
    document_id: str


@dataclass(frozen=True, slots=True)
class MediationOpen:
    pass


@dataclass(frozen=True, slots=True)
class AgreementDraft:
    text: str
    base_rev: int


@dataclass(frozen=True, slots=True)
class AgreementFreeze:
    base_rev: int


@dataclass(frozen=True, slots=True)
class AgreementSign:
    image: str | None
    fingerprint: str | None


@dataclass(frozen=True, slots=True)
class MediationClose:
    outcome: str


def _file(op: dict[str, Any]) -> Attachment:
    f = stored_file(op)
    return Attachment(f.sha256, f.name, f.media_type, f.size)


def parse_exchange_open(op: dict[str, Any]) -> ExchangeOpen:
    fields(op, (), ("deadline_ms",))
    deadline = op.get("deadline_ms")
    return ExchangeOpen(None if deadline is None else epoch_ms(deadline, "deadline_ms"))


def parse_evidence_file(op: dict[str, Any]) -> EvidenceFile:
    fields(op, ("sha256", "name", "media_type", "size", "title", "source", "purpose", "pages"), ())
    pages = integer(op["pages"], "pages", 1)
    if pages > MAX_PAGES:
        raise OpError("invalid", f"pages must be at most {MAX_PAGES}")
    return EvidenceFile(_file(op), text(op["title"], "title", MAX_TITLE).strip(),
                        text(op["source"], "source", MAX_TITLE).strip(),
                        text(op["purpose"], "purpose", MAX_REASON).strip(), pages)


def parse_evidence_opinion(op: dict[str, Any]) -> EvidenceOpinion:
    fields(op, ("evidence_id",) + OPINION_ASPECTS, ())
    aspects = {}
    for aspect in OPINION_ASPECTS:
        value = op[aspect]
        if not isinstance(value, dict):
            raise OpError("invalid", f"{aspect} must be {{agree, reason?}}")
        fields(value, ("agree",), ("reason",))
        if not isinstance(value["agree"], bool):
            raise OpError("invalid", f"{aspect}.agree must be true or false")
        reason = value.get("reason")
        if not value["agree"] and (reason is None or not str(reason).strip()):
            raise OpError("invalid", f"{aspect}: disagreeing (不认可) needs a reason")
        aspects[aspect] = {"agree": value["agree"],
                           **({"reason": text(reason, f"{aspect}.reason", MAX_REASON).strip()} if reason else {})}
    return EvidenceOpinion(text(op["evidence_id"], "evidence_id", MAX_ID), aspects)


def parse_service_consent(op: dict[str, Any]) -> ServiceConsent:
    fields(op, (), ())
    return ServiceConsent()


def parse_document_serve(op: dict[str, Any]) -> DocumentServe:
    fields(op, ("party_id", "title", "doc_kind", "sha256", "name", "media_type", "size"), ())
    if op["doc_kind"] not in DOC_KINDS:
        raise OpError("invalid", f"doc_kind must be one of {', '.join(DOC_KINDS)}")
    file = _file(op)
    if file.media_type != "application/pdf":
        raise OpError("invalid", "a served document is a PDF")
    return DocumentServe(text(op["party_id"], "party_id", MAX_ID), text(op["title"], "title", MAX_TITLE).strip(),
                         op["doc_kind"], file)


def parse_document_ref(op: dict[str, Any]) -> DocumentRef:
    fields(op, ("document_id",), ())
    return DocumentRef(text(op["document_id"], "document_id", MAX_ID))


def parse_mediation_open(op: dict[str, Any]) -> MediationOpen:
    fields(op, (), ())
    return MediationOpen()


def parse_agreement_draft(op: dict[str, Any]) -> AgreementDraft:
    fields(op, ("text", "base_rev"), ())
    return AgreementDraft(text(op["text"], "text", MAX_TEXT), integer(op["base_rev"], "base_rev", 0))


def parse_agreement_freeze(op: dict[str, Any]) -> AgreementFreeze:
    fields(op, ("base_rev",), ())
    return AgreementFreeze(integer(op["base_rev"], "base_rev", 1))


def parse_agreement_sign(op: dict[str, Any]) -> AgreementSign:
    fields(op, (), ("image", "fingerprint"))
    sig = AgreementSign(image(op.get("image"), "image"), image(op.get("fingerprint"), "fingerprint"))
    if sig.image is None and sig.fingerprint is None:
        raise OpError("invalid", "a signature needs an image or a fingerprint")
    return sig


OUTCOMES = ("agreed", "failed", "withdrawn")


def parse_mediation_close(op: dict[str, Any]) -> MediationClose:
    fields(op, ("outcome",), ())
    if op["outcome"] not in OUTCOMES:
        raise OpError("invalid", f"outcome must be one of {', '.join(OUTCOMES)}")
    return MediationClose(op["outcome"])


@dataclass(frozen=True, slots=True)
class HearingJoin:
    hearing_id: str


def parse_hearing_join(op: dict[str, Any]) -> HearingJoin:
    fields(op, ("hearing_id",), ())
    return HearingJoin(text(op["hearing_id"], "hearing_id", MAX_ID))


@dataclass(frozen=True, slots=True)
class PartySignout:
    party_id: str


def parse_party_signout(op: dict[str, Any]) -> PartySignout:
    fields(op, ("party_id",), ())
    return PartySignout(text(op["party_id"], "party_id", MAX_ID))


def parse_mediation_session(op: dict[str, Any]) -> HearingSchedule:
    fields(op, ("hearing_id", "seats"), ())
    return parse_hearing_schedule(op)
