// Evidence: a party photographs a document or picks a file; it is uploaded
// (the hub checks what it really is) and waits for the judge, who approves
// it, shows it on every screen and pastes it into the transcript (the clerk
// may paste too). Anyone can look at any evidence again in the panel.
import { httpTrouble } from "/static/messages.js";
import { ROLE, evidenceLabel } from "/static/transcript.js";

const STATUS = { submitted: "待审判员确认", approved: "已确认" };

export class EvidencePanel {
  constructor(t, hearingId, as, op, status, who) {
    this.t = t;
    this.hearingId = hearingId;
    this.as = as;  // "as=<participant_id>": the browser sends the page's cookie
    this.op = op;
    this.status = status;
    this.who = who;  // () => {me, permissions}
    this.list = document.getElementById("evidence-list");
    this.viewer = new Viewer((id) => this.url(id), () => this.op({ kind: "display.set", view: "transcript" }));
    this.shown = null;  // the evidence id on screen because the judge shows it
    for (const input of document.querySelectorAll("#evidence-actions input")) {
      input.addEventListener("change", () => { if (input.files[0]) this.upload(input.files[0]); input.value = ""; });
    }
    // The courtroom's document camera (高拍仪): its photo is filed as this
    // participant's evidence, like an upload.
    this.devices = {};  // presence's devices
    this.send = () => {};  // the page's raw message sender
    document.getElementById("capture-document").addEventListener("click", () => this.capture());
  }

  documentCamera() {
    const found = Object.entries(this.devices).find(([, d]) => d.connected && (d.cameras || []).includes("document"));
    return found ? found[0] : null;
  }

  capture() {
    const device = this.documentCamera();
    if (!device) return;
    const name = `高拍仪照片 ${new Date().toLocaleTimeString("zh-CN", { hour12: false })}`;
    this.send({ type: "device.capture", device_id: device, source: "document", name });
  }

  captured(msg) {
    if (msg.status === "requested") this.status("正在用高拍仪拍照…", "info");
    else if (msg.status === "failed") this.status(msg.message || "高拍仪未能拍照，请重试");
  }

  url(id) { return `/api/hearings/${this.hearingId}/evidence/${id}?${this.as}`; }

  async upload(file) {
    this.status(`正在上传 ${file.name}…`, "info");
    let r;
    try {
      r = await fetch(`/api/hearings/${this.hearingId}/evidence?name=${encodeURIComponent(file.name)}&${this.as}`, {
        method: "POST", body: file });
    } catch {
      this.status(`上传失败：网络中断，请重试`);
      return;
    }
    if (r.ok) this.status(`${file.name} 已提交，等待审判员确认`, "info");
    else this.status(`上传失败：${await httpTrouble(r, "upload")}`);
  }

  render() {
    const { permissions } = this.who();
    const can = (kind) => permissions.includes(kind);
    document.getElementById("evidence-actions").hidden = !can("evidence.add");
    document.getElementById("capture-document").hidden = !can("evidence.add") || !this.documentCamera();
    document.getElementById("evidence").hidden = !can("evidence.add") && this.t.evidence.size === 0;
    const pastedIds = new Set();
    if (this.t.evidence.size) for (const s of this.t.segments.values()) if (s.evidence_id) pastedIds.add(s.evidence_id);
    this.list.replaceChildren(...[...this.t.evidence.values()].map((e) => {
      const li = document.createElement("li");
      li.dataset.evidenceId = e.id;
      const label = document.createElement("span");
      label.textContent = `${evidenceLabel(e.id)}：${e.name}（${ROLE[e.uploader.role] || e.uploader.role} ${e.uploader.name}提交 · ${STATUS[e.status]}）`;
      li.append(label);
      const b = (text, action, fn) => {
        const x = document.createElement("button");
        x.textContent = text; x.dataset.action = action;
        x.addEventListener("click", fn);
        li.append(x);
      };
      b("查看", "view", () => this.viewer.open(this.t.evidence.get(e.id)));
      if (e.status === "submitted" && can("evidence.approve")) b("确认", "approve", () => this.op({ kind: "evidence.approve", evidence_id: e.id }));
      if (e.status === "approved" && can("display.set")) b("展示", "show", () => this.op({ kind: "display.set", view: "evidence", evidence_id: e.id }));
      if (e.status === "approved" && can("evidence.paste") && !this.t.locked && !pastedIds.has(e.id)) {
        b("插入笔录", "paste", () => this.op({ kind: "evidence.paste", evidence_id: e.id }));
      }
      return li;
    }));
    // Follow what the judge shows on every screen.
    const d = this.t.display;
    const shown = d.view === "evidence" ? d.evidence_id : null;
    if (shown !== this.shown) {
      this.shown = shown;
      if (shown) this.viewer.open(this.t.evidence.get(shown), { shown: true, canStop: can("display.set") });
      else if (this.viewer.shownByJudge) this.viewer.close();
    }
  }
}

// Full-screen view of one item: images zoom (buttons, wheel, pinch) and pan
// (drag); PDFs open in the browser's own viewer.
class Viewer {
  constructor(url, stopShowing) {
    this.el = document.getElementById("viewer");
    this.stage = document.getElementById("viewer-stage");
    this.url = url;
    this.scale = 1; this.x = 0; this.y = 0;
    this.shownByJudge = false;  // open because the judge shows it on every screen
    this.pointers = new Map();
    document.getElementById("viewer-close").addEventListener("click", () => this.close());
    document.getElementById("viewer-stop").addEventListener("click", stopShowing);
    for (const b of this.el.querySelectorAll("[data-zoom]")) {
      b.addEventListener("click", () => this.zoom(b.dataset.zoom === "in" ? 1.25 : 0.8));
    }
    this.stage.addEventListener("wheel", (e) => { e.preventDefault(); this.zoom(e.deltaY < 0 ? 1.1 : 0.9); }, { passive: false });
    this.stage.addEventListener("pointerdown", (e) => { this.pointers.set(e.pointerId, e); this.stage.setPointerCapture(e.pointerId); });
    this.stage.addEventListener("pointermove", (e) => this.drag(e));
    for (const t of ["pointerup", "pointercancel"]) this.stage.addEventListener(t, (e) => this.pointers.delete(e.pointerId));
  }

  open(item, { shown = false, canStop = false } = {}) {
    if (!item) return;
    this.shownByJudge = shown;
    document.getElementById("viewer-title").textContent = `${evidenceLabel(item.id)}：${item.name}${shown ? "（审判员展示）" : ""}`;
    document.getElementById("viewer-stop").hidden = !canStop;
    this.scale = 1; this.x = 0; this.y = 0;
    let content;
    if (item.media_type === "application/pdf") {
      content = document.createElement("iframe");
      content.title = item.name;
    } else {
      content = document.createElement("img");
      content.alt = item.name;
      content.draggable = false;
    }
    content.src = this.url(item.id);
    this.stage.replaceChildren(content);
    this.el.hidden = false;
  }

  close() { this.el.hidden = true; this.stage.replaceChildren(); this.shownByJudge = false; }

  zoom(f) { this.scale = Math.min(8, Math.max(0.5, this.scale * f)); this.apply(); }

  drag(e) {
    const last = this.pointers.get(e.pointerId);
    if (!last) return;
    if (this.pointers.size === 2) {  // pinch: the distance between two fingers
      const other = [...this.pointers.values()].find(p => p.pointerId !== e.pointerId);
      const before = Math.hypot(last.clientX - other.clientX, last.clientY - other.clientY);
      const after = Math.hypot(e.clientX - other.clientX, e.clientY - other.clientY);
      if (before > 0) this.zoom(after / before);
    } else {
      this.x += e.clientX - last.clientX; this.y += e.clientY - last.clientY; this.apply();
    }
    this.pointers.set(e.pointerId, e);
  }

  apply() {
    const img = this.stage.querySelector("img");
    if (img) img.style.transform = `translate(${this.x}px, ${this.y}px) scale(${this.scale})`;
  }
}
