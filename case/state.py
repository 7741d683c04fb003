"""One case's space as a pure state machine, beside the hearing's
(``transcript.state``) and built the same way.

``apply(actor, op, now_ms)`` either returns the one event the op produced
(and the state has changed) or raises ``OpError`` (and nothing has
changed). ``now_ms`` is the time the hub stamps on the op's log entry; it
is an input like the op, so replaying the log gives the same state and the
same events, byte for byte. Who may send which op, and what a party must
have proved first, is said once per kind in ``OPS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from transcript.actors import STAFF_PREFIX, SYSTEM, staff
from transcript.errors import OpError, shown
from transcript.fields import kind_of
from transcript.model import Staff

from transcript.canonical import canonical_json, sha256_hex
from transcript.signed import SignedDocument

from . import ops
from .model import (ASSIGNED, PARTY_SIDE, STAFF_ROLES, Assigned, CaseInfo, CaseRole, ExhibitItem, Hearing, Mediation,
                    Message, Opinion, Party, Served)
from .ops import (AgreementDraft, AgreementFreeze, AgreementSign, CaseClose, DocumentRef, DocumentServe,
                  EvidenceFile, EvidenceOpinion, ExchangeOpen, HearingJoin, HearingSchedule, IdentityCheck, MediationClose,
                  MediationOpen, MessagePost, MessageRate, MessageRead, NewParty, PartySignout, ServiceConsent,
                  StaffAssign)

Event = dict[str, Any]
#: Op kind of the entry that creates a case (written by the hub).
CREATE_KIND = "case.create"
#: Who acts on a case: court staff, or one of its parties.
CaseActor = Staff | Party


def create_op(info: CaseInfo, parties: tuple[NewParty, ...]) -> dict[str, Any]:
    """The op of a case's first log entry: the case and its parties (as
    ``ops.new_case`` gives them: an agent names the party it acts for by
    its index, which becomes that party's id, ``P<index + 1>``)."""
    return {"kind": CREATE_KIND, "case": info.to_dict(),
            "parties": [{"role": p.role.value, "name": p.name,
                         **({"id_number": p.id_number} if p.id_number else {}),
                         **({"phone": p.phone} if p.phone else {}),
                         **({"represents": f"P{int(p.represents) + 1}"} if p.represents else {})}
                        for p in parties]}


class CaseState:
    def __init__(self) -> None:
        self.info: CaseInfo | None = None
        self.parties: dict[str, Party] = {}
        self.messages: dict[str, Message] = {}
        self.hearings: list[Hearing] = []
        #: When each party last proved who it is, per purpose (ms).
        self.verified: dict[str, dict[str, int]] = {}
        #: Evidence exchange: whether open, its deadline for opinions, the items.
        self.exchange: dict[str, Any] | None = None
        self.exhibits: dict[str, ExhibitItem] = {}
        #: Who consented to service in the space (电子送达地址确认), and when.
        self.consents: dict[str, int] = {}
        self.served: dict[str, Served] = {}
        self.mediation: Mediation | None = None
        #: The mediation agreement as signed: frozen, then signed by each party.
        self.agreement = SignedDocument()
        self.closed = False
        self._next_party = 1
        self._next_message = 1
        self._next_exhibit = 1
        self._next_document = 1

    # -- creation -------------------------------------------------------

    def create(self, op: dict[str, Any], now_ms: int) -> Event:
        if self.info is not None:
            raise OpError("conflict", "case already created")
        info = CaseInfo.from_dict(op["case"])
        parties = [ops.new_party(p) for p in op["parties"]]
        if not parties:
            raise OpError("invalid", "a case needs parties")
        self.info = info
        added = [self._add_party(p) for p in parties]
        return {"kind": "case.created", "case": info.to_dict(), "parties": [p.to_dict() for p in added]}

    def _add_party(self, new: NewParty) -> Party:
        if new.represents is not None and new.represents not in self.parties:
            raise OpError("not_found", f"no party {shown(new.represents)} in this case")
        if len(self.parties) >= ops.MAX_PARTIES:
            raise OpError("too_large", f"a case has at most {ops.MAX_PARTIES} parties")
        party = Party(f"P{self._next_party}", new.role, new.name, new.id_number, new.phone, new.represents)
        self._next_party += 1
        self.parties[party.party_id] = party
        return party

    # -- who is acting ----------------------------------------------------

    def role_of(self, actor: CaseActor) -> CaseRole:
        """The capacity ``actor`` acts in on this case, or ``forbidden``."""
        assert self.info is not None
        if isinstance(actor, Staff):
            if actor.role == "admin":
                return CaseRole.ADMIN
            try:
                role = CaseRole(actor.role)
            except ValueError:
                raise OpError("forbidden", "not court staff of this case") from None
            assigned = self.info.staff.get(role)
            if role not in ASSIGNED or assigned is None or assigned.staff_id != actor.staff_id:
                raise OpError("forbidden", f"not the {role.value} of this case")
            return role
        if self.parties.get(actor.party_id) != actor:
            raise OpError("forbidden", "not a party of this case")
        return actor.case_role

    def staff_label(self, actor: Staff) -> dict[str, Any]:
        """How court staff are shown: under the name the case gives them, or,
        for an administrator, as the log's actor column alone names them
        (an account's display name is not in the log, and replay must give
        the same event)."""
        for role, assigned in self.info.staff.items() if self.info else ():
            if role.value == actor.role and assigned.staff_id == actor.staff_id:
                return {"staff_id": actor.staff_id, "name": assigned.name, "role": role.value}
        logged = staff(actor.participant_id[len(STAFF_PREFIX):])
        return {"staff_id": logged.staff_id, "name": logged.name, "role": logged.role}

    def label(self, actor: CaseActor) -> dict[str, Any]:
        return self.staff_label(actor) if isinstance(actor, Staff) else actor.label()

    def party(self, party_id: str) -> Party:
        try:
            return self.parties[party_id]
        except KeyError:
            raise OpError("not_found", f"no party {shown(party_id)} in this case") from None

    # -- ops --------------------------------------------------------------

    def apply(self, actor: CaseActor, raw_op: Any, now_ms: int) -> Event:
        """Apply an op of ``actor`` at ``now_ms``; return its event."""
        # Who may send it is judged first: a refused sender learns nothing
        # of what else the case would have said about the op.
        kind, spec = kind_of(raw_op, OPS)
        self.check(actor, kind)
        return spec.handle(self, actor, spec.parse(raw_op), now_ms)

    def check(self, actor: CaseActor, kind: str) -> None:
        """Whether ``actor`` may send an op of ``kind`` now (whatever its
        fields): ``OpError`` if not. The hub asks before work that must
        precede the op (creating the hearing an op schedules)."""
        if self.info is None:
            raise OpError("not_found", "case not created")
        spec = OPS[kind]
        role = self.role_of(actor)
        if role not in spec.roles:
            raise OpError("forbidden", f"a {role.value} may not {kind}")
        if self.closed and not spec.after_close:
            raise OpError("conflict", "the case is closed")
        if isinstance(actor, Party) and spec.proof is not None:
            proved = self.verified.get(actor.party_id, {})
            # Any check proves who one is for entering the space; mediation,
            # evidence exchange and hearings each ask again (Art. 7).
            if not (proved if spec.proof == "entry" else spec.proof in proved):
                raise OpError("forbidden", f"identity check needed first ({spec.proof})", needs=spec.proof)

    def apply_logged(self, actor_id: str, op: dict[str, Any], ts_ms: int = 0) -> Event:
        """Apply one logged op as its actor column names the author."""
        if actor_id == SYSTEM and op.get("kind") == CREATE_KIND:
            return self.create(op, ts_ms)
        if actor_id.startswith(STAFF_PREFIX):
            return self.apply(staff(actor_id[len(STAFF_PREFIX):]), op, ts_ms)
        return self.apply(self.party(actor_id), op, ts_ms)

    def _party_add(self, actor: CaseActor, op: NewParty, now_ms: int) -> Event:
        party = self._add_party(op)
        return {"kind": "party.added", "party": party.to_dict(), "by": self.label(actor)}

    def _party_signout(self, actor: CaseActor, op: PartySignout, now_ms: int) -> Event:
        """The court signs a party's devices out of the space (a lost phone):
        the party enters again with a new entry link and its identity."""
        party = self.party(op.party_id)
        return {"kind": "party.signed_out", "party": party.label(), "by": self.label(actor), "ts_ms": now_ms}

    def _staff_assign(self, actor: CaseActor, op: StaffAssign, now_ms: int) -> Event:
        assert self.info is not None
        self.info.staff[op.role] = Assigned(op.staff_id, op.name)
        return {"kind": "staff.assigned", "role": op.role.value, "staff": self.info.staff[op.role].to_dict(),
                "by": self.label(actor)}

    def _identity_check(self, actor: CaseActor, op: IdentityCheck, now_ms: int) -> Event:
        assert isinstance(actor, Party)
        if actor.id_number is None:
            raise OpError("invalid", "the court has no ID number on record for this party; ask the court")
        if op.name != actor.name or op.id_number != actor.id_number:
            raise OpError("forbidden", "the name or ID number does not match the case record")
        self.verified.setdefault(actor.party_id, {})[op.purpose] = now_ms
        return {"kind": "identity.verified", "thread": actor.thread, "party": actor.label(),
                "purpose": op.purpose, "ts_ms": now_ms}

    def _message_post(self, actor: CaseActor, op: MessagePost, now_ms: int) -> Event:
        from_court = isinstance(actor, Staff)
        if from_court:
            if op.thread is None:
                raise OpError("invalid", "the court writes in a party's conversation: name its thread")
            thread = self.party(op.thread).thread
        else:
            assert isinstance(actor, Party)
            if op.thread is not None and op.thread != actor.thread:
                raise OpError("forbidden", "a party writes only in its own conversation with the court")
            thread = actor.thread
        if op.reply_to is not None:
            replied = self._message(op.reply_to)
            if replied.thread != thread:
                raise OpError("invalid", "a reply stays in the conversation it answers")
        message = Message(f"M{self._next_message}", thread, self.label(actor), from_court, op.text,
                          list(op.attachments), now_ms, op.reply_to)
        self._next_message += 1
        self.messages[message.id] = message
        return {"kind": "message.posted", "thread": thread, "message": message.to_dict()}

    def _message(self, message_id: str) -> Message:
        message = self.messages.get(message_id)
        if message is None:
            raise OpError("not_found", f"no message {shown(message_id)}")
        return message

    def _seen_message(self, actor: CaseActor, message_id: str) -> Message:
        """A message ``actor`` may see: a party only those of its own
        conversation (another's is as if it did not exist)."""
        message = self._message(message_id)
        if isinstance(actor, Party) and message.thread != actor.thread:
            raise OpError("not_found", f"no message {shown(message_id)}")
        return message

    def _message_read(self, actor: CaseActor, op: MessageRead, now_ms: int) -> Event:
        """Read up to a message: it and every earlier one of the other side
        (the court's, for a party; the party's, for the court) in the same
        conversation that the reader had not read yet."""
        message = self._seen_message(actor, op.message_id)
        reader = self.label(actor)
        key = actor.participant_id
        court = isinstance(actor, Staff)
        if message.author == reader or message.from_court == court:
            raise OpError("invalid", "one marks the other side's messages read, not one's own side's")
        marked = []
        for m in self.messages.values():
            if m.thread == message.thread and m.from_court != court and key not in m.read:
                m.read[key] = now_ms
                marked.append(m.id)
            if m is message:
                break
        if not marked:
            raise OpError("conflict", "already read")
        return {"kind": "message.read", "thread": message.thread, "message_id": message.id, "message_ids": marked,
                "reader": reader, "ts_ms": now_ms}

    def _message_rate(self, actor: CaseActor, op: MessageRate, now_ms: int) -> Event:
        message = self._seen_message(actor, op.message_id)
        if not message.from_court:
            raise OpError("invalid", "only the court's replies are rated")
        if message.rating is not None:
            raise OpError("conflict", "this reply has been rated")
        message.rating = {"rating": op.rating, "by": self.label(actor), "ts_ms": now_ms,
                          **({"reason": op.reason} if op.reason else {})}
        return {"kind": "message.rated", "thread": message.thread, "message_id": message.id,
                "rating": message.rating}

    # -- evidence exchange and 质证 ------------------------------------------------

    def _exchange_open(self, actor: CaseActor, op: ExchangeOpen, now_ms: int) -> Event:
        if op.deadline_ms is not None and op.deadline_ms <= now_ms:
            raise OpError("invalid", "the deadline must lie in the future")
        self.exchange = {"opened_ms": self.exchange["opened_ms"] if self.exchange else now_ms,
                         "deadline_ms": op.deadline_ms, "by": self.label(actor)}
        return {"kind": "exchange.opened", "exchange": dict(self.exchange)}

    def _evidence_file(self, actor: CaseActor, op: EvidenceFile, now_ms: int) -> Event:
        assert isinstance(actor, Party)
        item = ExhibitItem(f"E{self._next_exhibit}", op.file, op.title, op.source, op.purpose, op.pages,
                           actor.label(), actor.thread, now_ms)
        self._next_exhibit += 1
        self.exhibits[item.id] = item
        return {"kind": "evidence.filed", "evidence": item.to_dict()}

    def _evidence_opinion(self, actor: CaseActor, op: EvidenceOpinion, now_ms: int) -> Event:
        assert isinstance(actor, Party)
        item = self.exhibits.get(op.evidence_id)
        if item is None:
            raise OpError("not_found", f"no evidence {shown(op.evidence_id)}")
        if item.side == actor.thread:
            raise OpError("invalid", "a side gives its opinion on the other side's evidence, not its own")
        if self.exchange is None:
            raise OpError("invalid", "the judge has not opened the evidence exchange")
        deadline = self.exchange.get("deadline_ms")
        if deadline is not None and now_ms > deadline:
            raise OpError("conflict", "the deadline for opinions has passed")
        if actor.thread in item.opinions:
            raise OpError("conflict", "this side has given its opinion on this item")
        opinion = Opinion(actor.label(), actor.thread, op.aspects, now_ms)
        item.opinions[actor.thread] = opinion
        return {"kind": "evidence.opinion", "evidence_id": item.id, "opinion": opinion.to_dict()}

    # -- electronic service (电子送达) --------------------------------------------------

    def _service_consent(self, actor: CaseActor, op: ServiceConsent, now_ms: int) -> Event:
        assert isinstance(actor, Party)
        if actor.party_id in self.consents:
            raise OpError("conflict", "already consented")
        self.consents[actor.party_id] = now_ms
        delivered = []
        for doc in self.served.values():
            if doc.party_id == actor.party_id and doc.delivered_ms is None:
                doc.delivered_ms = now_ms
                delivered.append(doc.id)
        return {"kind": "service.consented", "thread": actor.thread, "party": actor.label(), "ts_ms": now_ms,
                "delivered": delivered}

    def _document_serve(self, actor: CaseActor, op: DocumentServe, now_ms: int) -> Event:
        party = self.party(op.party_id)
        if party.role.value == "agent" and party.represents is not None:
            raise OpError("invalid", "documents are served on the party, not on its agent")
        doc = Served(f"D{self._next_document}", party.party_id, party.thread, op.title, op.doc_kind, op.file,
                     self.label(actor), now_ms, now_ms if party.party_id in self.consents else None)
        self._next_document += 1
        self.served[doc.id] = doc
        return {"kind": "document.served", "thread": doc.thread, "document": doc.to_dict()}

    def _served_to(self, actor: CaseActor, document_id: str) -> Served:
        doc = self.served.get(document_id)
        if doc is None or (isinstance(actor, Party) and doc.thread != actor.thread):
            raise OpError("not_found", f"no document {shown(document_id)}")
        return doc

    def _document_open(self, actor: CaseActor, op: DocumentRef, now_ms: int) -> Event:
        doc = self._served_to(actor, op.document_id)
        if doc.opened_ms is not None:
            raise OpError("conflict", "already opened")
        doc.opened_ms = now_ms
        return {"kind": "document.opened", "thread": doc.thread, "document": doc.to_dict(), "by": self.label(actor)}

    def _document_acknowledge(self, actor: CaseActor, op: DocumentRef, now_ms: int) -> Event:
        doc = self._served_to(actor, op.document_id)
        if doc.acknowledged_ms is not None:
            raise OpError("conflict", "already acknowledged")
        doc.acknowledged_ms = now_ms
        doc.opened_ms = doc.opened_ms or now_ms
        return {"kind": "document.acknowledged", "thread": doc.thread, "document": doc.to_dict(),
                "by": self.label(actor)}

    # -- mediation ----------------------------------------------------------------------

    def _mediation_open(self, actor: CaseActor, op: MediationOpen, now_ms: int) -> Event:
        if self.mediation is not None and self.mediation.closed is None:
            raise OpError("conflict", "a mediation is open")
        if self.mediation is not None:
            raise OpError("conflict", "the case's mediation has ended")
        self.mediation = Mediation(now_ms, self.label(actor))
        return {"kind": "mediation.opened", "mediation": self.mediation_view()}

    def open_mediation(self) -> Mediation:
        if self.mediation is None or self.mediation.closed is not None:
            raise OpError("invalid", "no mediation is open")
        return self.mediation

    def _agreement_draft(self, actor: CaseActor, op: AgreementDraft, now_ms: int) -> Event:
        mediation = self.open_mediation()
        if self.agreement.frozen:
            raise OpError("locked", "the agreement is out for signing; it no longer changes")
        if op.base_rev != mediation.rev:
            raise OpError("conflict", f"the draft is at rev {mediation.rev}, not {op.base_rev}", rev=mediation.rev,
                          text=mediation.text)
        mediation.text, mediation.rev = op.text, mediation.rev + 1
        return {"kind": "agreement.drafted", "text": mediation.text, "rev": mediation.rev, "by": self.label(actor)}

    def agreement_content(self) -> dict[str, Any]:
        """What the parties sign: the case, the agreement's text, and who
        must sign it; its hash is what each signature is bound to."""
        assert self.info is not None and self.mediation is not None
        return {"case_id": self.info.case_id, "case_number": self.info.case_number, "text": self.mediation.text,
                "rev": self.mediation.rev, "signers": [p.label() for p in self.signers()]}

    def signers(self) -> list[Party]:
        """Who signs a mediation agreement: every party (agents do not)."""
        return [p for p in self.parties.values() if p.case_role == CaseRole.PARTY]

    def _agreement_freeze(self, actor: CaseActor, op: AgreementFreeze, now_ms: int) -> Event:
        mediation = self.open_mediation()
        if op.base_rev != mediation.rev:
            raise OpError("conflict", f"the draft is at rev {mediation.rev}, not {op.base_rev}", rev=mediation.rev)
        if not mediation.text.strip():
            raise OpError("invalid", "the agreement has no text")
        self.agreement.freeze(sha256_hex(canonical_json(self.agreement_content())))
        return {"kind": "agreement.frozen", "hash": self.agreement.content_hash, "rev": mediation.rev,
                "by": self.label(actor)}

    def _agreement_sign(self, actor: CaseActor, op: AgreementSign, now_ms: int) -> Event:
        assert isinstance(actor, Party) and self.mediation is not None
        self.open_mediation()
        signature = self.agreement.sign(actor.as_participant(), op.image, op.fingerprint,
                                        "the agreement can be signed once the mediator sends it for signing")
        event: Event = {"kind": "agreement.signed", "signature": {**signature.to_dict(), "ts_ms": now_ms}}
        if all(p.party_id in self.agreement.signatures for p in self.signers()):
            self.mediation.effective_ms = now_ms
            event["effective_ms"] = now_ms
        return event

    def _mediation_close(self, actor: CaseActor, op: MediationClose, now_ms: int) -> Event:
        mediation = self.open_mediation()
        if op.outcome == "agreed" and mediation.effective_ms is None:
            raise OpError("invalid", "the agreement is not signed by every party")
        if op.outcome != "agreed" and mediation.effective_ms is not None:
            raise OpError("invalid", "the agreement has taken effect: the mediation ended in agreement")
        mediation.closed = {"outcome": op.outcome, "ts_ms": now_ms, "by": self.label(actor)}
        return {"kind": "mediation.closed", "mediation": self.mediation_view()}

    def mediation_deadline_ms(self) -> int | None:
        """The mediation's time limit: 15 days after filing, 7 under simple
        procedure (人民法院在线调解规则 Art. 24)."""
        if self.info is None:
            return None
        days = 7 if self.info.procedure == "simple" else 15
        return self.info.filed_ms + days * 24 * 3600 * 1000

    def mediation_view(self) -> dict[str, Any] | None:
        m = self.mediation
        if m is None:
            return None
        return {"opened_ms": m.opened_ms, "by": m.by, "text": m.text, "rev": m.rev,
                "deadline_ms": self.mediation_deadline_ms(), "hash": self.agreement.content_hash,
                "signatures": [s.to_dict() for s in self.agreement.signatures.values()],
                "signers": [p.label() for p in self.signers()], "effective_ms": m.effective_ms, "closed": m.closed,
                "sessions": [h.to_dict() for h in m.sessions]}

    def _hearing_schedule(self, actor: CaseActor, op: HearingSchedule, now_ms: int) -> Event:
        if any(h.hearing_id == op.hearing_id for h in self.hearings):
            raise OpError("conflict", "hearing already scheduled")
        for party_id in op.seats:
            self.party(party_id)
        hearing = Hearing(op.hearing_id, op.start_ms, dict(op.seats))
        self.hearings.append(hearing)
        return {"kind": "hearing.scheduled", "hearing": hearing.to_dict(), "by": self.label(actor)}

    def _hearing_join(self, actor: CaseActor, op: HearingJoin, now_ms: int) -> Event:
        """A party goes from its space into a hearing of the case (the hub
        then gives it that hearing's link): only a hearing it is seated in."""
        return self._join(actor, op.hearing_id, self.hearings, "hearing.joined", now_ms)

    def _join(self, actor: CaseActor, hearing_id: str, sittings: list[Hearing], kind: str, now_ms: int) -> Event:
        assert isinstance(actor, Party)
        hearing = next((h for h in sittings if h.hearing_id == hearing_id), None)
        if hearing is None or actor.party_id not in hearing.seats:
            raise OpError("not_found", f"no sitting {shown(hearing_id)} of this case for this party")
        return {"kind": kind, "thread": actor.thread, "party": actor.label(),
                "hearing_id": hearing.hearing_id, "participant_id": hearing.seats[actor.party_id], "ts_ms": now_ms}

    def _mediation_session(self, actor: CaseActor, op: HearingSchedule, now_ms: int) -> Event:
        """A video session of the open mediation (the hub made its stream)."""
        mediation = self.open_mediation()
        for party_id in op.seats:
            self.party(party_id)
        session = Hearing(op.hearing_id, now_ms, dict(op.seats))
        mediation.sessions.append(session)
        return {"kind": "mediation.session", "session": session.to_dict(), "by": self.label(actor)}

    def _mediation_join(self, actor: CaseActor, op: HearingJoin, now_ms: int) -> Event:
        sessions = self.mediation.sessions if self.mediation is not None and self.mediation.closed is None else []
        return self._join(actor, op.hearing_id, sessions, "mediation.joined", now_ms)

    def _case_close(self, actor: CaseActor, op: CaseClose, now_ms: int) -> Event:
        self.closed = True
        return {"kind": "case.closed", "ts_ms": now_ms, "by": self.label(actor)}

    # -- reading ------------------------------------------------------------

    def files(self) -> list[tuple[str, str]]:
        """Every stored file the case refers to: (what it is, SHA-256)."""
        return ([(f"attachment {a.name} of message {m.id}", a.sha256)
                 for m in self.messages.values() for a in m.attachments]
                + [(f"evidence {e.id} ({e.title})", e.file.sha256) for e in self.exhibits.values()]
                + [(f"document {d.id} ({d.title})", d.file.sha256) for d in self.served.values()])

    def snapshot(self) -> dict[str, Any]:
        """Everything the state holds, as JSON; equal states give equal snapshots."""
        return {"case": self.info.to_dict() if self.info else None,
                "parties": [p.to_dict() for p in self.parties.values()],
                "messages": [m.to_dict() for m in self.messages.values()],
                "hearings": [h.to_dict() for h in self.hearings],
                "verified": {pid: dict(sorted(v.items())) for pid, v in sorted(self.verified.items())},
                "exchange": self.exchange, "exhibits": [e.to_dict() for e in self.exhibits.values()],
                "consents": dict(sorted(self.consents.items())),
                "served": [d.to_dict() for d in self.served.values()], "mediation": self.mediation_view(),
                "closed": self.closed,
                "next": [self._next_party, self._next_message, self._next_exhibit, self._next_document]}


# -- the op kinds ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OpKind:
    """Everything the core knows about one kind of case op, in one place."""
    parse: Callable[[dict[str, Any]], Any]
    handle: Callable[[CaseState, CaseActor, Any, int], Event]
    #: The capacities in which it may be sent.
    roles: frozenset[CaseRole]
    #: What a party must have proved its identity for first (None: nothing).
    proof: str | None = "entry"
    #: A closed case still takes it.
    after_close: bool = False


COURT = STAFF_ROLES
#: Those who run the case: its judge and clerk, and the court's administrators.
RUNNING = frozenset({CaseRole.JUDGE, CaseRole.CLERK, CaseRole.ADMIN})
#: Those who write to the parties on the court's behalf.
ANSWERING = frozenset({CaseRole.JUDGE, CaseRole.CLERK, CaseRole.MEDIATOR})
MEDIATING = frozenset({CaseRole.MEDIATOR, CaseRole.JUDGE})

_S = CaseState
OPS: dict[str, OpKind] = {
    "party.add": OpKind(ops.parse_party_add, _S._party_add, RUNNING),
    "party.signout": OpKind(ops.parse_party_signout, _S._party_signout, RUNNING, after_close=True),
    "staff.assign": OpKind(ops.parse_staff_assign, _S._staff_assign, frozenset({CaseRole.JUDGE, CaseRole.ADMIN})),
    # Proving who one is needs no proof first, and is how a party enters.
    "identity.check": OpKind(ops.parse_identity_check, _S._identity_check, PARTY_SIDE, proof=None,
                             after_close=True),
    "message.post": OpKind(ops.parse_message_post, _S._message_post, ANSWERING | PARTY_SIDE),
    "message.read": OpKind(ops.parse_message_read, _S._message_read, ANSWERING | PARTY_SIDE, after_close=True),
    "message.rate": OpKind(ops.parse_message_rate, _S._message_rate, PARTY_SIDE, after_close=True),
    # Evidence exchange (Art. 14): the judge opens it and sets the deadline;
    # each side files its evidence and gives its opinion on the other's.
    "exchange.open": OpKind(ops.parse_exchange_open, _S._exchange_open, frozenset({CaseRole.JUDGE})),
    "evidence.file": OpKind(ops.parse_evidence_file, _S._evidence_file, PARTY_SIDE, proof="exchange"),
    "evidence.opinion": OpKind(ops.parse_evidence_opinion, _S._evidence_opinion, PARTY_SIDE, proof="exchange"),
    # Electronic service (Arts. 29-32).
    "service.consent": OpKind(ops.parse_service_consent, _S._service_consent, frozenset({CaseRole.PARTY})),
    "document.serve": OpKind(ops.parse_document_serve, _S._document_serve,
                             frozenset({CaseRole.JUDGE, CaseRole.CLERK})),
    "document.open": OpKind(ops.parse_document_ref, _S._document_open, PARTY_SIDE, after_close=True),
    "document.acknowledge": OpKind(ops.parse_document_ref, _S._document_acknowledge, PARTY_SIDE, after_close=True),
    # Online mediation (人民法院在线调解规则): the mediator (or the judge) runs
    # it; every party signs the agreement.
    "mediation.open": OpKind(ops.parse_mediation_open, _S._mediation_open, MEDIATING),
    "agreement.draft": OpKind(ops.parse_agreement_draft, _S._agreement_draft, MEDIATING),
    "agreement.freeze": OpKind(ops.parse_agreement_freeze, _S._agreement_freeze, MEDIATING),
    "agreement.sign": OpKind(ops.parse_agreement_sign, _S._agreement_sign, frozenset({CaseRole.PARTY}),
                             proof="mediation"),
    "mediation.close": OpKind(ops.parse_mediation_close, _S._mediation_close, MEDIATING),
    # Its video sessions: made by the hub for the mediator, entered by each
    # party from its space after the mediation identity check.
    "mediation.session": OpKind(ops.parse_mediation_session, _S._mediation_session, MEDIATING),
    "mediation.join": OpKind(ops.parse_hearing_join, _S._mediation_join, PARTY_SIDE, proof="mediation"),
    "hearing.schedule": OpKind(ops.parse_hearing_schedule, _S._hearing_schedule, RUNNING),
    # A party enters a hearing from its space, after proving who it is (Art. 7).
    "hearing.join": OpKind(ops.parse_hearing_join, _S._hearing_join, PARTY_SIDE, proof="hearing"),
    "case.close": OpKind(ops.parse_case_close, _S._case_close, frozenset({CaseRole.JUDGE, CaseRole.ADMIN})),
}
OP_KINDS = tuple(OPS)


def permissions_of(role: CaseRole) -> list[str]:
    """The op kinds a capacity may send, for the pages to show what it can do."""
    return sorted(kind for kind, spec in OPS.items() if role in spec.roles)
