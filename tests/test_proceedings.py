"""The judge's control of the hearing, and recognized speech, in the core."""

from __future__ import annotations

import copy

import pytest

from tests.corefixtures import PEOPLE, hearing, new_state
from transcript.errors import OpError
from transcript.actors import SYSTEM, speech_actor
from transcript.log import GENESIS_HASH, make_entry, replay
from transcript.state import create_op
from transcript.model import HearingInfo, Participant
from transcript.roles import Role, Site
from transcript.state import TranscriptState

J, C, P, D, O, W = (PEOPLE[r] for r in (Role.JUDGE, Role.CLERK, Role.PLAINTIFF, Role.DEFENDANT,
                                        Role.OBSERVER, Role.WITNESS))


def rejected(apply, *args) -> OpError:  # noqa: ANN001
    state = apply.__self__
    before = copy.deepcopy(state.snapshot())
    with pytest.raises(OpError) as info:
        apply(*args)
    assert state.snapshot() == before, "a rejected op changed the state"
    return info.value


def test_status_follows_start_pause_end_and_refuses_the_rest() -> None:
    state = new_state()
    assert state.proceedings.status == "not_started"
    assert rejected(state.apply, J, {"kind": "hearing.pause"}).code == "conflict"
    assert state.apply(J, {"kind": "hearing.start"})["kind"] == "hearing.started"
    assert rejected(state.apply, J, {"kind": "hearing.start"}).code == "conflict"
    ev = state.apply(J, {"kind": "hearing.pause"})
    assert (ev["kind"], ev["status"], ev["by"]["role"]) == ("hearing.paused", "paused", "judge")
    assert state.apply(J, {"kind": "hearing.start"})["status"] == "in_session"
    assert state.apply(J, {"kind": "hearing.end"})["status"] == "ended"
    for action in ("start", "pause", "end"):
        assert rejected(state.apply, J, {"kind": f"hearing.{action}"}).code == "conflict"


# (A mediator runs a mediation session as a judge runs a hearing: PRESIDING.)
@pytest.mark.parametrize("role", [r for r in Role if r not in (Role.JUDGE, Role.MEDIATOR)])
@pytest.mark.parametrize("op", [{"kind": "hearing.start"}, {"kind": "hearing.end"},
                                {"kind": "participant.admit", "participant_id": "p-defendant"},
                                {"kind": "participant.remove", "participant_id": "p-plaintiff"},
                                {"kind": "participant.mute", "participant_id": "p-witness", "muted": True}])
def test_only_the_judge_controls_the_hearing(role: Role, op: dict) -> None:
    state = new_state()
    state.proceedings.admitted.discard("p-defendant")
    actor = PEOPLE[role]
    if actor.participant_id == op.get("participant_id"):
        return  # acting on oneself is a different rule
    assert rejected(state.apply, actor, op).code == "forbidden"


def waiting_hearing() -> TranscriptState:
    people = dict(hearing().participants)
    people["p-remote"] = Participant("p-remote", Role.DEFENDANT, "李四", Site.DETENTION)
    people["p-rclerk"] = Participant("p-rclerk", Role.CLERK, "远程书记员", Site.REMOTE)
    info = HearingInfo("h-w", "(2026)京0105民初2号", "买卖合同纠纷", "北京市朝阳区人民法院", people, True)
    state = TranscriptState()
    state.create(info)
    return state


def test_waiting_room_holds_remote_parties_until_admitted() -> None:
    state = waiting_hearing()
    remote = state.participant("p-remote")
    assert "p-remote" not in state.proceedings.admitted
    assert {"p-judge", "p-plaintiff", "p-rclerk"} <= state.proceedings.admitted  # court site, clerk
    err = rejected(state.apply, remote, {"kind": "annotation.add", "segment_id": "S1", "start": 0, "end": 1,
                                         "style": "highlight"})
    assert err.code == "forbidden" and "admitted" in err.message
    assert rejected(state.apply_speech, remote, {"kind": "segment.add", "text": "我是被告"}).code == "forbidden"
    ev = state.apply(J, {"kind": "participant.admit", "participant_id": "p-remote"})
    assert ev["kind"] == "participant.admitted" and ev["participant"]["name"] == "李四"
    assert rejected(state.apply, J, {"kind": "participant.admit", "participant_id": "p-remote"}).code == "conflict"
    assert state.apply_speech(remote, {"kind": "segment.add", "text": "我是被告"})["segment"]["speaker"]["name"] == "李四"
    state.apply(J, {"kind": "participant.remove", "participant_id": "p-remote"})
    assert not state.proceedings.heard("p-remote")
    assert rejected(state.apply, J, {"kind": "participant.remove", "participant_id": "p-judge"}).code == "invalid"
    assert rejected(state.apply, J, {"kind": "participant.admit", "participant_id": "p-nobody"}).code == "not_found"


def test_without_a_waiting_room_everyone_is_admitted() -> None:
    state = new_state()
    assert state.proceedings.admitted == set(state.hearing.participants)


def test_mute_rules_self_and_judge() -> None:
    state = new_state()
    mute = lambda actor, who, m: state.apply(actor, {"kind": "participant.mute", "participant_id": who.participant_id,
                                                     "muted": m})  # noqa: E731
    assert mute(P, P, True)["kind"] == "participant.muted" and not state.proceedings.heard("p-plaintiff")
    assert mute(P, P, False)["kind"] == "participant.unmuted"
    assert rejected(state.apply, P, {"kind": "participant.mute", "participant_id": "p-defendant",
                                     "muted": True}).code == "forbidden"
    mute(J, D, True)
    err = rejected(state.apply, D, {"kind": "participant.mute", "participant_id": "p-defendant", "muted": False})
    assert err.code == "forbidden" and "judge" in err.message
    assert rejected(state.apply, J, {"kind": "participant.mute", "participant_id": "p-defendant",
                                     "muted": True}).code == "conflict"
    assert rejected(state.apply, J, {"kind": "participant.mute", "participant_id": "p-observer",
                                     "muted": True}).code == "invalid"
    assert rejected(state.apply, J, {"kind": "participant.mute", "participant_id": "p-defendant",
                                     "muted": "yes"}).code == "invalid"
    mute(J, D, False)
    assert state.proceedings.heard("p-defendant")


def test_locking_closes_the_hearing_and_speech_after_it_is_refused() -> None:
    state = new_state("现在闭庭")
    state.apply(J, {"kind": "hearing.start"})
    event = state.apply(J, {"kind": "transcript.lock"})
    assert event["status"] == "ended" and state.proceedings.status.value == "ended"
    assert not state.proceedings.recording
    assert rejected(state.apply, J, {"kind": "hearing.start"}).code == "conflict"
    assert rejected(state.apply_speech, P, {"kind": "segment.add", "text": "补充"}).code == "locked"
    # Already closed: the lock changes nothing else, and says nothing of it.
    state = new_state("现在闭庭")
    state.apply(J, {"kind": "hearing.end"})
    assert "status" not in state.apply(J, {"kind": "transcript.lock"})


def test_logs_of_the_first_rules_replay_as_written() -> None:
    """Under the first edition a lock left the hearing running; a log
    written then must still replay to the same events."""
    state = new_state("现在闭庭", rules=1)
    state.apply(J, {"kind": "hearing.start"})
    assert "status" not in state.apply(J, {"kind": "transcript.lock"})
    assert state.apply(J, {"kind": "hearing.end"})["status"] == "ended"
    assert "rules" not in state.hearing.to_dict() and new_state().hearing.to_dict()["rules"] == 2


@pytest.mark.parametrize("op, code", [
    ({"kind": "segment.add", "text": "好", "speaker": "p-defendant"}, "invalid"),
    ({"kind": "segment.add", "text": "好", "after": "S1"}, "invalid"),
    ({"kind": "annotation.add", "segment_id": "S1", "start": 0, "end": 1, "style": "highlight"}, "invalid"),
    ({"kind": "segment.add", "text": ""}, "invalid"),
])
def test_speech_is_only_a_plain_segment_add(op: dict, code: str) -> None:
    state = new_state("开庭")
    assert rejected(state.apply_speech, P, op).code == code


def test_observers_do_not_speak_and_parties_cannot_add_segments_themselves() -> None:
    state = new_state()
    assert rejected(state.apply_speech, O, {"kind": "segment.add", "text": "插话"}).code == "forbidden"
    assert rejected(state.apply, P, {"kind": "segment.add", "text": "冒充识别结果"}).code == "forbidden"


def test_speech_replays_from_the_log_under_its_speaker() -> None:
    state = TranscriptState()
    info = hearing()
    entries = [make_entry(GENESIS_HASH, info.hearing_id, 1, SYSTEM, "create", 0, create_op(info),
                          state.create(info))]
    steps = [(speech_actor("p-plaintiff"), {"kind": "segment.add", "text": "原告陈述。", "start": 1.0, "end": 2.5}),
             ("p-judge", {"kind": "participant.mute", "participant_id": "p-plaintiff", "muted": True}),
             ("p-judge", {"kind": "hearing.start"})]
    for actor, op in steps:
        event = (state.apply_speech(state.participant(actor[7:]), op) if actor.startswith("speech:")
                 else state.apply(state.participant(actor), op))
        e = entries[-1]
        entries.append(make_entry(e.hash, info.hearing_id, e.seq + 1, actor, f"o{e.seq}", 0, op, event))
    assert entries[1].event["source"] == "speech"
    replayed, _, seq = replay(entries, info.hearing_id, TranscriptState())
    assert seq == 4 and replayed.snapshot() == state.snapshot()
    assert replayed.segments[0].speaker.name == "plaintiff-name"
    assert replayed.proceedings.to_dict() == {"status": "in_session", "admitted": sorted(info.participants),
                                             "muted": {"p-plaintiff": "p-judge"}}


def test_the_clerk_or_judge_sets_the_hearings_vocabulary() -> None:
    state = new_state()
    ev = state.apply(C, {"kind": "vocabulary.set", "terms": ["质证", "诉讼时效", "质证"]})
    assert ev["terms"] == ["质证", "诉讼时效"] and state.vocabulary == ["质证", "诉讼时效"]
    assert rejected(state.apply, P, {"kind": "vocabulary.set", "terms": ["撤诉"]}).code == "forbidden"
    for bad in (["a"], ["质"], "质证", [1], ["质证 "]):
        assert rejected(state.apply, J, {"kind": "vocabulary.set", "terms": bad}).code == "invalid"
