"""What each viewer of a case may see.

Court staff of the case see everything. A party (or an agent) sees what
concerns the whole case and its own conversation with the court, never
another party's (events that belong to one conversation carry its
``thread``), and never the ID numbers or phones the court holds of anyone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .model import PARTY_SIDE, CaseRole, Party
from .state import CaseState, Event


@dataclass(frozen=True, slots=True)
class Viewer:
    role: CaseRole
    #: For a party: the conversation it belongs to (its own, or the
    #: represented party's for an agent).
    thread: str | None = None

    @classmethod
    def of(cls, party: Party) -> Viewer:
        return cls(party.case_role, party.thread)

    @property
    def court(self) -> bool:
        return self.role not in PARTY_SIDE


STAFF = Viewer(CaseRole.ADMIN)


def sees(viewer: Viewer, event: Event) -> bool:
    thread = event.get("thread")
    return viewer.court or thread is None or thread == viewer.thread


def _public(party: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in party.items() if k not in ("id_number", "phone")}


def shown(viewer: Viewer, event: Event) -> Event | None:
    """The event as ``viewer`` sees it, or None if it does not."""
    if not sees(viewer, event):
        return None
    if viewer.court:
        return event
    kind = event.get("kind")
    if kind == "case.created":
        return {**event, "parties": [_public(p) for p in event["parties"]]}
    if kind == "party.added":
        return {**event, "party": _public(event["party"])}
    return event


def view(state: CaseState, viewer: Viewer) -> dict[str, Any]:
    """The case space as ``viewer`` opens it."""
    assert state.info is not None
    parties = [p.to_dict() if viewer.court else p.public() for p in state.parties.values()]
    messages = [m.to_dict() for m in state.messages.values() if viewer.court or m.thread == viewer.thread]
    served = [d.to_dict() for d in state.served.values() if viewer.court or d.thread == viewer.thread]
    out: dict[str, Any] = {"case": state.info.to_dict(), "parties": parties, "messages": messages,
                           "hearings": [h.to_dict() for h in state.hearings], "exchange": state.exchange,
                           "exhibits": [e.to_dict() for e in state.exhibits.values()], "served": served,
                           "consents": {pid: ts for pid, ts in state.consents.items()
                                        if viewer.court or state.parties[pid].thread == viewer.thread},
                           "mediation": state.mediation_view(), "closed": state.closed}
    out["verified"] = {pid: dict(v) for pid, v in state.verified.items()
                       if viewer.court or state.parties[pid].thread == viewer.thread}
    return out


def files_seen(state: CaseState, viewer: Viewer) -> dict[str, tuple[str, str]]:
    """The stored files ``viewer`` may download, by SHA-256: (media type,
    name). A party sees its own conversation's attachments, every filed
    evidence item, and the documents served on it."""
    out: dict[str, tuple[str, str]] = {}
    for m in state.messages.values():
        if viewer.court or m.thread == viewer.thread:
            for a in m.attachments:
                out[a.sha256] = (a.media_type, a.name)
    for e in state.exhibits.values():
        out[e.file.sha256] = (e.file.media_type, e.file.name)
    for d in state.served.values():
        if viewer.court or d.thread == viewer.thread:
            out[d.file.sha256] = (d.file.media_type, d.file.name)
    return out
