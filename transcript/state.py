"""One hearing's transcript as a pure state machine.

``apply(actor, op)`` either returns the one event the op produced (and the
state has changed) or raises ``OpError`` (and nothing has changed). Every
rule lives here: permissions, validation, revisions, re-anchoring, the lock.
There is no I/O, no clock and no randomness, so replaying a log of ops gives
the same state and the same events, byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from . import anchoring, ops
from .canonical import canonical_json, sha256_hex
from .actors import SPEECH_PREFIX, STAFF_PREFIX, SYSTEM, staff
from .errors import OpError
from .fields import kind_of
from .model import Actor, Annotation, Evidence, HearingInfo, Participant, Segment, Signature, Staff
from .ops import (MAX_SEGMENT_TEXT, AnnotationAdd, AnnotationRemove, DisplaySet, EvidenceAdd, EvidenceApprove,
                  EvidencePaste, HearingControl, InviteReissue, InviteRevoke, ParticipantAdmit, ParticipantMute,
                  ParticipantProtect, ParticipantRemove, StreamStart, StreamStop, VideoShare,
                  SegmentAdd, SegmentDelete, SegmentEdit, SegmentMerge, SegmentRelabel, SegmentSplit, SignatureAdd,
                  TranscriptLock, VocabularySet)
from .broadcast import Broadcast
from .proceedings import Proceedings, Status
from .quotas import UNLIMITED, Quotas, Usage, check
from .signed import SignedDocument
from .roles import (BENCH, CONTROLS_OTHERS, JUDGE_ONLY, PRESIDING, REMOVES_ANY_ANNOTATION, SPEAKING_ROLES,
                    TAKING_PART,
                    Role)

Event = dict[str, Any]
#: Op kind of the entry that creates a hearing (written by the hub).
CREATE_KIND = "hearing.create"


def create_op(hearing: HearingInfo) -> dict[str, Any]:
    """The op of a hearing's first log entry."""
    return {"kind": CREATE_KIND, "hearing": hearing.to_dict()}


_CONTROL_EVENTS = {"start": "hearing.started", "pause": "hearing.paused", "end": "hearing.ended"}


class TranscriptState:
    def __init__(self) -> None:
        self.hearing: HearingInfo | None = None
        self.segments: list[Segment] = []
        self._segments_by_id: dict[str, Segment] = {}
        self.annotations: dict[str, Annotation] = {}
        #: The 笔录 as signed: frozen by the judge's lock, then signed by each party.
        self.record = SignedDocument()
        self.proceedings = Proceedings()
        self.broadcast = Broadcast()
        self.evidence: dict[str, Evidence] = {}
        self.display: dict[str, Any] = {"view": "transcript"}
        #: The hearing's legal vocabulary for recognition; None: the hub's default.
        self.vocabulary: list[str] | None = None
        self._next_segment = 1
        self._next_evidence = 1
        self._next_annotation = 1
        #: What each participant has added (annotations, evidence), checked
        #: against ``quotas``: the hub's limits while it serves the hearing;
        #: none while a log is replayed.
        self.usage: dict[str, Usage] = {}
        self.quotas: Quotas = UNLIMITED

    # -- creation -------------------------------------------------------

    def create(self, hearing: HearingInfo) -> Event:
        """The first entry of every log: who takes part in the hearing."""
        if self.hearing is not None:
            raise OpError("conflict", "hearing already created")
        if not hearing.participants:
            raise OpError("invalid", "a hearing needs participants")
        self.hearing = hearing
        self.proceedings = Proceedings.of(hearing)
        self.broadcast = Broadcast(public=hearing.public and hearing.kind == "hearing")
        return {"kind": "hearing.created", "hearing": hearing.to_dict()}

    @property
    def locked(self) -> bool:
        return self.record.frozen

    @property
    def lock_hash(self) -> str | None:
        return self.record.content_hash

    @property
    def signatures(self) -> dict[str, Signature]:
        return self.record.signatures

    def participant(self, participant_id: str) -> Participant:
        assert self.hearing is not None
        try:
            return self.hearing.participants[participant_id]
        except KeyError:
            raise OpError("not_found", f"no participant {participant_id!r} in this hearing") from None

    # -- ops --------------------------------------------------------------

    def apply(self, actor: Actor, raw_op: Any) -> Event:
        """Apply a client's op on behalf of ``actor``; return its event."""
        if self.hearing is None:
            raise OpError("not_found", "hearing not created")
        kind, spec, op = _parse(raw_op)
        if isinstance(actor, Staff):
            if not spec.staff:
                raise OpError("forbidden", f"court staff do not {kind} in a hearing")
            return spec.handle(self, actor, op)
        if actor.role not in spec.roles:
            raise OpError("forbidden", f"{actor.role.value} may not {kind}")
        if self.hearing.participants.get(actor.participant_id) != actor:
            raise OpError("forbidden", "not a participant of this hearing")
        if actor.participant_id not in self.proceedings.admitted:
            raise OpError("forbidden", "waiting to be admitted by the judge")
        if self.locked and not spec.after_lock:
            raise OpError("locked", "the transcript is locked")
        return spec.handle(self, actor, op)

    def apply_logged(self, actor_id: str, op: dict[str, Any], ts_ms: int = 0) -> Event:
        """Apply one logged op as its actor column names the author: the
        system's ``hearing.create``, a participant's recognized speech,
        court staff, or a participant's own op. (A hearing's rules do not
        depend on the time: ``ts_ms`` is not used.)"""
        if actor_id == SYSTEM and op.get("kind") == CREATE_KIND:
            return self.create(HearingInfo.from_dict(op["hearing"]))
        if actor_id.startswith(SPEECH_PREFIX):
            return self.apply_speech(self.participant(actor_id[len(SPEECH_PREFIX):]), op)
        if actor_id.startswith(STAFF_PREFIX):
            return self.apply(staff(actor_id[len(STAFF_PREFIX):]), op)
        return self.apply(self.participant(actor_id), op)

    def apply_speech(self, speaker: Participant, raw_op: Any) -> Event:
        """A final recognition result of ``speaker``'s own speech, written by
        the hub's recognizer: a ``segment.add`` without ``speaker`` or
        ``after``, so the segment is labelled with the one who spoke and
        lands at the end. Whether audio is heard at all (mute, pause) is the
        hub's to decide; words already spoken are not refused for it."""
        if self.hearing is None:
            raise OpError("not_found", "hearing not created")
        op = parse_op(raw_op)
        if not isinstance(op, SegmentAdd) or op.speaker is not None or op.after is not None:
            raise OpError("invalid", "speech is a segment.add without speaker or after")
        if self.hearing.participants.get(speaker.participant_id) != speaker or speaker.role not in SPEAKING_ROLES:
            raise OpError("forbidden", "not a speaking participant of this hearing")
        if speaker.participant_id not in self.proceedings.admitted:
            raise OpError("forbidden", "waiting to be admitted by the judge")
        if self.locked:
            raise OpError("locked", "the transcript is locked")
        return {**self._segment_add(speaker, op), "source": "speech"}

    def _segment(self, segment_id: str, *, live: bool = True) -> Segment:
        """The segment an op names; with ``live``, one not struck from the
        record (a deleted segment is kept as history, not written on)."""
        seg = self._segments_by_id.get(segment_id)
        if seg is None:
            raise OpError("not_found", f"no segment {segment_id!r}")
        if live and seg.deleted:
            raise OpError("invalid", f"segment {segment_id} has been deleted")
        return seg

    def _check_rev(self, seg: Segment, base_rev: int) -> None:
        if seg.rev != base_rev:
            raise OpError("conflict", f"segment {seg.id} is at rev {seg.rev}, not {base_rev}",
                          segment=seg.to_dict())

    def _index(self, seg: Segment) -> int:
        return self.segments.index(seg)

    def _annotations_on(self, segment_id: str) -> list[Annotation]:
        return [a for a in self.annotations.values() if a.segment_id == segment_id]

    def _segment_add(self, actor: Participant, op: SegmentAdd) -> Event:
        speaker = actor if op.speaker is None else self.participant(op.speaker)
        position = len(self.segments)
        if op.after is not None:
            position = self._index(self._segment(op.after, live=False)) + 1
        seg = Segment(f"S{self._next_segment}", 1, op.text, speaker, op.start, op.end,
                      words=None if op.words is None else list(op.words))
        self._next_segment += 1
        self.segments.insert(position, seg)
        self._segments_by_id[seg.id] = seg
        after = self.segments[position - 1].id if position else None
        return {"kind": "segment.added", "segment": seg.to_dict(), "after": after}

    def _segment_edit(self, actor: Participant, op: SegmentEdit) -> Event:
        seg = self._segment(op.segment_id)
        self._check_rev(seg, op.base_rev)
        opcodes = anchoring.diff(seg.text, op.text)
        moved = []
        for ann in self._annotations_on(seg.id):
            start, end, orphaned = anchoring.reanchor(opcodes, op.text, ann.start, ann.end, ann.quote,
                                                      ann.prefix, ann.suffix, ann.orphaned)
            ann.start, ann.end, ann.orphaned = start, end, orphaned
            if not orphaned:
                ann.prefix, ann.suffix = anchoring.context(op.text, start, end)
            moved.append(ann.to_dict())
        seg.text = op.text
        seg.words = None  # the corrected text no longer is what was recognized
        seg.rev += 1
        return {"kind": "segment.edited", "segment": seg.to_dict(), "annotations": moved}

    def _segment_relabel(self, actor: Participant, op: SegmentRelabel) -> Event:
        seg = self._segment(op.segment_id)
        speaker = self.participant(op.speaker)
        self._check_rev(seg, op.base_rev)
        seg.speaker = speaker
        seg.rev += 1
        return {"kind": "segment.relabeled", "segment": seg.to_dict()}

    def _segment_split(self, actor: Participant, op: SegmentSplit) -> Event:
        seg = self._segment(op.segment_id)
        self._check_rev(seg, op.base_rev)
        if not 0 < op.offset < len(seg.text):
            raise OpError("invalid", f"offset must lie inside the text (1..{len(seg.text) - 1})")
        head, tail = seg.text[:op.offset], seg.text[op.offset:]
        if not head.strip() or not tail.strip():
            raise OpError("invalid", "both parts of a split need text")
        middle = seg.end
        if seg.start is not None and seg.end is not None:
            middle = seg.start + (seg.end - seg.start) * op.offset / len(seg.text)
        new = Segment(f"S{self._next_segment}", 1, tail, seg.speaker, middle, seg.end)
        self._next_segment += 1
        moved = []
        for ann in self._annotations_on(seg.id):
            if ann.start >= op.offset:
                ann.segment_id, ann.start, ann.end = new.id, ann.start - op.offset, ann.end - op.offset
            elif ann.end > op.offset:
                # Spanning the cut: it stays with the head, clipped to it.
                ann.end = op.offset
                if not ann.orphaned:
                    ann.quote = head[ann.start:]
            else:
                continue
            if not ann.orphaned:
                text = new.text if ann.segment_id == new.id else head
                ann.prefix, ann.suffix = anchoring.context(text, ann.start, ann.end)
            moved.append(ann.to_dict())
        seg.text, seg.end, seg.words = head, middle, None
        seg.rev += 1
        self.segments.insert(self._index(seg) + 1, new)
        self._segments_by_id[new.id] = new
        return {"kind": "segment.split", "segment": seg.to_dict(), "new_segment": new.to_dict(),
                "annotations": moved}

    def _segment_merge(self, actor: Participant, op: SegmentMerge) -> Event:
        seg = self._segment(op.segment_id)
        self._check_rev(seg, op.base_rev)
        index = self._index(seg)
        # The next segment still in the record: deleted ones in between stay
        # where they are, as history.
        following = next((i for i in range(index + 1, len(self.segments)) if not self.segments[i].deleted), None)
        if following is None:
            raise OpError("invalid", f"segment {seg.id} is the last one; nothing to merge with")
        nxt = self.segments[following]
        if op.next_rev is not None:
            self._check_rev(nxt, op.next_rev)
        if nxt.speaker != seg.speaker:
            raise OpError("invalid", "only segments of the same speaker can be merged")
        if len(seg.text) + len(nxt.text) > MAX_SEGMENT_TEXT:
            raise OpError("too_large", f"the merged text would be longer than {MAX_SEGMENT_TEXT} characters")
        shift = len(seg.text)
        text = seg.text + nxt.text
        moved = []
        for ann in self._annotations_on(nxt.id):
            ann.segment_id, ann.start, ann.end = seg.id, ann.start + shift, ann.end + shift
            moved.append(ann)
        for ann in self._annotations_on(seg.id):
            if ann not in moved:
                moved.append(ann)
        for ann in moved:
            if not ann.orphaned:
                ann.prefix, ann.suffix = anchoring.context(text, ann.start, ann.end)
        seg.text, seg.words = text, None
        if nxt.end is not None:
            seg.end = nxt.end
        seg.rev += 1
        del self.segments[following]
        del self._segments_by_id[nxt.id]
        return {"kind": "segment.merged", "segment": seg.to_dict(), "removed_segment_id": nxt.id,
                "annotations": [a.to_dict() for a in moved]}

    def _segment_delete(self, actor: Participant, op: SegmentDelete) -> Event:
        seg = self._segment(op.segment_id)
        self._check_rev(seg, op.base_rev)
        seg.deleted = True
        seg.rev += 1
        return {"kind": "segment.deleted", "segment": seg.to_dict(), "by": actor.label()}

    def usage_of(self, participant_id: str) -> Usage:
        return self.usage.get(participant_id) or Usage()

    def check_evidence(self, actor: Participant, size: int) -> None:
        """Whether ``actor`` may file evidence of ``size`` bytes now (also
        asked before an upload is stored)."""
        check(self.quotas, self.usage_of(actor.participant_id), evidence_items=1, evidence_bytes=size)

    def _annotation_add(self, actor: Participant, op: AnnotationAdd) -> Event:
        seg = self._segment(op.segment_id)
        if op.end > len(seg.text):
            raise OpError("invalid", f"end {op.end} is past the text's {len(seg.text)} characters")
        size = len(op.body.encode("utf-8"))
        usage = self.usage_of(actor.participant_id)
        check(self.quotas, usage, annotations=1, annotation_bytes=size)
        usage.annotations += 1
        usage.annotation_bytes += size
        self.usage[actor.participant_id] = usage
        prefix, suffix = anchoring.context(seg.text, op.start, op.end)
        ann = Annotation(f"A{self._next_annotation}", seg.id, op.start, op.end,
                         seg.text[op.start:op.end], prefix, suffix, op.style, op.body, op.color, actor)
        self._next_annotation += 1
        self.annotations[ann.id] = ann
        return {"kind": "annotation.added", "annotation": ann.to_dict()}

    def _annotation_remove(self, actor: Participant, op: AnnotationRemove) -> Event:
        ann = self.annotations.get(op.annotation_id)
        if ann is None:
            raise OpError("not_found", f"no annotation {op.annotation_id!r}")
        if ann.author.participant_id != actor.participant_id and actor.role not in REMOVES_ANY_ANNOTATION:
            raise OpError("forbidden", "only the author or the judge may remove an annotation")
        del self.annotations[ann.id]
        return {"kind": "annotation.removed", "annotation_id": ann.id, "annotation": ann.to_dict()}

    def _transcript_lock(self, actor: Participant, op: TranscriptLock) -> Event:
        assert self.hearing is not None
        ends = self.hearing.rules >= 2 and self.proceedings.status != Status.ENDED
        self.record.freeze(self.transcript_hash())
        event: Event = {"kind": "transcript.locked", "locked": True, "transcript_hash": self.lock_hash,
                        "by": actor.label()}
        if ends:
            # Nothing said after the lock could be recorded: locking closes
            # the hearing (闭庭) as well.
            self.proceedings.status = Status.ENDED
            event["status"] = Status.ENDED.value
            self._stream_ends(event)
        return event

    def _signature_add(self, actor: Participant, op: SignatureAdd) -> Event:
        sig = self.record.sign(actor, op.image, op.fingerprint,
                               "the transcript can be signed only after the judge locks it")
        return {"kind": "signature.added", "signature": sig.to_dict()}

    def _hearing_control(self, actor: Participant, op: HearingControl) -> Event:
        status = self.proceedings.transition(op.action)
        event = {"kind": _CONTROL_EVENTS[op.action], "status": status.value, "by": actor.label()}
        if status is Status.ENDED:
            self._stream_ends(event)
        return event

    def _stream_ends(self, event: Event) -> None:
        """闭庭 ends the live stream too; the event says so."""
        if self.broadcast.streaming:
            self.broadcast.stop()
            event["stream"] = self.broadcast.stream()

    def _stream_start(self, actor: Participant, op: StreamStart) -> Event:
        if self.proceedings.status is Status.ENDED:
            raise OpError("conflict", "the hearing has ended; it cannot be streamed")
        self.broadcast.start(op.delay_s)
        return {"kind": "stream.started", "stream": self.broadcast.stream(), "by": actor.label()}

    def _stream_stop(self, actor: Participant, op: StreamStop) -> Event:
        self.broadcast.stop()
        return {"kind": "stream.stopped", "stream": self.broadcast.stream(), "by": actor.label()}

    def _video_share(self, actor: Participant, op: VideoShare) -> Event:
        self.broadcast.share_video(op.shared)
        return {"kind": "video.shared" if op.shared else "video.unshared", "by": actor.label()}

    def _participant_protect(self, actor: Participant, op: ParticipantProtect) -> Event:
        target = self.participant(op.participant_id)
        if target.role in BENCH or target.role not in SPEAKING_ROLES:
            raise OpError("invalid", f"a {target.role.value} is not protected in the stream")
        self.broadcast.protect(target.participant_id, op.protected)
        return {"kind": "participant.protected" if op.protected else "participant.unprotected",
                "participant": target.label(), "by": actor.label()}

    def _other(self, actor: Participant, participant_id: str, what: str) -> Participant:
        """The participant an op acts on, who may not be its actor or a judge."""
        target = self.participant(participant_id)
        if target == actor or target.role in PRESIDING:
            raise OpError("invalid", f"a {target.role.value} cannot be {what}")
        return target

    def _participant_admit(self, actor: Participant, op: ParticipantAdmit) -> Event:
        target = self._other(actor, op.participant_id, "admitted")
        if target.participant_id in self.proceedings.admitted:
            raise OpError("conflict", f"{target.name} is already admitted")
        self.proceedings.admitted.add(target.participant_id)
        return {"kind": "participant.admitted", "participant": target.label(), "by": actor.label()}

    def _participant_remove(self, actor: Participant, op: ParticipantRemove) -> Event:
        target = self._other(actor, op.participant_id, "removed")
        if target.participant_id not in self.proceedings.admitted:
            raise OpError("conflict", f"{target.name} is not admitted")
        self.proceedings.admitted.discard(target.participant_id)
        return {"kind": "participant.removed", "participant": target.label(), "by": actor.label()}

    def _participant_mute(self, actor: Participant, op: ParticipantMute) -> Event:
        target = self.participant(op.participant_id)
        muted = self.proceedings.muted
        if target != actor and actor.role not in CONTROLS_OTHERS:
            raise OpError("forbidden", "only the judge may mute or unmute others")
        if target.role not in SPEAKING_ROLES:
            raise OpError("invalid", f"{target.name} does not speak")
        if op.muted == (target.participant_id in muted):
            raise OpError("conflict", f"{target.name} is already {'muted' if op.muted else 'unmuted'}")
        if not op.muted and muted[target.participant_id] != actor.participant_id \
                and actor.role not in CONTROLS_OTHERS:
            raise OpError("forbidden", "muted by the judge; only the judge may unmute")
        if op.muted:
            muted[target.participant_id] = actor.participant_id
        else:
            del muted[target.participant_id]
        return {"kind": "participant.muted" if op.muted else "participant.unmuted",
                "participant": target.label(), "by": actor.label()}

    def _evidence(self, evidence_id: str, approved: bool = False) -> Evidence:
        item = self.evidence.get(evidence_id)
        if item is None:
            raise OpError("not_found", f"no evidence {evidence_id!r}")
        if approved and not item.approved:
            raise OpError("invalid", f"evidence {evidence_id} has not been approved by the judge")
        return item

    def _evidence_add(self, actor: Participant, op: EvidenceAdd) -> Event:
        self.check_evidence(actor, op.size)
        usage = self.usage_of(actor.participant_id)
        usage.evidence_items += 1
        usage.evidence_bytes += op.size
        self.usage[actor.participant_id] = usage
        item = Evidence(f"E{self._next_evidence}", op.sha256, op.name, op.media_type, op.size, actor)
        self._next_evidence += 1
        self.evidence[item.id] = item
        return {"kind": "evidence.added", "evidence": item.to_dict()}

    def _evidence_approve(self, actor: Participant, op: EvidenceApprove) -> Event:
        item = self._evidence(op.evidence_id)
        if item.approved:
            raise OpError("conflict", f"evidence {item.id} is already approved")
        item.approved = True
        return {"kind": "evidence.approved", "evidence": item.to_dict(), "by": actor.label()}

    def _evidence_paste(self, actor: Participant, op: EvidencePaste) -> Event:
        item = self._evidence(op.evidence_id, approved=True)
        event = self._segment_add(actor, SegmentAdd(f"〔证据{item.id}：{item.name}〕", None, None, None, op.after))
        seg = self._segments_by_id[event["segment"]["id"]]
        seg.evidence_id = item.id
        return {**event, "segment": seg.to_dict(), "source": "evidence"}

    def _display_set(self, actor: Participant, op: DisplaySet) -> Event:
        display: dict[str, Any] = {"view": op.view}
        if op.evidence_id is not None:
            display["evidence_id"] = self._evidence(op.evidence_id, approved=True).id
        if op.participant_id is not None:
            display["participant_id"] = self.participant(op.participant_id).participant_id
        self.display = display
        return {"kind": "display.changed", "display": display, "by": actor.label()}

    def _vocabulary_set(self, actor: Participant, op: VocabularySet) -> Event:
        self.vocabulary = list(op.terms)
        return {"kind": "vocabulary.changed", "terms": self.vocabulary, "by": actor.label()}

    def _invitee(self, actor: Actor, participant_id: str, kind: str) -> Participant:
        """Whose invite an op changes: anyone's for court staff; for a judge,
        anyone's but another judge's, and never their own revoked (they
        would lock themselves out)."""
        target = self.participant(participant_id)
        if isinstance(actor, Participant) and target.role == Role.JUDGE \
                and (target != actor or kind == "invite.revoke"):
            raise OpError("forbidden", "only court staff may revoke a judge's invite or re-issue another judge's")
        return target

    def _invite_revoke(self, actor: Actor, op: InviteRevoke) -> Event:
        target = self._invitee(actor, op.participant_id, "invite.revoke")
        return {"kind": "invite.revoked", "participant": target.label(), "by": actor.label()}

    def _invite_reissue(self, actor: Actor, op: InviteReissue) -> Event:
        target = self._invitee(actor, op.participant_id, "invite.reissue")
        return {"kind": "invite.reissued", "participant": target.label(), "by": actor.label()}

    # -- views ------------------------------------------------------------

    def transcript_hash(self) -> str:
        """SHA-256 of the segments and annotations: what a signature signs."""
        return sha256_hex(canonical_json({
            "segments": [s.to_dict() for s in self.segments],
            "annotations": [a.to_dict() for a in self.annotations.values()],
        }))

    def view(self) -> dict[str, Any]:
        """What a screen needs to show the hearing: the snapshot without the
        state's own counters and the participants' usage."""
        view = self.snapshot()
        del view["next"], view["usage"]
        return view

    def files(self) -> list[tuple[str, str]]:
        """Every stored file the hearing refers to: (what it is, SHA-256)."""
        return [(f"evidence {e.id} ({e.name})", e.sha256) for e in self.evidence.values()]

    def snapshot(self) -> dict[str, Any]:
        """Everything the state holds, as JSON; equal states give equal snapshots."""
        return {
            "hearing": self.hearing.to_dict() if self.hearing else None,
            "segments": [s.to_dict() for s in self.segments],
            "annotations": [a.to_dict() for a in self.annotations.values()],
            "locked": self.locked,
            "lock_hash": self.lock_hash,
            "signatures": [s.to_dict() for s in self.signatures.values()],
            "proceedings": self.proceedings.to_dict(),
            "broadcast": self.broadcast.to_dict(),
            "evidence": [e.to_dict() for e in self.evidence.values()],
            "display": self.display,
            "vocabulary": self.vocabulary,
            "next": [self._next_segment, self._next_annotation, self._next_evidence],
            "usage": {pid: [u.annotations, u.annotation_bytes, u.evidence_items, u.evidence_bytes]
                      for pid, u in sorted(self.usage.items())},
        }


# -- the op kinds ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OpKind:
    """Everything the core knows about one kind of op, in one place: how it
    is parsed, who may send it, whether the lock stops it, how it applies.
    A new kind is one line in ``OPS`` (and its parser and handler)."""
    parse: Callable[[dict[str, Any]], Any]
    handle: Callable[[TranscriptState, Actor, Any], Event]
    #: The participant roles that may send it.
    roles: frozenset[Role]
    #: Court staff (the admin token) may send it too.
    staff: bool = False
    #: The lock does not stop it: it changes nothing in the transcript
    #: (running the hearing, handling evidence), or it signs it.
    after_lock: bool = False


_S = TranscriptState
OPS: dict[str, OpKind] = {
    "segment.add": OpKind(ops.parse_segment_add, _S._segment_add, BENCH),
    "segment.edit": OpKind(ops.parse_segment_edit, _S._segment_edit, BENCH),
    "segment.relabel": OpKind(ops.parse_segment_relabel, _S._segment_relabel, BENCH),
    "segment.delete": OpKind(ops.parse_segment_delete, _S._segment_delete, BENCH),
    "segment.split": OpKind(ops.parse_segment_split, _S._segment_split, BENCH),
    "segment.merge": OpKind(ops.parse_segment_merge, _S._segment_merge, BENCH),
    "annotation.add": OpKind(ops.parse_annotation_add, _S._annotation_add, TAKING_PART),
    "annotation.remove": OpKind(ops.parse_annotation_remove, _S._annotation_remove, TAKING_PART),
    "transcript.lock": OpKind(ops.parse_transcript_lock, _S._transcript_lock, JUDGE_ONLY),
    "signature.add": OpKind(ops.parse_signature_add, _S._signature_add, TAKING_PART, after_lock=True),
    "hearing.start": OpKind(ops.parse_hearing_control, _S._hearing_control, PRESIDING, after_lock=True),
    "hearing.pause": OpKind(ops.parse_hearing_control, _S._hearing_control, PRESIDING, after_lock=True),
    "hearing.end": OpKind(ops.parse_hearing_control, _S._hearing_control, PRESIDING, after_lock=True),
    "participant.admit": OpKind(ops.parse_participant_admit, _S._participant_admit, PRESIDING, after_lock=True),
    "participant.remove": OpKind(ops.parse_participant_remove, _S._participant_remove, PRESIDING,
                                 after_lock=True),
    # One's own microphone; the judge's (or mediator's) for anyone (CONTROLS_OTHERS).
    "participant.mute": OpKind(ops.parse_participant_mute, _S._participant_mute, TAKING_PART | PRESIDING,
                               after_lock=True),
    "evidence.add": OpKind(ops.parse_evidence_add, _S._evidence_add, TAKING_PART, after_lock=True),
    # Deciding on evidence and what every screen shows is the judge's;
    # pasting evidence into the transcript is writing it, as the clerk does.
    "evidence.approve": OpKind(ops.parse_evidence_approve, _S._evidence_approve, PRESIDING, after_lock=True),
    "evidence.paste": OpKind(ops.parse_evidence_paste, _S._evidence_paste, BENCH),
    # The public live stream: the judge's alone, approved per hearing.
    "stream.start": OpKind(ops.parse_stream_start, _S._stream_start, JUDGE_ONLY, after_lock=True),
    "stream.stop": OpKind(ops.parse_stream_stop, _S._stream_stop, JUDGE_ONLY, after_lock=True),
    "participant.protect": OpKind(ops.parse_participant_protect, _S._participant_protect, JUDGE_ONLY,
                                  after_lock=True),
    # The composed recording is the court's; the judge may give it to the parties.
    "video.share": OpKind(ops.parse_video_share, _S._video_share, JUDGE_ONLY, after_lock=True),
    "display.set": OpKind(ops.parse_display_set, _S._display_set, PRESIDING, after_lock=True),
    "vocabulary.set": OpKind(ops.parse_vocabulary_set, _S._vocabulary_set, BENCH, after_lock=True),
    # Invite links: the judge's for the others, court staff's for anyone.
    "invite.revoke": OpKind(ops.parse_invite_revoke, _S._invite_revoke, JUDGE_ONLY, staff=True, after_lock=True),
    "invite.reissue": OpKind(ops.parse_invite_reissue, _S._invite_reissue, JUDGE_ONLY, staff=True,
                             after_lock=True),
}
OP_KINDS = tuple(OPS)


def _parse(raw_op: Any) -> tuple[str, OpKind, Any]:
    kind, spec = kind_of(raw_op, OPS)
    return kind, spec, spec.parse(raw_op)


def parse_op(raw_op: Any) -> Any:
    """A client's op object as a typed op, or ``OpError``."""
    return _parse(raw_op)[2]


def may(role: Role, kind: str) -> bool:
    """Whether a participant of ``role`` may send ops of ``kind``."""
    spec = OPS.get(kind)
    return spec is not None and role in spec.roles


def permissions_of(role: Role) -> list[str]:
    """The permission list sent in ``welcome``: op kinds, plus
    ``annotation.remove.any`` where the role may remove others' annotations
    and ``participant.mute.any`` where it may mute others."""
    perms = sorted(kind for kind, spec in OPS.items() if role in spec.roles)
    if role in REMOVES_ANY_ANNOTATION:
        perms.append("annotation.remove.any")
    if role in CONTROLS_OTHERS:
        perms.append("participant.mute.any")
    return perms
