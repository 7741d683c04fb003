"""The public live stream in the core: the judge alone switches it, a
hearing marked 不公开 is never streamed, 闭庭 ends it, and the judge marks
who is protected in it. A refused op changes nothing."""

from __future__ import annotations

import dataclasses

import pytest

from transcript.broadcast import DEFAULT_DELAY, MAX_DELAY, MIN_DELAY
from transcript.model import HearingInfo
from transcript.roles import Role
from transcript.state import TranscriptState

from .corefixtures import PEOPLE, hearing, new_state, rejected

JUDGE, WITNESS = PEOPLE[Role.JUDGE], PEOPLE[Role.WITNESS]


def test_the_judge_starts_and_stops_the_stream_with_its_delay() -> None:
    state = new_state()
    event = state.apply(JUDGE, {"kind": "stream.start", "delay_s": 45})
    assert event == {"kind": "stream.started", "stream": {"number": 1, "streaming": True, "delay_s": 45},
                     "by": JUDGE.label()}
    assert state.apply(JUDGE, {"kind": "stream.stop"})["stream"] == {"number": 1, "streaming": False,
                                                                     "delay_s": 45}
    again = state.apply(JUDGE, {"kind": "stream.start"})
    assert again["stream"] == {"number": 2, "streaming": True, "delay_s": DEFAULT_DELAY}
    assert state.view()["broadcast"] == {"public": True, "number": 2, "streaming": True,
                                         "delay_s": DEFAULT_DELAY, "protected": [], "video_shared": False}


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.JUDGE])
def test_nobody_but_the_judge_switches_it(role: Role) -> None:
    state = new_state()
    assert rejected(state, PEOPLE[role], {"kind": "stream.start"}).code == "forbidden"
    state.apply(JUDGE, {"kind": "stream.start"})
    assert rejected(state, PEOPLE[role], {"kind": "stream.stop"}).code == "forbidden"
    assert rejected(state, PEOPLE[role], {"kind": "participant.protect", "participant_id": WITNESS.participant_id,
                                          "protected": True}).code == "forbidden"
    assert rejected(state, PEOPLE[role], {"kind": "video.share", "shared": True}).code == "forbidden"


def test_a_hearing_not_open_to_the_public_is_never_streamed() -> None:
    state = TranscriptState()
    closed = dataclasses.replace(hearing(), public=False)
    state.create(closed)
    assert HearingInfo.from_dict(closed.to_dict()).public is False
    assert "public" not in hearing().to_dict()  # logs written before it replay unchanged
    err = rejected(state, JUDGE, {"kind": "stream.start"})
    assert err.code == "conflict" and "不公开" in err.message


def test_a_mediation_session_is_never_streamed() -> None:
    state = TranscriptState()
    state.create(dataclasses.replace(hearing(), kind="mediation"))
    assert state.broadcast.public is False


@pytest.mark.parametrize("op, code", [
    ({"kind": "stream.start", "delay_s": MIN_DELAY - 1}, "invalid"),
    ({"kind": "stream.start", "delay_s": MAX_DELAY + 1}, "invalid"),
    ({"kind": "stream.start", "delay_s": "30"}, "invalid"),
    ({"kind": "stream.start", "delay_s": True}, "invalid"),
    ({"kind": "stream.start", "speed": 1}, "invalid"),
    ({"kind": "stream.stop"}, "conflict"),
    ({"kind": "participant.protect", "participant_id": "p-nobody", "protected": True}, "not_found"),
    ({"kind": "participant.protect", "participant_id": "p-witness", "protected": "yes"}, "invalid"),
    ({"kind": "participant.protect", "participant_id": "p-witness", "protected": False}, "conflict"),
    ({"kind": "participant.protect", "participant_id": "p-clerk", "protected": True}, "invalid"),
    ({"kind": "participant.protect", "participant_id": "p-observer", "protected": True}, "invalid"),
    ({"kind": "video.share", "shared": False}, "conflict"),
    ({"kind": "video.share", "shared": 1}, "invalid"),
    ({"kind": "video.share"}, "invalid"),
])
def test_bad_ops_change_nothing(op: dict[str, object], code: str) -> None:
    assert rejected(new_state(), JUDGE, op).code == code


def test_a_second_start_conflicts() -> None:
    state = new_state()
    state.apply(JUDGE, {"kind": "stream.start"})
    assert rejected(state, JUDGE, {"kind": "stream.start", "delay_s": 60}).code == "conflict"


@pytest.mark.parametrize("ending", [{"kind": "hearing.end"}, {"kind": "transcript.lock"}])
def test_the_end_of_the_hearing_ends_the_stream(ending: dict[str, str]) -> None:
    state = new_state("开庭。")
    state.apply(JUDGE, {"kind": "stream.start"})
    event = state.apply(JUDGE, ending)
    assert event["stream"] == {"number": 1, "streaming": False, "delay_s": DEFAULT_DELAY}
    assert rejected(state, JUDGE, {"kind": "stream.start"}).code == "conflict"


def test_protection_is_marked_and_lifted() -> None:
    state = new_state()
    event = state.apply(JUDGE, {"kind": "participant.protect", "participant_id": WITNESS.participant_id,
                                "protected": True})
    assert event == {"kind": "participant.protected", "participant": WITNESS.label(), "by": JUDGE.label()}
    assert state.view()["broadcast"]["protected"] == [WITNESS.participant_id]
    assert state.apply(JUDGE, {"kind": "participant.protect", "participant_id": WITNESS.participant_id,
                               "protected": False})["kind"] == "participant.unprotected"
    assert state.broadcast.protected == set()


def test_the_judge_shares_the_video_with_the_parties_even_after_the_lock() -> None:
    state = new_state("开庭。")
    state.apply(JUDGE, {"kind": "transcript.lock"})
    assert state.apply(JUDGE, {"kind": "video.share", "shared": True}) == {"kind": "video.shared",
                                                                          "by": JUDGE.label()}
    assert state.broadcast.video_shared
    assert state.apply(JUDGE, {"kind": "video.share", "shared": False})["kind"] == "video.unshared"
