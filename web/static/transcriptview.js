// The transcript on screen, rendered incrementally (only segments that
// changed): speaker and text, everyone's marks in their colours, interim
// speech in grey at the end, search, a filter by author, auto-scroll that
// pauses while the reader looks back, and tap ▶ to hear a segment again.
import { drawInk } from "/static/ink.js";
import { ROLE, evidenceLabel } from "/static/transcript.js";

const STYLE = { highlight: "标注", comment: "批注", ink: "手写", issue: "争议" };
//: Segments rendered at once when the whole transcript is rendered; the rest
//: follow, SLICE per frame.
const EAGER = 150;
const SLICE = 1000;

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
    this.onTrouble = null;         // (Chinese sentence) => void, when a recording cannot be played
    this.showUnsure = false;       // mark words the recognizer was unsure of (for the clerk)
    this.editing = () => null;     // the id of a segment being edited, left alone
    this.inked = new Map();        // segment id -> its shown annotations, for segments with ink
    this.filling = null;           // {pending: segment ids} while a long transcript is filled in
    jump.addEventListener("click", () => { this.toBottom(); jump.hidden = true; });
    // Ink is drawn beside the characters it was drawn on: where they are
    // depends on the width, so it is drawn again when the width changes.
    let width = window.innerWidth;
    window.addEventListener("resize", () => {
      if (window.innerWidth === width) return;
      width = window.innerWidth;
      this.drawInk([...this.inked.keys()]);
    });
    window.addEventListener("scroll", () => { if (this.atBottom()) jump.hidden = true; }, { passive: true });
  }

  atBottom() {
    return window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 60;
  }

  toBottom() { window.scrollTo(0, document.documentElement.scrollHeight); }

  // Re-render the given segments (all when dirty is null), then keep the
  // reader's place: follow the end only if they were at the end. A long
  // transcript re-rendered whole (a new screen opening a 3-hour hearing)
  // gets its last segments now, where the hearing goes on and the reader
  // looks, and the earlier ones in slices on the following frames; with
  // ``eager`` everything is rendered at once (search needs every segment).
  update(dirty, reordered, eager = false) {
    if (dirty === null && !eager && this.t.order.length > EAGER) { this.progressive(); return; }
    if (dirty === null) this.filling = null;
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
    this.drawInk(ids);
    this.renderPartials();
    if (follow) this.toBottom();
    else if (reordered) this.jump.hidden = false;
  }

  progressive() {
    const follow = this.atBottom();
    const order = this.t.order;
    for (const li of this.items.values()) li.remove();
    this.items.clear();
    this.placed = [];
    this.list.replaceChildren();
    const fill = { pending: order.slice(0, -EAGER) };
    this.filling = fill;
    this.update(new Set(order.slice(-EAGER)), true);
    if (follow) this.toBottom();
    const step = () => {
      if (this.filling !== fill) return;  // another full render took over
      const ids = fill.pending.splice(Math.max(0, fill.pending.length - SLICE), SLICE);
      const fromBottom = document.documentElement.scrollHeight - window.scrollY;
      for (const id of ids) {
        const seg = this.t.segments.get(id);
        if (seg && !this.items.has(id)) this.items.set(id, this.renderSegment(seg));
      }
      this.place();
      this.drawInk(ids);
      // Earlier segments went in above: the reader's view stays where it was.
      window.scrollTo(0, document.documentElement.scrollHeight - fromBottom);
      if (fill.pending.length) requestAnimationFrame(step);
      else this.filling = null;
    };
    requestAnimationFrame(step);
  }

  // Ink of the given segments, once they are on the page and laid out.
  drawInk(ids) {
    for (const id of ids) {
      const li = this.items.get(id);
      const shown = this.inked.get(id);
      if (li && shown && li.isConnected) drawInk(li, shown);
    }
  }

  // Put the segments in transcript order; new segments at the end (the
  // usual case, as the hearing goes on) are appended without touching the rest.
  place() {
    // While a long transcript is still being filled in, only what is rendered.
    const order = this.filling ? this.t.order.filter(id => this.items.has(id)) : this.t.order;
    const shown = this.placed || [];
    const same = (offset) => shown.length <= order.length
      && shown.every((id, i) => order[i + offset] === id && this.items.get(id)?.isConnected);
    const added = order.length - shown.length;
    if (same(0)) this.list.append(...order.slice(shown.length).map(id => this.items.get(id)));
    else if (same(added)) this.list.prepend(...order.slice(0, added).map(id => this.items.get(id)));  // filled in above
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

  setAuthor(pid) { this.author = pid; this.update(null, true, true); }

  // Marks the segments containing the query; returns how many there are.
  search(query) {
    this.query = query.trim();
    this.update(null, true, true);
    const first = this.list.querySelector(".hit");
    if (first) first.scrollIntoView({ block: "center" });
    return this.list.querySelectorAll(".hit").length;
  }

  renderSegment(seg) {
    const li = document.createElement("li");
    li.dataset.segmentId = seg.id;
    if (this.query && seg.text.includes(this.query)) li.classList.add("hit");
    // Evidence shown in the hearing is a reference in the record, not
    // anyone's speech: 出示证据一：借条.jpg.
    if (seg.evidence_id) li.classList.add("exhibit");
    else li.append(speakerLabel(seg.speaker));
    if (seg.deleted) li.classList.add("deleted");
    if (seg.start !== null && seg.end !== null && seg.speaker.role !== "observer" && !seg.deleted) {
      const play = document.createElement("button");
      play.className = "play";
      play.title = "播放这段录音";
      play.setAttribute("aria-label", "播放这段录音");
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
    if (seg.evidence_id) {
      const item = this.t.evidence.get(seg.evidence_id);
      text.replaceChildren(`出示${evidenceLabel(seg.evidence_id)}：${item ? item.name : ""}`);
    } else {
      plain(pos, seg.text.length);
    }
    li.append(text);
    if (seg.deleted) {
      const struck = document.createElement("span");
      struck.className = "struck";
      struck.textContent = "（已删除，不计入笔录）";
      li.append(struck);
    }
    if (shown.some(a => a.style === "ink")) this.inked.set(seg.id, shown);
    else this.inked.delete(seg.id);
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

  // Play the segment's recording. Not every segment has one (typed lines,
  // speech before the hub recorded, a relabelled segment whose new speaker
  // was not the one recorded): the hub answers 404 and the reader is told.
  async play(seg, button) {
    button.classList.add("playing");
    let clip;
    try {
      const r = await fetch(this.recordingUrl(seg));
      if (!r.ok) {
        this.trouble(r.status === 404 ? "这段没有录音可播放（可能是手工记录，或已更改发言人）" : "录音暂时无法播放，请稍后再试");
        button.classList.remove("playing");
        return;
      }
      clip = URL.createObjectURL(await r.blob());
    } catch {
      this.trouble("网络中断，录音无法播放");
      button.classList.remove("playing");
      return;
    }
    if (this.player.src.startsWith("blob:")) URL.revokeObjectURL(this.player.src);
    this.player.src = clip;
    this.player.onended = () => button.classList.remove("playing");
    this.player.onerror = () => { button.classList.remove("playing"); this.trouble("录音无法播放"); };
    this.player.play().catch(() => button.classList.remove("playing"));
  }

  trouble(text) { if (this.onTrouble) this.onTrouble(text); }
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
