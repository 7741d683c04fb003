"""Who an entry of a log is written by, as its actor column says.

Every stream's log (a hearing's, a case's) names the author of each entry
in one column: the hub itself (``system``, for the entry that creates the
stream), court staff (``staff:<staff_id>``), a participant's recognized
speech (``speech:<participant_id>``), or a participant or party by id.
"""

from __future__ import annotations

from .model import Staff

SYSTEM = "system"
#: Log actor of a participant's recognized speech: ``speech:<participant_id>``.
SPEECH_PREFIX = "speech:"
#: Log actor of court staff: ``staff:<staff_id>``.
STAFF_PREFIX = "staff:"
STAFF_NAMES = {"admin": "法院管理员",
               # The hub's case space, issuing a party's hearing link after
               # the party has proved its identity there.
               "case-space": "案件空间"}
#: The staff id the case space acts under in a hearing.
CASE_SPACE = "case-space"


def staff(after_prefix: str, name: str | None = None) -> Staff:
    """Court staff from what follows ``staff:`` in the actor column:
    ``<staff_id>`` (an administrator) or ``<role>:<staff_id>``."""
    role, _, staff_id = after_prefix.rpartition(":")
    return Staff(staff_id, name or STAFF_NAMES.get(staff_id, staff_id), role or "admin")


def speech_actor(participant_id: str) -> str:
    return SPEECH_PREFIX + participant_id
