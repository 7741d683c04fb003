// The hearing as this page knows it: the transcript (segments in order,
// annotations), interim speech, the participants and the proceedings,
// kept equal to the hub's by applying its events in seq order.
export const ROLE = { judge: "审判员", clerk: "书记员", plaintiff: "原告", defendant: "被告", agent: "代理人",
  prosecutor: "公诉人", witness: "证人", observer: "旁听", mediator: "调解员" };

// 12 → 十二, as a court numbers its evidence (证据一, 证据十二).
const DIGITS = "零一二三四五六七八九";
export function chineseNumber(n) {
  if (n < 10) return DIGITS[n];
  if (n < 20) return "十" + (n % 10 ? DIGITS[n % 10] : "");
  if (n < 100) return DIGITS[Math.floor(n / 10)] + "十" + (n % 10 ? DIGITS[n % 10] : "");
  if (n < 1000) {
    const rest = n % 100;
    return DIGITS[Math.floor(n / 100)] + "百" + (rest === 0 ? "" : rest < 10 ? "零" + DIGITS[rest] : rest < 20 ? "一" + chineseNumber(rest) : chineseNumber(rest));
  }
  return String(n);
}

// An evidence item as the court refers to it: E3 → 证据三.
export function evidenceLabel(id) {
  const n = Number(String(id).replace(/^E/, ""));
  return Number.isInteger(n) && n > 0 ? `证据${chineseNumber(n)}` : "证据";
}

export class Transcript {
  constructor() {
    this.hearing = null;
    this.segments = new Map();     // id -> segment
    this.order = [];               // segment ids in transcript order
    this.annotations = new Map();  // id -> annotation
    this.bySegment = new Map();    // segment id -> Set of annotation ids
    this.partials = new Map();     // participant_id -> interim text
    this.names = {};               // participant_id -> participant
    this.proceedings = { status: "not_started", admitted: new Set(), muted: new Map() };
    this.locked = false;
    this.lockHash = null;
    this.signatures = new Map();   // participant_id -> signature
    this.evidence = new Map();     // id -> evidence item
    this.display = { view: "transcript" };  // what the judge has every screen show
    // The public live stream: whether the hearing may be streamed at all
    // (不公开: never), whether it is, its delay, who is masked in it.
    this.broadcast = { public: true, streaming: false, delay_s: 30, number: 0, protected: new Set(),
                       video_shared: false };
    this.seq = 0;
  }

  // Take the hub's snapshot of the hearing at ``seq`` (a new screen's
  // start; the events after it follow).
  load(state, seq) {
    this.apply({ kind: "hearing.created", hearing: state.hearing });
    const p = this.proceedings;
    p.status = state.proceedings.status;
    p.admitted = new Set(state.proceedings.admitted);
    p.muted = new Map(Object.entries(state.proceedings.muted));
    this.segments = new Map(state.segments.map(s => [s.id, s]));
    this.order = state.segments.map(s => s.id);
    this.annotations = new Map();
    this.bySegment = new Map();
    for (const a of state.annotations) this.put(a);
    this.locked = state.locked;
    this.lockHash = state.lock_hash;
    this.signatures = new Map(state.signatures.map(s => [s.participant.participant_id, s]));
    this.evidence = new Map(state.evidence.map(e => [e.id, e]));
    this.display = state.display;
    if (state.broadcast) this.broadcast = { ...state.broadcast, protected: new Set(state.broadcast.protected) };
    this.seq = seq;
  }

  // Apply one event; returns the ids of the segments whose rendering changed
  // and whether the order of segments changed.
  apply(ev) {
    const dirty = new Set();
    let reordered = false;
    const p = this.proceedings;
    switch (ev.kind) {
      case "hearing.created":
        this.hearing = ev.hearing;
        this.broadcast.public = ev.hearing.public !== false && (ev.hearing.kind || "hearing") === "hearing";
        for (const x of ev.hearing.participants) {
          this.names[x.participant_id] = x;
          const waits = ev.hearing.waiting_room && x.site !== "court" && x.role !== "judge" && x.role !== "clerk";
          if (!waits) p.admitted.add(x.participant_id);
        }
        break;
      case "hearing.started": case "hearing.paused": case "hearing.ended":
        p.status = ev.status;
        if (ev.stream) Object.assign(this.broadcast, ev.stream);  // 闭庭 ended the stream
        break;
      case "stream.started": case "stream.stopped": Object.assign(this.broadcast, ev.stream); break;
      case "participant.protected": this.broadcast.protected.add(ev.participant.participant_id); break;
      case "participant.unprotected": this.broadcast.protected.delete(ev.participant.participant_id); break;
      case "video.shared": case "video.unshared": this.broadcast.video_shared = ev.kind === "video.shared"; break;
      case "participant.admitted": p.admitted.add(ev.participant.participant_id); break;
      case "participant.removed": p.admitted.delete(ev.participant.participant_id); break;
      case "participant.muted": p.muted.set(ev.participant.participant_id, ev.by.participant_id); break;
      case "participant.unmuted": p.muted.delete(ev.participant.participant_id); break;
      case "segment.added": {
        this.segments.set(ev.segment.id, ev.segment);
        const at = ev.after === null ? 0 : this.order.indexOf(ev.after) + 1;
        this.order.splice(at, 0, ev.segment.id);
        this.partials.delete(ev.segment.speaker.participant_id);
        dirty.add(ev.segment.id);
        reordered = true;
        break;
      }
      case "segment.split":
        this.order.splice(this.order.indexOf(ev.segment.id) + 1, 0, ev.new_segment.id);
        this.segments.set(ev.new_segment.id, ev.new_segment);
        dirty.add(ev.new_segment.id);
        reordered = true;
        // fall through
      case "segment.edited": case "segment.relabeled": case "segment.merged": case "segment.deleted":
        this.segments.set(ev.segment.id, ev.segment);
        dirty.add(ev.segment.id);
        if (ev.removed_segment_id) {
          this.segments.delete(ev.removed_segment_id);
          this.order.splice(this.order.indexOf(ev.removed_segment_id), 1);
          reordered = true;
        }
        for (const a of ev.annotations || []) { this.put(a); dirty.add(a.segment_id); }
        break;
      case "annotation.added": this.put(ev.annotation); dirty.add(ev.annotation.segment_id); break;
      case "annotation.removed": this.drop(ev.annotation_id); dirty.add(ev.annotation.segment_id); break;
      case "transcript.locked":
        this.locked = true;
        this.lockHash = ev.transcript_hash;
        if (ev.status) p.status = ev.status;  // the lock also closed the hearing
        if (ev.stream) Object.assign(this.broadcast, ev.stream);
        break;
      case "evidence.added": case "evidence.approved": this.evidence.set(ev.evidence.id, ev.evidence); break;
      case "display.changed": this.display = ev.display; break;
      case "signature.added": this.signatures.set(ev.signature.participant.participant_id, ev.signature); break;
    }
    return { dirty, reordered };
  }

  put(a) {
    this.drop(a.id);
    this.annotations.set(a.id, a);
    if (!this.bySegment.has(a.segment_id)) this.bySegment.set(a.segment_id, new Set());
    this.bySegment.get(a.segment_id).add(a.id);
  }

  drop(id) {
    const old = this.annotations.get(id);
    if (old) this.bySegment.get(old.segment_id).delete(id);
    this.annotations.delete(id);
  }

  annotationsOn(segmentId) {
    return [...(this.bySegment.get(segmentId) || [])].map(id => this.annotations.get(id));
  }

  // The segment after ``id`` that is still in the record (deleted ones are history).
  nextLive(id) {
    for (let i = this.order.indexOf(id) + 1; i < this.order.length; i++) {
      const seg = this.segments.get(this.order[i]);
      if (!seg.deleted) return seg;
    }
    return null;
  }

  authors() {
    const seen = new Map();
    for (const a of this.annotations.values()) seen.set(a.author.participant_id, a.author);
    return [...seen.values()];
  }
}
