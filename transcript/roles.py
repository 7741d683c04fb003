"""Roles, sites and what each role may do.

The table lives here, in the core, so that no transport can bypass it: the
hub, the command line and the tests all go through ``TranscriptState.apply``.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    JUDGE = "judge"
    CLERK = "clerk"
    PLAINTIFF = "plaintiff"
    DEFENDANT = "defendant"
    AGENT = "agent"
    PROSECUTOR = "prosecutor"
    WITNESS = "witness"
    OBSERVER = "observer"


class Site(StrEnum):
    COURT = "court"
    REMOTE = "remote"
    DETENTION = "detention"
    PROCURATORATE = "procuratorate"


#: Chinese labels shown to court users.
ROLE_LABELS: dict[Role, str] = {
    Role.JUDGE: "审判员",
    Role.CLERK: "书记员",
    Role.PLAINTIFF: "原告",
    Role.DEFENDANT: "被告",
    Role.AGENT: "代理人",
    Role.PROSECUTOR: "公诉人",
    Role.WITNESS: "证人",
    Role.OBSERVER: "旁听",
}

SEGMENT_OPS = frozenset(
    {"segment.add", "segment.edit", "segment.relabel", "segment.split", "segment.merge", "segment.delete"}
)
ANNOTATE_OPS = frozenset({"annotation.add", "annotation.remove"})
CONTROL_OPS = frozenset({"hearing.start", "hearing.pause", "hearing.end", "participant.admit",
                         "participant.remove", "participant.mute"})
EVIDENCE_OPS = frozenset({"evidence.add"})
#: Revoking and re-issuing invite links: the judge's for the others, court
#: staff's for anyone.
INVITE_OPS = frozenset({"invite.revoke", "invite.reissue"})
STAFF_OPS = INVITE_OPS
#: Deciding on evidence and what every screen shows is the judge's; pasting
#: evidence into the transcript is writing it, as the clerk does.
JUDGE_EVIDENCE_OPS = frozenset({"evidence.approve", "evidence.paste", "display.set"})
#: Ops the lock does not stop: running the hearing and handling evidence
#: change nothing in the transcript.
UNLOCKED_OPS = CONTROL_OPS | EVIDENCE_OPS | INVITE_OPS | {"evidence.approve", "display.set", "vocabulary.set"}
PARTY_ROLES = frozenset(
    {Role.PLAINTIFF, Role.DEFENDANT, Role.AGENT, Role.PROSECUTOR, Role.WITNESS}
)

#: Roles whose speech is heard, forwarded and transcribed.
SPEAKING_ROLES = frozenset(Role) - {Role.OBSERVER}

#: Op kinds each role may send. ``annotation.remove`` is limited to one's own
#: annotations except for roles in ``REMOVES_ANY_ANNOTATION``;
#: ``participant.mute`` to oneself except for roles in ``CONTROLS_OTHERS``.
PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.JUDGE: SEGMENT_OPS | ANNOTATE_OPS | CONTROL_OPS | EVIDENCE_OPS | JUDGE_EVIDENCE_OPS | INVITE_OPS
    | {"transcript.lock", "signature.add", "vocabulary.set"},
    Role.CLERK: SEGMENT_OPS | ANNOTATE_OPS | EVIDENCE_OPS
    | {"evidence.paste", "signature.add", "participant.mute", "vocabulary.set"},
    **{role: ANNOTATE_OPS | EVIDENCE_OPS | {"signature.add", "participant.mute"} for role in PARTY_ROLES},
    Role.OBSERVER: frozenset(),
}

REMOVES_ANY_ANNOTATION = frozenset({Role.JUDGE})
CONTROLS_OTHERS = frozenset({Role.JUDGE})
#: Roles that never wait to be admitted, wherever they are.
NEVER_WAIT = frozenset({Role.JUDGE, Role.CLERK})


def permissions_of(role: Role) -> list[str]:
    """The permission list sent in ``welcome``: op kinds, plus
    ``annotation.remove.any`` where the role may remove others' annotations
    and ``participant.mute.any`` where it may mute others."""
    perms = sorted(PERMISSIONS[role])
    if role in REMOVES_ANY_ANNOTATION:
        perms.append("annotation.remove.any")
    if role in CONTROLS_OTHERS:
        perms.append("participant.mute.any")
    return perms
