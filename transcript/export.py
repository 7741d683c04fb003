"""Exports of a transcript: plain text 笔录, JSON and WebVTT."""

from __future__ import annotations

import json
from typing import Callable

from .roles import ROLE_LABELS, Role
from . import subtitles
from .state import TranscriptState
from .subtitles import Cue

STYLE_LABELS = {"highlight": "标注", "comment": "批注", "ink": "手写", "issue": "争议"}


def _speaker(label: dict[str, str]) -> str:
    return f"{ROLE_LABELS[Role(label['role'])]} {label['name']}"


def to_json(state: TranscriptState, seq: int) -> str:
    doc = {"seq": seq, "transcript_hash": state.transcript_hash(), **state.snapshot()}
    del doc["next"]
    return json.dumps(doc, ensure_ascii=False, indent=2)


def to_txt(state: TranscriptState, seq: int) -> str:
    assert state.hearing is not None
    h = state.hearing
    lines = [h.court, "庭审笔录", f"案号：{h.case_number}", f"案由：{h.title}",
             "参加人员：" + "；".join(f"{ROLE_LABELS[p.role]} {p.name}" for p in h.participants.values()),
             ""]
    notes: dict[str, list[str]] = {}
    for a in state.annotations.values():
        mark = f"  〔{STYLE_LABELS[a.style]}·{a.author.name}〕“{a.quote}”"
        if a.style != "ink" and a.body:
            mark += f"：{a.body}"
        if a.orphaned:
            mark += "（原文已修改）"
        notes.setdefault(a.segment_id, []).append(mark)
    for s in state.segments:
        stamp = f"[{subtitles.clock(s.start)[:8]}] " if s.start is not None else ""
        lines.append(f"{stamp}{_speaker(s.speaker.label())}：{s.text}")
        lines.extend(notes.get(s.id, []))
    lines.append("")
    if state.locked:
        lines.append(f"笔录已锁定，摘要 SHA-256：{state.lock_hash}")
        for sig in state.signatures.values():
            kinds = "、".join(k for k, v in (("手写签名", sig.image), ("指纹", sig.fingerprint)) if v)
            lines.append(f"签名：{_speaker(sig.participant.label())}（{kinds}）")
    else:
        lines.append("笔录未锁定（庭审进行中）")
    lines.append(f"记录序号：{seq}")
    return "\n".join(lines) + "\n"


def to_vtt(state: TranscriptState, seq: int) -> str:
    """Timed segments as WebVTT cues; segments without times are left out."""
    return subtitles.to_vtt([Cue(s.start, s.end, s.text, _speaker(s.speaker.label()), s.id)
                             for s in state.segments if s.start is not None and s.end is not None])


EXPORTERS: dict[str, tuple[Callable[[TranscriptState, int], str], str]] = {
    "txt": (to_txt, "text/plain; charset=utf-8"),
    "json": (to_json, "application/json"),
    "vtt": (to_vtt, "text/vtt; charset=utf-8"),
}
