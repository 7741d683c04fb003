"""Builders for transcript-core tests."""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest

from transcript.errors import OpError
from transcript.model import RULES, Actor, HearingInfo, Participant
from transcript.roles import Role
from transcript.state import TranscriptState

PEOPLE = {role: Participant(f"p-{role.value}", role, f"{role.value}-name") for role in Role}
PNG = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 32).decode()


def hearing(rules: int = RULES) -> HearingInfo:
    return HearingInfo("h-test", "(2026)京0105民初1号", "买卖合同纠纷", "北京市朝阳区人民法院",
                       {p.participant_id: p for p in PEOPLE.values()}, rules=rules)


def new_state(*texts: str, rules: int = RULES) -> TranscriptState:
    """A hearing under ``rules`` (today's, unless a test asks for an older
    edition) with the clerk's segments."""
    state = TranscriptState()
    state.create(hearing(rules))
    for text in texts:
        state.apply(PEOPLE[Role.CLERK], {"kind": "segment.add", "text": text})
    return state


def rejected(state: TranscriptState, actor: Actor, op: Any) -> OpError:
    """Apply an op that must be refused; check that nothing changed."""
    before = copy.deepcopy(state.snapshot())
    with pytest.raises(OpError) as info:
        state.apply(actor, op)
    assert state.snapshot() == before, "a rejected op changed the state"
    return info.value
