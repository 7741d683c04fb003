// The clerk's (and judge's) corrections, keyboard first, and by touch: a
// tapped segment is selected and shows its tools. On a focused segment:
// Up/Down move, Enter edits, M merges with the next, I inserts a segment
// after it, R changes the speaker, Delete strikes it from the record. In the editor: Enter saves,
// Ctrl+Enter splits at the cursor, Esc cancels. If someone else changed the
// segment first, the hub refuses the edit (conflict) with the segment as it
// is now; the clerk sees both texts and chooses.
import { explain } from "/static/messages.js";
import { ROLE } from "/static/transcript.js";

export class Corrector {
  // op(body, onNack) sends an op; onNack(error) is called if it is refused.
  constructor(transcript, view, op, status) {
    this.t = transcript;
    this.view = view;
    this.op = op;
    this.status = status;
    this.enabled = false;
    this.editing = null;  // segment id being edited (the view leaves it alone)
    this.pending = new Map();  // segment id -> the clerk's text refused by a conflict
    view.decorate = (li, seg) => this.decorate(li, seg);
    view.list.addEventListener("keydown", (e) => this.key(e));
    // Touch screens have no hover: a tap selects the segment, whose tools show.
    this.selected = null;
    view.list.addEventListener("click", (e) => {
      if (!this.enabled || e.target.closest("button, textarea, select, mark")) return;
      const li = e.target.closest("[data-segment-id]");
      if (li) this.select(li.dataset.segmentId);
    });
  }

  select(id) {
    if (this.selected && this.view.items.get(this.selected)) this.view.items.get(this.selected).classList.remove("selected");
    this.selected = id;
    const li = this.view.items.get(id);
    if (li) li.classList.add("selected");
  }

  decorate(li, seg) {
    if (!this.enabled || seg.deleted) return;
    li.tabIndex = 0;
    if (this.selected === seg.id) li.classList.add("selected");
    const tools = document.createElement("span");
    tools.className = "fix";
    const b = (label, key, title, fn) => {
      const x = document.createElement("button");
      x.textContent = label; x.title = `${title}（${key}）`; x.dataset.fix = label;
      x.addEventListener("click", (e) => { e.stopPropagation(); fn(); });
      tools.append(x);
    };
    b("编辑", "回车键", "修改本段", () => this.edit(seg.id));
    b("合并", "M 键", "与下一段合并", () => this.merge(seg.id));
    b("插入", "I 键", "在本段后插入一段", () => this.insert(seg.id));
    b("发言人", "R 键", "更改发言人", () => this.relabel(seg.id));
    b("删除", "删除键", "删除本段（保留在记录历史中）", () => this.remove(seg.id));
    li.append(tools);
    li.addEventListener("dblclick", (e) => { if (!e.target.closest("mark, button")) this.edit(seg.id); });
    if (this.pending.has(seg.id)) li.append(this.conflictBox(seg, this.pending.get(seg.id)));
  }

  key(e) {
    if (!this.enabled || e.target.closest("textarea, select, input")) return;
    const li = e.target.closest("[data-segment-id]");
    if (!li) return;
    const id = li.dataset.segmentId;
    const move = (d) => { const i = this.t.order.indexOf(id) + d; const n = this.view.items.get(this.t.order[i]); if (n) n.focus(); };
    const actions = { ArrowDown: () => move(1), ArrowUp: () => move(-1), Enter: () => this.edit(id),
                      m: () => this.merge(id), i: () => this.insert(id), r: () => this.relabel(id),
                      Delete: () => this.remove(id) };
    const fn = actions[e.key.length === 1 ? e.key.toLowerCase() : e.key];
    if (fn && !e.ctrlKey && !e.metaKey && !e.altKey) { e.preventDefault(); fn(); }
  }

  // An editor in place of the segment's text.
  editor(li, text, onSave, onSplit) {
    const area = document.createElement("textarea");
    area.className = "editor";
    area.value = text;
    area.rows = Math.max(2, Math.ceil(text.length / 40));
    const textEl = li.querySelector(".text");
    if (textEl) textEl.replaceWith(area); else li.append(area);
    area.focus();
    area.addEventListener("keydown", (e) => {
      if (e.key === "Escape") { e.preventDefault(); this.done(li.dataset.segmentId); }
      else if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && onSplit) { e.preventDefault(); onSplit(area.selectionStart, area.value); }
      else if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); onSave(area.value); }
    });
    return area;
  }

  edit(id) {
    const seg = this.t.segments.get(id);
    const li = this.view.items.get(id);
    if (!seg || !li || this.editing) return;
    this.editing = id;
    const base = seg.rev;
    this.editor(li, seg.text, (text) => this.save(id, base, text),
      (offset, text) => {
        if (text !== seg.text) { this.status("请先保存修改，再拆分"); return; }
        this.op({ kind: "segment.split", segment_id: id, base_rev: base, offset }, (err) => this.refused(err));
        this.done(id);
      });
  }

  save(id, base, text) {
    const seg = this.t.segments.get(id);
    this.done(id);
    if (!text.trim() || (seg && text === seg.text)) return;
    this.op({ kind: "segment.edit", segment_id: id, base_rev: base, text },
      (err) => err.code === "conflict" && err.segment ? this.conflict(err.segment, text) : this.refused(err));
  }

  // Someone changed the segment first: show theirs and ours, let the clerk
  // pick. The choice waits with the segment, through any re-rendering, and
  // "theirs" is always the segment as it is now.
  conflict(current, mine) {
    this.pending.set(current.id, mine);
    this.view.update(new Set([current.id]), false);
  }

  conflictBox(seg, mine) {
    const box = document.createElement("div");
    box.className = "conflict";
    box.innerHTML = "<strong>此段已被他人修改</strong>";
    const theirs = document.createElement("p"); theirs.textContent = `现在：${seg.text}`;
    const ours = document.createElement("p"); ours.textContent = `您的修改：${mine}`;
    const settle = () => { this.pending.delete(seg.id); this.view.update(new Set([seg.id]), false); };
    const keep = document.createElement("button"); keep.textContent = "采用我的修改"; keep.dataset.fix = "mine";
    keep.addEventListener("click", () => { settle(); this.save(seg.id, this.t.segments.get(seg.id).rev, mine); });
    const drop = document.createElement("button"); drop.textContent = "保留现在的文字"; drop.dataset.fix = "theirs";
    drop.addEventListener("click", settle);
    box.append(theirs, ours, keep, drop);
    return box;
  }

  merge(id) {
    const seg = this.t.segments.get(id);
    const next = this.t.nextLive(id);
    if (!seg || !next) { this.status("这是最后一段，无可合并"); return; }
    if (next.speaker.participant_id !== seg.speaker.participant_id) { this.status("发言人不同的两段不能合并"); return; }
    this.op({ kind: "segment.merge", segment_id: id, base_rev: seg.rev, next_rev: next.rev }, (err) => this.refused(err));
  }

  // Strike a segment (a recognizer's duplicate, noise): two steps, as a
  // deletion goes into the record's history for good.
  remove(id) {
    const seg = this.t.segments.get(id);
    const li = this.view.items.get(id);
    if (!seg || !li || li.querySelector(".confirm-delete")) return;
    const box = document.createElement("div");
    box.className = "conflict confirm-delete";
    const q = document.createElement("p");
    q.textContent = "删除此段？删除后不计入笔录，记录历史中仍保留（显示为删除线）。";
    const yes = document.createElement("button"); yes.textContent = "确认删除"; yes.className = "confirm"; yes.dataset.fix = "confirm-delete";
    const no = document.createElement("button"); no.textContent = "取消";
    yes.addEventListener("click", (e) => {
      e.stopPropagation();
      box.remove();
      this.op({ kind: "segment.delete", segment_id: id, base_rev: seg.rev }, (err) => this.refused(err));
    });
    no.addEventListener("click", (e) => { e.stopPropagation(); box.remove(); li.focus(); });
    box.append(q, yes, no);
    li.append(box);
    yes.focus();
  }

  insert(id) {
    const li = this.view.items.get(id);
    if (!li || this.editing) return;
    const seg = this.t.segments.get(id);
    const row = document.createElement("li");
    row.className = "inserting";
    row.dataset.segmentId = `new-after-${id}`;
    const who = this.speakerSelect(seg.speaker.participant_id);
    row.append(who);
    li.after(row);
    this.editing = row.dataset.segmentId;
    this.editor(row, "", (text) => {
      row.remove();
      this.editing = null;
      if (text.trim()) this.op({ kind: "segment.add", text, after: id, speaker: who.value }, (err) => this.refused(err));
    });
    row.querySelector("textarea").addEventListener("keydown", (e) => { if (e.key === "Escape") row.remove(); });
  }

  relabel(id) {
    const seg = this.t.segments.get(id);
    const li = this.view.items.get(id);
    if (!seg || !li || li.querySelector("select.relabel")) return;
    const select = this.speakerSelect(seg.speaker.participant_id);
    select.classList.add("relabel");
    select.addEventListener("change", () => {
      if (select.value !== seg.speaker.participant_id) {
        this.op({ kind: "segment.relabel", segment_id: id, base_rev: seg.rev, speaker: select.value }, (err) => this.refused(err));
      }
      select.remove();
    });
    select.addEventListener("keydown", (e) => { if (e.key === "Escape") select.remove(); });
    li.querySelector(".speaker").after(select);
    select.focus();
  }

  speakerSelect(selected) {
    const select = document.createElement("select");
    select.setAttribute("aria-label", "发言人");
    for (const p of Object.values(this.t.names)) {
      if (p.role === "observer") continue;
      const o = document.createElement("option");
      o.value = p.participant_id;
      o.textContent = `${ROLE[p.role] || p.role} ${p.name}`;
      o.selected = p.participant_id === selected;
      select.append(o);
    }
    return select;
  }

  refused(err) { this.status(`修改未执行：${explain(err, "edit")}`); }

  done(id) {
    if (this.editing === id) this.editing = null;
    this.view.update(new Set([id]), false);
    const li = this.view.items.get(id);
    if (li) li.focus();
  }
}
