// What the case space and the staff console share: calling the hub's API
// and saying what went wrong in Chinese.
"use strict";
const REASONS = {
  unauthorized: "请先登录或核验身份", forbidden: "无权进行此操作", invalid: "填写有误", not_found: "未找到",
  conflict: "已处理过或状态已变化", locked: "已锁定，不能再修改", too_large: "内容过大",
  rate_limited: "尝试过于频繁，请稍后再试", unavailable: "服务暂时不可用，请稍后再试",
};
class ApiError extends Error {
  constructor(status, error) {
    super(error && error.message || String(status));
    this.status = status; this.code = error && error.code; this.error = error || {};
  }
  get chinese() { return REASONS[this.code] || "操作失败"; }
}
async function api(method, path, body, extra) {
  const init = Object.assign({method, headers: {}, credentials: "same-origin"}, extra || {});
  if (body instanceof Blob || body instanceof ArrayBuffer) { init.body = body; }
  else if (body !== undefined) { init.body = JSON.stringify(body); init.headers["Content-Type"] = "application/json"; }
  const r = await fetch(path, init);
  const type = r.headers.get("content-type") || "";
  const data = type.includes("application/json") ? await r.json() : await r.blob();
  if (!r.ok) throw new ApiError(r.status, data && data.error);
  return data;
}
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) e.append(c);
  return e;
}
function when(ms) {
  if (!ms) return "";
  const d = new Date(ms), p = n => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}
let toastTimer = null;
function toast(text, info) {
  const t = document.getElementById("toast");
  t.textContent = text; t.className = info ? "info" : ""; t.hidden = false;
  clearTimeout(toastTimer); toastTimer = setTimeout(() => { t.hidden = true; }, 6000);
}
function opId() { return Math.random().toString(36).slice(2) + Date.now().toString(36); }
const RATINGS = {satisfied: "满意", basically_satisfied: "基本满意", unsatisfied: "不满意"};
const ROLE_NAMES = {plaintiff: "原告", defendant: "被告", agent: "代理人", judge: "法官", clerk: "书记员",
                    mediator: "调解员", admin: "管理员"};
const ASPECTS = {authenticity: "真实性", legality: "合法性", relevance: "关联性"};
const DOC_KINDS = {summons: "传票", notice: "通知书", judgment: "判决书", ruling: "裁定书", mediation: "调解书", other: "其他文书"};
const PURPOSES = {entry: "进入案件空间", exchange: "证据交换", mediation: "在线调解", hearing: "参加庭审"};
function fileUrl(caseId, sha) { return `/api/cases/${caseId}/files/${sha}`; }
// A signature pad on a canvas: finger or mouse; its PNG as a data URL.
function signaturePad(canvas) {
  const ctx = canvas.getContext("2d");
  let drawing = false, drawn = false;
  // Sized to how it is shown when drawing starts (it may have been made
  // while its pane was hidden, at no size at all).
  const size = () => { canvas.width = canvas.clientWidth; canvas.height = canvas.clientHeight; ctx.lineWidth = 3; ctx.lineCap = "round"; };
  size();
  const at = e => { const r = canvas.getBoundingClientRect(); return [e.clientX - r.left, e.clientY - r.top]; };
  canvas.addEventListener("pointerdown", e => {
    if (!drawn && (canvas.width !== canvas.clientWidth || canvas.height !== canvas.clientHeight)) size();
    drawing = true; canvas.setPointerCapture(e.pointerId); ctx.beginPath(); ctx.moveTo(...at(e));
  });
  canvas.addEventListener("pointermove", e => { if (!drawing) return; ctx.lineTo(...at(e)); ctx.stroke(); drawn = true; });
  canvas.addEventListener("pointerup", () => { drawing = false; });
  return {get drawn() { return drawn; }, png: () => canvas.toDataURL("image/png"), clear: () => { size(); drawn = false; }};
}
// What someone is typing survives a re-render of the page (an event from
// the hub redraws it): fields with data-draft keep a value that differs
// from what the hub holds (data-server), radios their choice, and the
// field being typed in keeps the focus.
function keepDrafts(root, render) {
  const kept = new Map();
  for (const e of root.querySelectorAll("[data-draft]")) {
    if (e.type === "radio") kept.set(e.dataset.draft, e.checked);
    else if (e.value !== (e.dataset.server || "")) kept.set(e.dataset.draft, e.value);
  }
  const active = document.activeElement;
  const focused = active && active.dataset ? active.dataset.draft : undefined;
  render();
  for (const e of root.querySelectorAll("[data-draft]")) {
    if (!kept.has(e.dataset.draft)) continue;
    if (e.type === "radio") e.checked = kept.get(e.dataset.draft); else e.value = kept.get(e.dataset.draft);
  }
  if (focused) for (const e of root.querySelectorAll("[data-draft]")) if (e.dataset.draft === focused) e.focus();
}
// Following a case live over its websocket: ``changed()`` after each event
// the hub sends (a burst is one call), ``gone()`` when this device is
// signed out (close 4401); otherwise it reconnects, catching up from the
// last seq it saw. ``stop()`` ends it.
function followCase(caseId, since, changed, gone) {
  let ws = null, stopped = false, seen = since, due = null, delay = 1000;
  const soon = () => { if (!due) due = setTimeout(() => { due = null; changed(); }, 50); };
  const open = () => {
    ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/cases/${caseId}`);
    ws.onopen = () => { delay = 1000; ws.send(JSON.stringify({type: "sync", since: seen, batch: true})); };
    ws.onmessage = m => {
      const msg = JSON.parse(m.data);
      if (msg.type === "event") { seen = msg.seq; soon(); }
      else if (msg.type === "events" && msg.events.length) { seen = msg.events[msg.events.length - 1].seq; soon(); }
      else if (msg.type === "synced") seen = Math.max(seen, msg.seq);
    };
    ws.onclose = e => {
      if (stopped) return;
      if (e.code === 4401) { gone(); return; }
      setTimeout(open, delay); delay = Math.min(delay * 2, 15000);
    };
  };
  open();
  return {stop: () => { stopped = true; if (ws) ws.close(); }, at: s => { seen = Math.max(seen, s); }};
}
