"""Client ops: parsed from JSON and validated field by field, one parser
per kind (``parse_<kind>``; the table of kinds is ``state.OPS``).

Parsing is separate from applying so that a malformed op is refused before
the state is looked at, and so that every limit has one home.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Union

from .broadcast import MAX_DELAY, MIN_DELAY
from .errors import OpError
from .fields import MAX_ID
from .fields import fields as _fields, image as _image, integer as _int, optional_id as _opt_id, seconds as _time, \
    text as _str

MAX_SEGMENT_TEXT = 5_000
MAX_BODY = 2_000
MAX_INK_BODY = 64 * 1024

STYLES = ("highlight", "comment", "ink", "issue")
COLORS = ("yellow", "green", "blue", "pink", "orange", "purple", "red")
DEFAULT_COLOR = "yellow"


MAX_WORDS = 2_000
MAX_WORD = 50


@dataclass(frozen=True, slots=True)
class SegmentAdd:
    text: str
    speaker: str | None
    start: float | None
    end: float | None
    after: str | None
    #: Recognized words with their confidence, so the clerk sees the unsure ones.
    words: tuple[dict[str, Any], ...] | None = None


@dataclass(frozen=True, slots=True)
class SegmentEdit:
    segment_id: str
    base_rev: int
    text: str


@dataclass(frozen=True, slots=True)
class SegmentDelete:
    """Strike a segment from the record (a recognizer's duplicate or noise).
    It stays in the state and the log, marked deleted."""
    segment_id: str
    base_rev: int


@dataclass(frozen=True, slots=True)
class SegmentRelabel:
    segment_id: str
    base_rev: int
    speaker: str


@dataclass(frozen=True, slots=True)
class SegmentSplit:
    segment_id: str
    base_rev: int
    offset: int


@dataclass(frozen=True, slots=True)
class SegmentMerge:
    """Merge a segment with the one after it."""
    segment_id: str
    base_rev: int
    next_rev: int | None


@dataclass(frozen=True, slots=True)
class AnnotationAdd:
    segment_id: str
    start: int
    end: int
    style: str
    body: str
    color: str


@dataclass(frozen=True, slots=True)
class AnnotationRemove:
    annotation_id: str


@dataclass(frozen=True, slots=True)
class TranscriptLock:
    pass


@dataclass(frozen=True, slots=True)
class SignatureAdd:
    image: str | None
    fingerprint: str | None


@dataclass(frozen=True, slots=True)
class HearingControl:
    """``hearing.start`` (开庭, also resuming after a pause), ``hearing.pause``
    (休庭) or ``hearing.end`` (闭庭)."""
    action: str


@dataclass(frozen=True, slots=True)
class ParticipantAdmit:
    """Let a participant in from the waiting room."""
    participant_id: str


@dataclass(frozen=True, slots=True)
class ParticipantRemove:
    """Send a participant out to the waiting room (their media stops)."""
    participant_id: str


@dataclass(frozen=True, slots=True)
class ParticipantMute:
    participant_id: str
    muted: bool


@dataclass(frozen=True, slots=True)
class StreamStart:
    """Start the public live stream, ``delay_s`` behind the courtroom."""
    delay_s: int | None


@dataclass(frozen=True, slots=True)
class StreamStop:
    pass


@dataclass(frozen=True, slots=True)
class ParticipantProtect:
    """Blur a participant and change their voice in the live stream."""
    participant_id: str
    protected: bool


@dataclass(frozen=True, slots=True)
class VideoShare:
    """Let the parties have the composed recording, or no longer."""
    shared: bool


#: What evidence may be: photographs and scanned or PDF documents.
EVIDENCE_TYPES = ("image/jpeg", "image/png", "image/webp", "application/pdf")
MAX_EVIDENCE_BYTES = 20 * 1024 * 1024
MAX_NAME = 200
VIEWS = ("transcript", "evidence", "video")


@dataclass(frozen=True, slots=True)
class EvidenceAdd:
    sha256: str
    name: str
    media_type: str
    size: int


@dataclass(frozen=True, slots=True)
class EvidenceApprove:
    evidence_id: str


@dataclass(frozen=True, slots=True)
class EvidencePaste:
    """Put an approved evidence item into the transcript as a segment."""
    evidence_id: str
    after: str | None


@dataclass(frozen=True, slots=True)
class DisplaySet:
    """What every screen shows: the transcript, an evidence item, or a
    participant's video."""
    view: str
    evidence_id: str | None
    participant_id: str | None


MAX_TERMS = 1_000


@dataclass(frozen=True, slots=True)
class VocabularySet:
    """The legal terms recognition spells the court's way in this hearing."""
    terms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class InviteRevoke:
    """Make a participant's invite token worthless at once (their screens
    are disconnected)."""
    participant_id: str


@dataclass(frozen=True, slots=True)
class InviteReissue:
    """Replace a participant's invite token. The hub generates the token
    and returns it to the caller over HTTP; the log keeps only its SHA-256,
    as the hub's invite table does."""
    participant_id: str
    token_hash: str


Op = Union[InviteRevoke, InviteReissue, SegmentAdd, SegmentEdit, SegmentDelete, SegmentRelabel, SegmentSplit, SegmentMerge, AnnotationAdd,
           AnnotationRemove, TranscriptLock, SignatureAdd, HearingControl, ParticipantAdmit,
           ParticipantRemove, ParticipantMute, EvidenceAdd, EvidenceApprove, EvidencePaste, DisplaySet, VocabularySet]


def _words(value: Any) -> tuple[dict[str, Any], ...] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise OpError("invalid", "words must be a list")
    if len(value) > MAX_WORDS:
        raise OpError("too_large", f"at most {MAX_WORDS} words")
    out = []
    for w in value:
        if not isinstance(w, dict) or set(w) != {"word", "start", "end", "conf"}:
            raise OpError("invalid", "a word is {word, start, end, conf}")
        conf = w["conf"]
        if not isinstance(conf, (int, float)) or isinstance(conf, bool) or not 0 <= conf <= 1:
            raise OpError("invalid", "conf must be a number from 0 to 1")
        start, end = _time(w["start"], "word start"), _time(w["end"], "word end")
        out.append({"word": _str(w["word"], "word", MAX_WORD), "start": start, "end": end, "conf": float(conf)})
    return tuple(out)


def parse_segment_add(op: dict[str, Any]) -> SegmentAdd:
    _fields(op, ("text",), ("speaker", "start", "end", "after", "words"))
    start, end = _time(op.get("start"), "start"), _time(op.get("end"), "end")
    if start is not None and end is not None and end < start:
        raise OpError("invalid", "end must not be before start")
    return SegmentAdd(_str(op["text"], "text", MAX_SEGMENT_TEXT), _opt_id(op.get("speaker"), "speaker"),
                      start, end, _opt_id(op.get("after"), "after"), _words(op.get("words")))


def parse_segment_edit(op: dict[str, Any]) -> SegmentEdit:
    _fields(op, ("segment_id", "base_rev", "text"), ())
    return SegmentEdit(_str(op["segment_id"], "segment_id", MAX_ID), _int(op["base_rev"], "base_rev", 1),
                       _str(op["text"], "text", MAX_SEGMENT_TEXT))


def parse_segment_delete(op: dict[str, Any]) -> SegmentDelete:
    _fields(op, ("segment_id", "base_rev"), ())
    return SegmentDelete(_str(op["segment_id"], "segment_id", MAX_ID), _int(op["base_rev"], "base_rev", 1))


def parse_segment_relabel(op: dict[str, Any]) -> SegmentRelabel:
    _fields(op, ("segment_id", "base_rev", "speaker"), ())
    return SegmentRelabel(_str(op["segment_id"], "segment_id", MAX_ID),
                          _int(op["base_rev"], "base_rev", 1), _str(op["speaker"], "speaker", MAX_ID))


def parse_segment_split(op: dict[str, Any]) -> SegmentSplit:
    _fields(op, ("segment_id", "base_rev", "offset"), ())
    return SegmentSplit(_str(op["segment_id"], "segment_id", MAX_ID),
                        _int(op["base_rev"], "base_rev", 1), _int(op["offset"], "offset", 1))


def parse_segment_merge(op: dict[str, Any]) -> SegmentMerge:
    _fields(op, ("segment_id", "base_rev"), ("next_rev",))
    next_rev = op.get("next_rev")
    return SegmentMerge(_str(op["segment_id"], "segment_id", MAX_ID), _int(op["base_rev"], "base_rev", 1),
                        None if next_rev is None else _int(next_rev, "next_rev", 1))


def parse_annotation_add(op: dict[str, Any]) -> AnnotationAdd:
    _fields(op, ("segment_id", "start", "end", "style"), ("body", "color"))
    style = op["style"]
    if style not in STYLES:
        raise OpError("invalid", f"style must be one of {', '.join(STYLES)}")
    color = op.get("color", DEFAULT_COLOR)
    if color not in COLORS:
        raise OpError("invalid", f"color must be one of {', '.join(COLORS)}")
    body = op.get("body", "")
    body = _str(body, "body", MAX_INK_BODY if style == "ink" else MAX_BODY, empty=True)
    if style in ("comment", "ink") and not body.strip():
        raise OpError("invalid", f"a {style} annotation needs a body")
    start, end = _int(op["start"], "start"), _int(op["end"], "end")
    if end <= start:
        raise OpError("invalid", "end must be after start")
    return AnnotationAdd(_str(op["segment_id"], "segment_id", MAX_ID), start, end, style, body, color)


def parse_annotation_remove(op: dict[str, Any]) -> AnnotationRemove:
    _fields(op, ("annotation_id",), ())
    return AnnotationRemove(_str(op["annotation_id"], "annotation_id", MAX_ID))


def parse_transcript_lock(op: dict[str, Any]) -> TranscriptLock:
    _fields(op, (), ())
    return TranscriptLock()


def parse_signature_add(op: dict[str, Any]) -> SignatureAdd:
    _fields(op, (), ("image", "fingerprint"))
    sig = SignatureAdd(_image(op.get("image"), "image"), _image(op.get("fingerprint"), "fingerprint"))
    if sig.image is None and sig.fingerprint is None:
        raise OpError("invalid", "a signature needs an image or a fingerprint")
    return sig


def parse_hearing_control(op: dict[str, Any]) -> HearingControl:
    _fields(op, (), ())
    return HearingControl(op["kind"].split(".", 1)[1])


def _participant_id(op: dict[str, Any]) -> str:
    return _str(op["participant_id"], "participant_id", MAX_ID)


def parse_participant_admit(op: dict[str, Any]) -> ParticipantAdmit:
    _fields(op, ("participant_id",), ())
    return ParticipantAdmit(_participant_id(op))


def parse_participant_remove(op: dict[str, Any]) -> ParticipantRemove:
    _fields(op, ("participant_id",), ())
    return ParticipantRemove(_participant_id(op))


def parse_participant_mute(op: dict[str, Any]) -> ParticipantMute:
    _fields(op, ("participant_id", "muted"), ())
    if not isinstance(op["muted"], bool):
        raise OpError("invalid", "muted must be true or false")
    return ParticipantMute(_participant_id(op), op["muted"])


def parse_stream_start(op: dict[str, Any]) -> StreamStart:
    _fields(op, (), ("delay_s",))
    delay = op.get("delay_s")
    if delay is None:
        return StreamStart(None)
    delay = _int(delay, "delay_s", MIN_DELAY)
    if delay > MAX_DELAY:
        raise OpError("invalid", f"delay_s must be at most {MAX_DELAY}")
    return StreamStart(delay)


def parse_stream_stop(op: dict[str, Any]) -> StreamStop:
    _fields(op, (), ())
    return StreamStop()


def parse_participant_protect(op: dict[str, Any]) -> ParticipantProtect:
    _fields(op, ("participant_id", "protected"), ())
    if not isinstance(op["protected"], bool):
        raise OpError("invalid", "protected must be true or false")
    return ParticipantProtect(_participant_id(op), op["protected"])


def parse_video_share(op: dict[str, Any]) -> VideoShare:
    _fields(op, ("shared",), ())
    if not isinstance(op["shared"], bool):
        raise OpError("invalid", "shared must be true or false")
    return VideoShare(op["shared"])


def parse_evidence_add(op: dict[str, Any]) -> EvidenceAdd:
    _fields(op, ("sha256", "name", "media_type", "size"), ())
    return stored_file(op)


def stored_file(op: dict[str, Any]) -> EvidenceAdd:
    """A file the hub has stored under its SHA-256 (an evidence item, an
    attachment), as an op names it: its hash, name, type and size."""
    sha = op["sha256"]
    if not isinstance(sha, str) or not re.fullmatch(r"[0-9a-f]{64}", sha):
        raise OpError("invalid", "sha256 must be 64 lowercase hex digits")
    if op["media_type"] not in EVIDENCE_TYPES:
        raise OpError("invalid", f"media_type must be one of {', '.join(EVIDENCE_TYPES)}")
    size = _int(op["size"], "size", 1)
    if size > MAX_EVIDENCE_BYTES:
        raise OpError("too_large", f"evidence is limited to {MAX_EVIDENCE_BYTES} bytes")
    return EvidenceAdd(sha, evidence_name(op["name"]), op["media_type"], size)


def evidence_name(value: Any) -> str:
    """An evidence item's name, as ``evidence.add`` will take it (checked
    before an upload is stored, so a bad name leaves nothing behind)."""
    return _str(value, "name", MAX_NAME)


def parse_evidence_approve(op: dict[str, Any]) -> EvidenceApprove:
    _fields(op, ("evidence_id",), ())
    return EvidenceApprove(_str(op["evidence_id"], "evidence_id", MAX_ID))


def parse_evidence_paste(op: dict[str, Any]) -> EvidencePaste:
    _fields(op, ("evidence_id",), ("after",))
    return EvidencePaste(_str(op["evidence_id"], "evidence_id", MAX_ID), _opt_id(op.get("after"), "after"))


def parse_display_set(op: dict[str, Any]) -> DisplaySet:
    _fields(op, ("view",), ("evidence_id", "participant_id"))
    view = op["view"]
    if view not in VIEWS:
        raise OpError("invalid", f"view must be one of {', '.join(VIEWS)}")
    evidence_id, participant_id = _opt_id(op.get("evidence_id"), "evidence_id"), _opt_id(op.get("participant_id"), "participant_id")
    if (view == "evidence") != (evidence_id is not None) or (view == "video") != (participant_id is not None):
        raise OpError("invalid", "evidence needs evidence_id, video needs participant_id, and nothing else")
    return DisplaySet(view, evidence_id, participant_id)


def parse_vocabulary_set(op: dict[str, Any]) -> VocabularySet:
    _fields(op, ("terms",), ())
    terms = op["terms"]
    if not isinstance(terms, list):
        raise OpError("invalid", "terms must be a list")
    if len(terms) > MAX_TERMS:
        raise OpError("too_large", f"at most {MAX_TERMS} terms")
    for n, t in enumerate(terms, 1):
        if not isinstance(t, str) or not re.fullmatch(r"[\u3400-\u9fff]{2,20}", t):
            raise OpError("invalid", f"term {n} is not 2 to 20 Chinese characters")
    return VocabularySet(tuple(dict.fromkeys(terms)))


def parse_invite_revoke(op: dict[str, Any]) -> InviteRevoke:
    _fields(op, ("participant_id",), ())
    return InviteRevoke(_participant_id(op))


def parse_invite_reissue(op: dict[str, Any]) -> InviteReissue:
    _fields(op, ("participant_id", "token_hash"), ())
    token_hash = op["token_hash"]
    if not isinstance(token_hash, str) or not re.fullmatch(r"[0-9a-f]{64}", token_hash):
        raise OpError("invalid", "token_hash must be 64 lowercase hex digits")
    return InviteReissue(_participant_id(op), token_hash)
