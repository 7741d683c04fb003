// The transcript on screen, rendered incrementally (only segments that
// changed): speaker and text, everyone's marks in their colours, interim
// speech in grey at the end, search, a filter by author, auto-scroll that
// pauses while the reader looks back, and tap ▶ to hear a segment again.
import { drawInk } from "/static/ink.js";
import { ROLE } from "/static/transcript.js";

const STYLE = { highlight: "标注", comment: "批注", ink: "手写", issue: "争议" };

export class TranscriptView {
  constructor(transcript, list, partialsEl, jump, recordingUrl) {
    this.t = transcript;
    this.list = list;
    this.partialsEl = partialsEl;
    this.jump = jump;              // "new below" button shown while reading back
    this.recordingUrl = recordingUrl;
    this.items = new Map();        // segment id -> li
    this.author = "";              // show only this author's marks ("" = everyone)
    this.query = "";
    this.player = new Audio();
    this.onMark = null;            // (annotation, element) => void, when a mark is tapped
    this.decorate = null;          // (li, segment) => void, adds tools to a rendered segment
    this.onEvidence = null;        // (evidence id) => void, for a pasted evidence item
    this.showUnsure = false;       // mark words the recognizer was unsure of (for the clerk)
    this.editing = () => null;     // the id of a segment being edited, left alone
    jump.addEventListener("click", () => { this.toBottom(); jump.hidden = true; });
    window.addEventListener("scroll", () => { if (this.atBottom()) jump.hidden = true; }, { passive: true });
  }

  atBottom() {
    return window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 60;
  }

  toBottom() { window.scrollTo(0, document.documentElement.scrollHeight); }

  // Re-render the given segments (all when dirty is null), then keep the
  // reader's place: follow the end only if they were at the end.
  update(dirty, reordered) {
    const follow = this.atBottom();
    const ids = dirty === null ? this.t.order : [...dirty];
    for (const id of ids) {
      if (id === this.editing()) continue;
      const seg = this.t.segments.get(id);
      const old = this.items.get(id);
      if (!seg) { if (old) old.remove(); this.items.delete(id); continue; }
      const li = this.renderSegment(seg);
      const focused = old && old === document.activeElement;  // keep the keyboard's place
      if (old) old.replaceWith(li);
      this.items.set(id, li);
      if (focused) li.focus();
    }
    for (const [id, li] of this.items) {
      if (!this.t.segments.has(id)) { li.remove(); this.items.delete(id); }
    }
    if (reordered || dirty === null) this.place();
    this.renderPartials();
    if (follow) this.toBottom();
    else if (reordered) this.jump.hidden = false;
  }

  // Put the segments in transcript order; new segments at the end (the
  // usual case, as the hearing goes on) are appended without touching the rest.
  place() {
    const order = this.t.order;
    const shown = this.placed || [];
    const kept = shown.length <= order.length && shown.every((id, i) => order[i] === id && this.items.get(id)?.isConnected);
    if (kept) this.list.append(...order.slice(shown.length).map(id => this.items.get(id)));
    else this.list.replaceChildren(...order.map(id => this.items.get(id)));
    this.placed = order.slice();
  }

  renderPartials() {
    this.partialsEl.replaceChildren(...[...this.t.partials].map(([pid, text]) => {
      const li = document.createElement("li");
      li.className = "partial";
      li.dataset.participantId = pid;
      const p = this.t.names[pid];
      li.append(speakerLabel(p), document.createTextNode(text));
      return li;
    }));
  }

  setAuthor(pid) { this.author = pid; this.update(null, true); }

  // Marks the segments containing the query; returns how many there are.
  search(query) {
    this.query = query.trim();
    this.update(null, true);
    const first = this.list.querySelector(".hit");
    if (first) first.scrollIntoView({ block: "center" });
    return this.list.querySelectorAll(".hit").length;
  }

  renderSegment(seg) {
    const li = document.createElement("li");
    li.dataset.segmentId = seg.id;
    if (this.query && seg.text.includes(this.query)) li.classList.add("hit");
    li.append(speakerLabel(seg.speaker));
    if (seg.start !== null && seg.end !== null && seg.speaker.role !== "observer") {
      const play = document.createElement("button");
      play.className = "play";
      play.textContent = "▶";
      play.title = "播放这段录音";
      play.addEventListener("click", () => this.play(seg, play));
      li.append(play);
    }
    const all = this.t.annotationsOn(seg.id);
    const shown = all.filter(a => !this.author || a.author.participant_id === this.author);
    const marks = shown.filter(a => !a.orphaned && a.style !== "ink").sort((a, b) => a.start - b.start);
    const text = document.createElement("span");
    text.className = "text";
    const unsure = this.showUnsure ? unsureWords(seg) : [];
    const plain = (from, to) => appendPlain(text, seg.text, from, to, unsure);
    let pos = 0;
    for (const a of marks) {
      if (a.start < pos) continue;  // overlapping marks are listed below the segment
      plain(pos, a.start);
      const m = document.createElement("mark");
      m.className = `${a.color} ${a.style}`;
      m.dataset.annotationId = a.id;
      m.title = `${a.author.name}${a.body ? "：" + a.body : ""}`;
      m.textContent = seg.text.slice(a.start, a.end);
      m.addEventListener("click", (e) => { if (this.onMark && document.getSelection().isCollapsed) this.onMark(a, e.target); });
      text.append(m);
      pos = a.end;
    }
    plain(pos, seg.text.length);
    li.append(text);
    drawInk(li, shown);
    if (seg.evidence_id && this.onEvidence) {
      const view = document.createElement("button");
      view.className = "evidence";
      view.textContent = "查看证据";
      view.addEventListener("click", () => this.onEvidence(seg.evidence_id));
      li.append(view);
    }
    for (const a of shown) {
      const marked = text.querySelector(`[data-annotation-id="${a.id}"]`);
      if (marked && !a.body) continue;
      const drawn = a.style === "ink" && !a.orphaned;  // its strokes carry the id; this note is its handle
      const n = document.createElement("span");
      n.className = a.orphaned ? "note orphaned" : `note ${a.color}`;
      if (!marked && !drawn) n.dataset.annotationId = a.id;
      n.textContent = drawn ? `〔${STYLE.ink}·${a.author.name}〕`
        : `〔${STYLE[a.style]}·${a.author.name}〕“${a.quote}”${a.style !== "ink" && a.body ? "：" + a.body : ""}${a.orphaned ? "（原文已修改）" : ""}`;
      n.addEventListener("click", (e) => { if (this.onMark) this.onMark(a, e.target); });
      li.append(n);
    }
    if (this.decorate) this.decorate(li, seg);
    return li;
  }

  play(seg, button) {
    this.player.src = this.recordingUrl(seg);
    button.classList.add("playing");
    this.player.onended = this.player.onerror = () => button.classList.remove("playing");
    this.player.play().catch(() => button.classList.remove("playing"));
  }
}

//: Words recognized with less confidence than this are marked for the clerk.
const UNSURE = 0.6;

// [start, end, conf] of each unsure word, found in order in the text.
function unsureWords(seg) {
  const out = [];
  let at = 0;
  for (const w of seg.words || []) {
    const i = seg.text.indexOf(w.word, at);
    if (i < 0) continue;
    if (w.conf < UNSURE) out.push([i, i + w.word.length, w.conf]);
    at = i + w.word.length;
  }
  return out;
}

// Text from..to, with unsure words in their own spans.
function appendPlain(parent, text, from, to, unsure) {
  let pos = from;
  for (const [a, b, conf] of unsure) {
    if (b <= pos || a >= to) continue;
    const s = Math.max(a, pos), e = Math.min(b, to);
    parent.append(text.slice(pos, s));
    const span = document.createElement("span");
    span.className = "unsure";
    span.title = `识别把握不大（${Math.round(conf * 100)}%），请核对`;
    span.textContent = text.slice(s, e);
    parent.append(span);
    pos = e;
  }
  parent.append(text.slice(pos, to));
}

function speakerLabel(p) {
  const who = document.createElement("span");
  who.className = "speaker";
  who.textContent = p ? `${ROLE[p.role] || p.role} ${p.name}：` : "";
  return who;
}
