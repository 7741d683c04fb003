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

from . import ops
from .model import (ASSIGNED, PARTY_SIDE, STAFF_ROLES, Assigned, CaseInfo, CaseRole, Hearing, Message, Party)
from .ops import (CaseClose, HearingSchedule, IdentityCheck, MessagePost, MessageRate, MessageRead, NewParty,
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
        self.closed = False
        self._next_party = 1
        self._next_message = 1

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
        """How court staff are shown: under the name the case gives them."""
        for role, assigned in self.info.staff.items() if self.info else ():
            if role.value == actor.role and assigned.staff_id == actor.staff_id:
                return {"staff_id": actor.staff_id, "name": assigned.name, "role": role.value}
        return {"staff_id": actor.staff_id, "name": actor.name, "role": actor.role}

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
        if isinstance(actor, Party) and spec.proof is not None \
                and spec.proof not in self.verified.get(actor.party_id, {}):
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
        message = self._seen_message(actor, op.message_id)
        reader = self.label(actor)
        key = actor.participant_id
        if message.author == reader:
            raise OpError("invalid", "one does not mark one's own message read")
        if key in message.read:
            raise OpError("conflict", "already read")
        message.read[key] = now_ms
        return {"kind": "message.read", "thread": message.thread, "message_id": message.id,
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

    def _hearing_schedule(self, actor: CaseActor, op: HearingSchedule, now_ms: int) -> Event:
        if any(h.hearing_id == op.hearing_id for h in self.hearings):
            raise OpError("conflict", "hearing already scheduled")
        for party_id in op.seats:
            self.party(party_id)
        hearing = Hearing(op.hearing_id, op.start_ms, dict(op.seats))
        self.hearings.append(hearing)
        return {"kind": "hearing.scheduled", "hearing": hearing.to_dict(), "by": self.label(actor)}

    def _case_close(self, actor: CaseActor, op: CaseClose, now_ms: int) -> Event:
        self.closed = True
        return {"kind": "case.closed", "ts_ms": now_ms, "by": self.label(actor)}

    # -- reading ------------------------------------------------------------

    def files(self) -> list[tuple[str, str]]:
        """Every stored file the case refers to: (what it is, SHA-256)."""
        return [(f"attachment {a.name} of message {m.id}", a.sha256)
                for m in self.messages.values() for a in m.attachments]

    def snapshot(self) -> dict[str, Any]:
        """Everything the state holds, as JSON; equal states give equal snapshots."""
        return {"case": self.info.to_dict() if self.info else None,
                "parties": [p.to_dict() for p in self.parties.values()],
                "messages": [m.to_dict() for m in self.messages.values()],
                "hearings": [h.to_dict() for h in self.hearings],
                "verified": {pid: dict(sorted(v.items())) for pid, v in sorted(self.verified.items())},
                "closed": self.closed, "next": [self._next_party, self._next_message]}


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
EVERYONE = COURT | PARTY_SIDE

_S = CaseState
OPS: dict[str, OpKind] = {
    "party.add": OpKind(ops.parse_party_add, _S._party_add, RUNNING),
    "staff.assign": OpKind(ops.parse_staff_assign, _S._staff_assign, frozenset({CaseRole.JUDGE, CaseRole.ADMIN})),
    # Proving who one is needs no proof first, and is how a party enters.
    "identity.check": OpKind(ops.parse_identity_check, _S._identity_check, PARTY_SIDE, proof=None,
                             after_close=True),
    "message.post": OpKind(ops.parse_message_post, _S._message_post, ANSWERING | PARTY_SIDE),
    "message.read": OpKind(ops.parse_message_read, _S._message_read, ANSWERING | PARTY_SIDE, after_close=True),
    "message.rate": OpKind(ops.parse_message_rate, _S._message_rate, PARTY_SIDE, after_close=True),
    "hearing.schedule": OpKind(ops.parse_hearing_schedule, _S._hearing_schedule, RUNNING),
    "case.close": OpKind(ops.parse_case_close, _S._case_close, frozenset({CaseRole.JUDGE, CaseRole.ADMIN})),
}
OP_KINDS = tuple(OPS)


def permissions_of(role: CaseRole) -> list[str]:
    """The op kinds a capacity may send, for the pages to show what it can do."""
    return sorted(kind for kind, spec in OPS.items() if role in spec.roles)
