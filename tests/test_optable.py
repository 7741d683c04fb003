"""The table of op kinds (``transcript.state.OPS``): one entry per kind,
with its parser, handler, who may send it and whether the lock stops it.
Its permissions are the ones the wire contract documents, role by role."""

from __future__ import annotations

import pytest

from transcript.errors import OpError
from transcript.roles import Role
from transcript.state import OPS, may, parse_op, permissions_of

SEGMENT = ["segment.add", "segment.delete", "segment.edit", "segment.merge", "segment.relabel", "segment.split"]
PARTY = ["annotation.add", "annotation.remove", "evidence.add", "participant.mute", "signature.add"]
EXPECTED = {
    Role.JUDGE: sorted(SEGMENT + PARTY + ["display.set", "evidence.approve", "evidence.paste", "hearing.end",
                                          "hearing.pause", "hearing.start", "invite.reissue", "invite.revoke",
                                          "participant.admit", "participant.protect", "participant.remove",
                                          "stream.start", "stream.stop", "transcript.lock",
                                          "video.share", "vocabulary.set"]) + ["annotation.remove.any", "participant.mute.any"],
    Role.CLERK: sorted(SEGMENT + PARTY + ["evidence.paste", "vocabulary.set"]),
    **{role: PARTY for role in (Role.PLAINTIFF, Role.DEFENDANT, Role.AGENT, Role.PROSECUTOR, Role.WITNESS)},
    Role.OBSERVER: [],
    # Runs a mediation session: opens and closes it, admits, removes and
    # mutes, shows evidence; writes no transcript and signs nothing there.
    Role.MEDIATOR: ["display.set", "evidence.approve", "hearing.end", "hearing.pause", "hearing.start",
                    "participant.admit", "participant.mute", "participant.remove", "participant.mute.any"],
}


@pytest.mark.parametrize("role", list(Role))
def test_each_roles_permissions(role: Role) -> None:
    assert permissions_of(role) == EXPECTED[role]


def test_what_the_lock_does_not_stop() -> None:
    assert sorted(k for k, spec in OPS.items() if spec.after_lock) == [
        "display.set", "evidence.add", "evidence.approve", "hearing.end", "hearing.pause", "hearing.start",
        "invite.reissue", "invite.revoke", "participant.admit", "participant.mute", "participant.protect",
        "participant.remove", "signature.add", "stream.start", "stream.stop", "video.share", "vocabulary.set"]
    assert sorted(k for k, spec in OPS.items() if spec.staff) == ["invite.reissue", "invite.revoke"]


def test_unknown_kinds_and_non_objects_are_invalid() -> None:
    for raw in ({"kind": "segment.explode"}, {"kind": 3}, {}, [], "op"):
        with pytest.raises(OpError) as err:
            parse_op(raw)
        assert err.value.code == "invalid"
    assert not may(Role.JUDGE, "segment.explode")
    assert may(Role.CLERK, "segment.add") and not may(Role.PLAINTIFF, "segment.add")
