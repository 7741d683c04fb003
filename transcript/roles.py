"""Roles, sites, and the groups of roles that the table of op kinds
(``state.OPS``) gives permissions to.

The rules live in the core, so that no transport can bypass them: the hub,
the command line and the tests all go through ``TranscriptState.apply``.
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
    #: Runs an online mediation session (a stream of the hearing's kind
    #: with ``kind: mediation``) as a judge runs a hearing.
    MEDIATOR = "mediator"


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
    Role.MEDIATOR: "调解员",
}

PARTY_ROLES = frozenset(
    {Role.PLAINTIFF, Role.DEFENDANT, Role.AGENT, Role.PROSECUTOR, Role.WITNESS}
)

#: Roles whose speech is heard, forwarded and transcribed.
SPEAKING_ROLES = frozenset(Role) - {Role.OBSERVER}

#: Who may send which op is said per op kind, in ``state.OPS``, with these
#: groups. The bench writes the record; the parties take part in it.
BENCH = frozenset({Role.JUDGE, Role.CLERK})
JUDGE_ONLY = frozenset({Role.JUDGE})
#: Who runs the sitting: the judge, or the mediator of a mediation session
#: (a hearing has no mediator, a mediation session no judge).
PRESIDING = frozenset({Role.JUDGE, Role.MEDIATOR})
TAKING_PART = BENCH | PARTY_ROLES

#: ``annotation.remove`` is limited to one's own annotations except for
#: these roles; ``participant.mute`` to oneself except for these.
REMOVES_ANY_ANNOTATION = frozenset({Role.JUDGE})
CONTROLS_OTHERS = PRESIDING
#: Roles that never wait to be admitted, wherever they are.
NEVER_WAIT = frozenset({Role.JUDGE, Role.CLERK, Role.MEDIATOR})
