// Marking the transcript by touch, pen or mouse: select words inside one
// segment, then tap a colour (highlight), 争议 (issue) or 批注 (comment).
export const COLORS = { yellow: "黄", green: "绿", blue: "蓝", pink: "粉" };

// Character offsets of a range inside a segment's text element.
export function offsets(textEl, range) {
  const before = document.createRange();
  before.selectNodeContents(textEl);
  before.setEnd(range.startContainer, range.startOffset);
  const start = before.toString().length;
  return { start, end: start + range.toString().length };
}

export class Annotator {
  // list: the transcript element; bar: the toolbar; annotate(fields) sends the op.
  constructor(list, bar, annotate) {
    this.list = list;
    this.bar = bar;
    this.annotate = annotate;
    this.target = null;  // {segment_id, start, end}
    this.enabled = false;
    this.form = bar.querySelector("form");
    this.input = bar.querySelector("input");
    for (const b of bar.querySelectorAll("[data-color]")) {
      b.addEventListener("click", () => this.send({ style: "highlight", color: b.dataset.color }));
    }
    bar.querySelector("[data-style=issue]").addEventListener("click", () => this.send({ style: "issue", color: "red" }));
    bar.querySelector("[data-style=comment]").addEventListener("click", () => {
      this.form.hidden = false;
      this.input.focus();
    });
    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      if (this.input.value.trim()) this.send({ style: "comment", color: "orange", body: this.input.value.trim() });
    });
    bar.querySelector("[data-action=cancel]").addEventListener("click", () => this.hide());
    // A selection is read when the finger, pen or mouse lifts, and after
    // keyboard selection.
    for (const type of ["pointerup", "keyup", "touchend"]) {
      list.addEventListener(type, () => setTimeout(() => this.pick(), 0));
    }
  }

  pick() {
    if (!this.enabled) return;
    const sel = document.getSelection();
    if (!sel || sel.isCollapsed || sel.rangeCount === 0) return;
    const range = sel.getRangeAt(0);
    const textEl = closestText(range.startContainer);
    if (!textEl || textEl !== closestText(range.endContainer)) { this.hide(); return; }
    const { start, end } = offsets(textEl, range);
    if (end <= start) return;
    this.target = { segment_id: textEl.closest("[data-segment-id]").dataset.segmentId, start, end };
    const box = range.getBoundingClientRect();
    this.bar.style.top = `${window.scrollY + box.bottom + 6}px`;
    this.bar.style.left = `${Math.max(4, Math.min(window.innerWidth - 330, window.scrollX + box.left))}px`;
    this.form.hidden = true;
    this.input.value = "";
    this.bar.hidden = false;
  }

  send(fields) {
    if (!this.target) return;
    this.annotate({ kind: "annotation.add", ...this.target, ...fields });
    document.getSelection().removeAllRanges();
    this.hide();
  }

  hide() {
    this.bar.hidden = true;
    this.target = null;
  }
}

function closestText(node) {
  const el = node.nodeType === Node.ELEMENT_NODE ? node : node.parentElement;
  return el ? el.closest(".text") : null;
}
