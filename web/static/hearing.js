// The hearing page: joins the hearing websocket, syncs, and keeps the page
// equal to the hub's transcript; marks it by touch (transcriptview.js,
// annotate.js); joins the hearing's audio and video (media.js); shows the
// participants, with the judge's controls (admit, remove, mute, start /
// pause / end) on the judge's page.
import { Annotator } from "/static/annotate.js";
import { Corrector } from "/static/correct.js";
import { EvidencePanel } from "/static/evidence.js";
import { Ink } from "/static/ink.js";
import { Media } from "/static/media.js";
import { explain, httpTrouble, mediaTrouble } from "/static/messages.js";
import { SignaturePad } from "/static/signing.js";
import { ROLE, Transcript } from "/static/transcript.js";
import { TranscriptView } from "/static/transcriptview.js";

// The join link's token: the hub has put it in an HttpOnly cookie and named
// this page's participant; take it out of the address bar (and so out of
// history, bookmarks and screenshots). Requests name the participant with
// ?as= and the browser sends the cookie.
const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const participantId = document.querySelector("meta[name=participant]").content;
if (params.has("token")) {
  params.delete("token");
  if (participantId) params.set("as", participantId);
  history.replaceState(null, "", `${location.pathname}?${params}`);
}
const who = `as=${encodeURIComponent(participantId)}`;
const hearingId = location.pathname.split("/").pop();
const emblem = document.querySelector("meta[name=emblem]").content;
if (emblem) { $("emblem").src = emblem; $("emblem").hidden = false; }

const t = new Transcript();
let me = null;            // this page's participant
let permissions = [];
let ws = null;
const STATUS = { not_started: "未开庭", in_session: "庭审中", paused: "休庭", ended: "已闭庭" };
const MEDIATION_STATUS = { not_started: "调解未开始", in_session: "调解中", paused: "调解暂停", ended: "调解已结束" };
const SITE = { court: "法庭", remote: "远程", detention: "看守所", procuratorate: "检察院" };

function send(message) { if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message)); }
let opCount = 0;
const refusals = new Map();  // op_id -> what to do if the hub refuses it
// What the user was doing, by op kind, for the sentence that explains a refusal.
const ACTION = { "segment.edit": "edit", "segment.split": "edit", "segment.merge": "edit", "segment.relabel": "edit",
  "segment.delete": "edit", "segment.add": "record", "annotation.add": "annotate", "signature.add": "sign",
  "vocabulary.set": "terms", "hearing.start": "control", "hearing.pause": "control", "hearing.end": "control",
  "transcript.lock": "control", "participant.admit": "control", "participant.remove": "control",
  "participant.mute": "control", "stream.start": "control", "stream.stop": "control",
  "participant.protect": "control", "video.share": "control" };
function op(body, onNack) {
  const id = `${Date.now().toString(36)}-${++opCount}`;
  refusals.set(id, onNack || ((err) => notify(explain(err, ACTION[body.kind]))));
  send({ type: "op", op_id: id, op: body });
}

// A message where the user is looking: a toast at the bottom of the screen
// (errors stay until the next one or 8 s; notes 4 s).
let toastTimer = null;
function notify(text, kind = "error") {
  const toast = $("toast");
  toast.textContent = text;
  toast.className = kind;
  toast.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { toast.hidden = true; }, kind === "error" ? 8000 : 4000);
}
$("toast").addEventListener("click", () => { $("toast").hidden = true; });

// A question before what cannot be undone (闭庭, 锁定笔录); resolves true on 确认.
function ask(text, ok) {
  const dialog = $("confirm");
  $("confirm-text").textContent = text;
  $("confirm-ok").textContent = ok;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true }));
}
const media = new Media(send, $("grid"), t.names, (text) => notify(text, "info"));
media.watch = params.get("watch") === "1";
document.body.classList.toggle("watching", media.watch);
window.hearingMedia = media;  // for diagnostics (getStats) by support staff and tests

const recordingUrl = (seg) => `/api/hearings/${hearingId}/recording?participant_id=${encodeURIComponent(seg.speaker.participant_id)}` +
  `&start=${seg.start}&end=${seg.end}&${who}`;
const view = new TranscriptView(t, $("segments"), $("partials"), $("jump"), recordingUrl);
view.onTrouble = (text) => notify(text);
const annotator = new Annotator($("segments"), $("marker"), op);
const ink = new Ink($("segments"), $("ink-toggle"), op);
const corrector = new Corrector(t, view, op, (text) => notify(text));
view.editing = () => corrector.editing;
const evidence = new EvidencePanel(t, hearingId, who, op, notify, () => ({ me, permissions }));
evidence.send = send;
view.onEvidence = (id) => evidence.viewer.open(t.evidence.get(id));

// Tapping a mark shows who made it, with 删除 for its author (and the judge).
const info = $("mark-info");
let shownMark = null;
view.onMark = (a, el) => {
  shownMark = a;
  info.querySelector("span").textContent = `${a.author.name}的${{ highlight: "标注", comment: "批注", ink: "手写", issue: "争议" }[a.style]}${a.body && a.style !== "ink" ? "：" + a.body : ""}`;
  const mine = me && (a.author.participant_id === me.participant_id || permissions.includes("annotation.remove.any"));
  info.querySelector("[data-action=remove]").hidden = !(mine && permissions.includes("annotation.remove") && !t.locked);
  const box = el.getBoundingClientRect();
  info.style.top = `${window.scrollY + box.bottom + 6}px`;
  info.style.left = `${Math.max(4, Math.min(window.innerWidth - 300, window.scrollX + box.left))}px`;
  info.hidden = false;
};
info.querySelector("[data-action=remove]").addEventListener("click", () => {
  if (shownMark) op({ kind: "annotation.remove", annotation_id: shownMark.id });
  info.hidden = true;
});
info.querySelector("[data-action=close]").addEventListener("click", () => { info.hidden = true; });

const pad = new SignaturePad($("signature"));
$("sign-clear").addEventListener("click", () => pad.clear());
// One-touch fingerprint (一键指纹): the reader at this participant's seat, on
// the courtroom's equipment, takes the print; it comes back here and goes
// into this participant's own signature.
let fingerprint = null;
function readerDevice() {
  const found = me && Object.entries(devices).find(([, d]) => d.connected && (d.fingerprints || []).includes(me.participant_id));
  return found ? found[0] : null;
}
$("sign-fingerprint").addEventListener("click", () => {
  const device = readerDevice();
  if (device) send({ type: "device.capture", device_id: device, source: "fingerprint" });
});
function fingerprintCaptured(msg) {
  if (msg.status === "requested") notify("请将手指放在指纹采集器上", "info");
  else if (msg.status === "failed") notify(msg.message || "指纹采集失败，请重试");
  else if (msg.status === "done") {
    fingerprint = msg.fingerprint;
    $("fingerprint-preview").src = fingerprint;
    $("fingerprint-preview").hidden = false;
    notify("指纹已采集，请确认签名", "info");
  }
}
$("sign-submit").addEventListener("click", () => {
  if (pad.empty && !fingerprint) { notify("请先在签名区签名"); return; }
  op({ kind: "signature.add", ...(pad.empty ? {} : { image: pad.png() }), ...(fingerprint ? { fingerprint } : {}) });
});

// Connected or not, media, microphone and network quality, as the hub sees them.
// 14:05 (today) or 11月23日 14:05, in the browser's own time zone.
function clock(ms) {
  const d = new Date(ms);
  const hm = `${d.getHours()}:${String(d.getMinutes()).padStart(2, "0")}`;
  return d.toDateString() === new Date().toDateString() ? hm : `${d.getMonth() + 1}月${d.getDate()}日 ${hm}`;
}

//: A microphone whose loudest sound over the last seconds stayed below this
//: (dBov) hears nothing: the judge and the clerk are told.
const SILENT_DB = -60;

// Drawn, not typed: a court PC's fonts may have no emoji or symbol glyphs.
const MIC = "M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3zm5-3a5 5 0 0 1-10 0H5a7 7 0 0 0 6 6.9V21h2v-3.1A7 7 0 0 0 19 11z";
function icon(path) {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  const p = document.createElementNS("http://www.w3.org/2000/svg", "path");
  p.setAttribute("d", path);
  svg.append(p);
  return svg;
}
function presenceBadge(x) {
  const badge = document.createElement("span");
  badge.className = "presence";
  const dot = document.createElement("span");
  dot.className = "dot";
  badge.append(dot);
  if (!x || (!x.connected && !x.via)) {  // (a seat is heard through the courtroom's microphones)
    badge.title = x && x.last_seen ? `未连接（最后在线 ${clock(x.last_seen)}）` : "未连接";
    badge.dataset.state = "offline";
    return badge;
  }
  const parts = [x.connected ? "在线" : "座席麦克风"];
  if (x.media === "connected") parts.push(x.audio ? "麦克风开" : "无麦克风", x.video ? "摄像头开" : "无摄像头");
  else if (x.media === "connecting") parts.push("音视频连接中");
  if (typeof x.loss === "number") parts.push(x.loss < 0.02 ? "网络良好" : x.loss < 0.08 ? "网络一般" : "网络较差");
  if (typeof x.level === "number") parts.push(x.level <= SILENT_DB ? "麦克风无声" : `音量 ${x.level} 分贝`);
  if (x.media === "connected" && x.audio) badge.append(icon(MIC));
  badge.title = parts.join(" · ");
  badge.dataset.state = x.media === "connected" ? "media" : "online";
  badge.dataset.quality = typeof x.loss !== "number" ? "" : x.loss < 0.02 ? "good" : x.loss < 0.08 ? "fair" : "poor";
  return badge;
}

// The hearing's legal vocabulary, for those who may change it.
async function loadTerms() {
  const r = await fetch(`/api/hearings/${hearingId}/vocabulary?${who}`);
  if (!r.ok) return;
  const v = await r.json();
  $("terms").value = v.terms.join("\n");
  $("terms-note").textContent = v.default ? "（默认术语表）" : "（本案术语表）";
}
$("vocabulary").addEventListener("toggle", () => { if ($("vocabulary").open) loadTerms(); });
$("terms-save").addEventListener("click", () => {
  const terms = $("terms").value.split("\n").map(x => x.trim()).filter(Boolean);
  op({ kind: "vocabulary.set", terms }, (err) => notify(`术语未保存：${explain(err, "terms")}`));
});

// The judge shows one participant's video on every screen.
// Anyone may leave the full-screen picture on their own screen (it comes
// back when the judge shows something else); after 闭庭 nothing is shown.
let spotlightDismissed = null;
function renderSpotlight() {
  const d = t.display;
  const ended = t.proceedings.status === "ended";
  let pid = d.view === "video" && !ended ? d.participant_id : null;
  if (pid !== spotlightDismissed) spotlightDismissed = null;
  const dismissed = pid !== null && spotlightDismissed === pid;
  if (dismissed) pid = null;
  const self = me && pid === me.participant_id;
  for (const f of document.querySelectorAll("#grid figure")) {
    f.classList.toggle("spotlight", pid !== null && (f.dataset.participantId === pid || (self && f.id === "self")));
  }
  const p = pid ? t.names[pid] : null;
  const shownHere = document.querySelector("#grid figure.spotlight");
  $("spotlight-note").hidden = !p || Boolean(shownHere);
  if (p) $("spotlight-note").textContent = `审判员正在展示 ${ROLE[p.role] || p.role} ${p.name} 的画面${media.joined ? "" : "（加入音视频后可观看）"}`;
  $("spotlight-stop").hidden = !pid || !permissions.includes("display.set");
  $("spotlight-exit").hidden = !shownHere;
}
$("spotlight-stop").addEventListener("click", () => op({ kind: "display.set", view: "transcript" }));
$("spotlight-exit").addEventListener("click", () => {
  spotlightDismissed = t.display.participant_id;
  renderSpotlight();
});

// After the lock: who has signed, and the pad for those who have not.
function renderSigning() {
  $("signing").hidden = !t.locked;
  if (!t.locked) return;
  const signers = Object.values(t.names).filter(p => p.role !== "observer");
  $("signers").replaceChildren(...signers.map((p) => {
    const li = document.createElement("li");
    li.dataset.participantId = p.participant_id;
    const signed = t.signatures.has(p.participant_id);
    li.className = signed ? "signed" : "";
    li.textContent = `${ROLE[p.role] || p.role} ${p.name}：${signed ? "已签名" : "待签名"}`;
    return li;
  }));
  const mine = me && t.signatures.has(me.participant_id);
  const signs = permissions.includes("signature.add");
  $("sign-pad").hidden = mine || !signs;
  $("sign-fingerprint").hidden = mine || !signs || !readerDevice();
  $("sign-hint").textContent = mine ? "您已签名。"
    : signs ? "笔录已由审判员锁定，内容不再改动。请核对后在下方签名。"
    : "笔录已由审判员锁定，内容不再改动。以下为各方签名情况。";
}

$("search").addEventListener("input", (e) => {
  const n = view.search(e.target.value);
  $("hits").textContent = e.target.value.trim() ? `${n} 处` : "";
});
$("author-filter").addEventListener("change", (e) => view.setAuthor(e.target.value));

for (const a of $("export").querySelectorAll("a")) {
  a.href = `/api/hearings/${hearingId}/export?format=${a.dataset.format}&${who}`;
}

function status(text) { $("status").textContent = text; }

// The composed recording (庭审录像): the judge's and the clerk's, after 闭庭.
// Asking starts the composition; the page asks again until it is done.
const videoUrl = `/api/hearings/${hearingId}/video?${who}`;
let videoPolling = false;
async function pollVideo() {
  if (videoPolling) return;
  videoPolling = true;
  $("video-make").hidden = true;
  try {
    for (;;) {
      const r = await fetch(videoUrl, { headers: { Range: "bytes=0-0" } });
      if (r.status === 200 || r.status === 206) {
        $("video-progress").textContent = "";
        $("video-link").href = videoUrl;
        $("video-link").hidden = false;
        return;
      }
      if (r.status !== 202) {
        const body = await r.json().catch(() => ({}));
        $("video-progress").textContent = (body.error && body.error.message) || `生成失败（${r.status}）`;
        $("video-make").hidden = false;
        $("video-make").textContent = "重试";
        return;
      }
      const progress = await r.json();
      $("video-progress").textContent = `生成中 ${Math.round((progress.fraction || 0) * 100)}%`;
      await new Promise((done) => setTimeout(done, 2000));
    }
  } catch (err) {  // the network, not the hub: say so and offer to ask again
    $("video-progress").textContent = "连接中断，请重试";
    $("video-make").hidden = false;
    $("video-make").textContent = "重试";
  } finally {
    videoPolling = false;
  }
}
$("video-make").addEventListener("click", pollVideo);

let pending = { dirty: new Set(), reordered: false, all: false };
let scheduled = false;
function changed(result) {
  if (result === null) pending.all = true;
  else {
    for (const id of result.dirty) pending.dirty.add(id);
    pending.reordered ||= result.reordered;
  }
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => {
    scheduled = false;
    const p = pending;
    pending = { dirty: new Set(), reordered: false, all: false };
    // After 闭庭 the hearing's media ends on every screen (before the
    // controls are drawn, so 退出音视频 goes with it).
    if (t.proceedings.status === "ended" && media.joined) { media.leave(); notify("已闭庭，音视频已结束", "info"); }
    const correcting = permissions.includes("segment.edit") && !t.locked;
    if (correcting !== corrector.enabled) { corrector.enabled = correcting; view.showUnsure = correcting; p.all = true; }
    view.update(p.all ? null : p.dirty, p.reordered);
    renderPeople();
    renderSigning();
    evidence.render();
    renderSpotlight();
    renderDevices();
    renderAuthors();
    // Waiting to be admitted: nothing of the hearing but the notice.
    const waiting = isWaiting();
    document.body.classList.toggle("waiting", waiting);
    annotator.enabled = permissions.includes("annotation.add") && !t.locked && !waiting;
    $("ink-toggle").hidden = !annotator.enabled;
    $("vocabulary").hidden = !permissions.includes("vocabulary.set");
    if (!annotator.enabled && ink.on) ink.set(false);
    renderComposer();
    $("empty").hidden = t.order.length > 0 || waiting || !me;
    if (t.locked) status("笔录已锁定");
  });
}
const render = () => changed({ dirty: [], reordered: false });

function renderAuthors() {
  const select = $("author-filter");
  const have = new Set([...select.options].map(o => o.value));
  for (const a of t.authors()) {
    if (have.has(a.participant_id)) continue;
    const o = document.createElement("option");
    o.value = a.participant_id;
    o.textContent = `${ROLE[a.role] || a.role} ${a.name}`;
    select.append(o);
  }
}

function button(text, action, body, question) {
  const b = document.createElement("button");
  b.textContent = text;
  b.dataset.action = action;
  b.onclick = async () => {
    if (question && !(await ask(question, text))) return;
    op(body);
  };
  return b;
}

// The judge's switch of the public live stream (庭审直播): its delay, on
// and off, and where the public watches it. A hearing not open to the
// public (不公开) has none.
let streamDelay = 30;
function streamControls() {
  const box = document.createElement("span");
  box.id = "stream";
  const b = t.broadcast;
  if (!b.public) { box.textContent = "不公开审理，不直播"; return box; }
  if (b.streaming) {
    const link = document.createElement("a");
    link.href = `/live/${hearingId}`;
    link.target = "_blank";
    link.textContent = `直播中（延时${b.delay_s}秒）`;
    box.append(link, button("暂停直播", "stream-stop", { kind: "stream.stop" }));
    return box;
  }
  const delay = document.createElement("select");
  delay.id = "stream-delay";
  delay.title = "直播延时";
  for (const s of [10, 30, 60, 120, 300]) delay.append(new Option(`延时${s}秒`, String(s), false, s === streamDelay));
  delay.onchange = () => { streamDelay = Number(delay.value); };
  const start = document.createElement("button");
  start.textContent = "开始直播";
  start.dataset.action = "stream-start";
  start.onclick = async () => {
    if (!(await ask(`确认开始庭审直播？公众将在延时 ${streamDelay} 秒后看到庭审画面和声音。`, "开始直播"))) return;
    op({ kind: "stream.start", delay_s: streamDelay });
  };
  box.append(delay, start);
  return box;
}

// A participant's link went astray: the judge gives them a new one (the
// old stops working at once) and hands it on, shown here to copy.
function reissueButton(p) {
  const b = document.createElement("button");
  b.textContent = "更换链接";
  b.dataset.action = "reissue";
  b.onclick = async () => {
    const label = `${ROLE[p.role] || p.role} ${p.name}`;
    if (!(await ask(`为${label}更换参加链接？原链接立即失效，其已打开的页面会断开。`, "更换链接"))) return;
    let r;
    try {
      r = await fetch(`/api/hearings/${hearingId}/participants/${encodeURIComponent(p.participant_id)}/invite?${who}`,
                      { method: "POST" });
    } catch {
      notify("网络中断，链接未更换");
      return;
    }
    if (!r.ok) { notify(`链接未更换：${await httpTrouble(r, "control")}`); return; }
    const invite = await r.json();
    $("link-text").textContent = `${label}的新参加链接（请通过安全方式交给本人）：`;
    $("link-url").value = invite.join_url;
    $("link-dialog").showModal();
    $("link-url").select();
  };
  return b;
}
$("link-copy").addEventListener("click", async () => {
  $("link-url").select();
  try { await navigator.clipboard.writeText($("link-url").value); notify("链接已复制", "info"); }
  catch { notify("请手动复制链接（已选中）", "info"); }
});

// The clerk's keyboard record: a line by a chosen speaker, at the end of the
// transcript; with or without recognition, the whole record can be typed.
let composerSpeakers = "";
function renderComposer() {
  const on = permissions.includes("segment.add") && !t.locked && !isWaiting();
  $("composer").hidden = !on;
  if (!on) return;
  const select = $("composer-speaker");
  const people = Object.values(t.names).filter(p => p.role !== "observer");
  const key = people.map(p => p.participant_id).join();
  if (key === composerSpeakers) return;
  composerSpeakers = key;
  const chosen = select.value;
  select.replaceChildren(...people.map((p) => {
    const o = document.createElement("option");
    o.value = p.participant_id;
    o.textContent = `${ROLE[p.role] || p.role} ${p.name}`;
    return o;
  }));
  select.value = chosen || (people.find(p => p.role === "judge") || people[0] || {}).participant_id || "";
}
$("composer").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("composer-text").value.trim();
  if (!text) { notify("请先输入发言内容"); return; }
  op({ kind: "segment.add", text, speaker: $("composer-speaker").value }, (err) => {
    $("composer-text").value ||= text;  // nothing typed is lost
    notify(`未记入笔录：${explain(err, "record")}`);
  });
  $("composer-text").value = "";
  $("composer-text").focus();
});
$("composer-text").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); $("composer").requestSubmit(); }
});

// Participants and, on the judge's page, the controls of the hearing.
function renderPeople() {
  const proceedings = t.proceedings;
  const kind = t.hearing && t.hearing.kind === "mediation" ? MEDIATION_STATUS : STATUS;
  document.getElementById("hearing-status").textContent = kind[proceedings.status];
  // The judge runs a hearing; the mediator a mediation session.
  const judge = me && (me.role === "judge" || me.role === "mediator");
  const mediation = t.hearing && t.hearing.kind === "mediation";
  const controls = document.getElementById("controls");
  controls.replaceChildren();
  const ended = proceedings.status === "ended";
  // The 庭审录像 is the bench's; a party's once the judge shares it.
  const bench = me && (me.role === "judge" || me.role === "clerk");
  const party = me && ["plaintiff", "defendant", "agent", "prosecutor", "witness"].includes(me.role);
  $("video").hidden = !(ended && !mediation && (bench || (party && t.broadcast.video_shared)));
  const share = $("video-share");
  share.hidden = !(ended && !mediation && permissions.includes("video.share"));
  share.textContent = t.broadcast.video_shared ? "取消当事人查看" : "允许当事人查看";
  share.onclick = () => op({ kind: "video.share", shared: !t.broadcast.video_shared });
  if (judge) {
    const s = proceedings.status;
    if (s === "not_started" || s === "paused") controls.append(button(s === "paused" ? (mediation ? "继续调解" : "继续开庭") : (mediation ? "开始调解" : "开庭"), "start", { kind: "hearing.start" }));
    if (s === "in_session") controls.append(button(mediation ? "暂停调解" : "休庭", "pause", { kind: "hearing.pause" }));
    if (!ended) controls.append(button(mediation ? "结束调解" : "闭庭", "end", { kind: "hearing.end" },
      mediation ? "确认结束本次视频调解？" : "确认闭庭？闭庭后录音、录像和语音识别停止，庭审不能再继续。"));
    // The court's rule: the record is locked for signing after 闭庭.
    if (ended && !t.locked && !mediation) controls.append(button("锁定笔录", "lock", { kind: "transcript.lock" },
      "确认锁定笔录？锁定后任何人都不能再修改笔录，各方将依此签名。"));
    if (!mediation && !ended && permissions.includes("stream.start")) controls.append(streamControls());
  }
  const list = document.getElementById("people");
  list.replaceChildren(...Object.values(t.names).map((p) => {
    const li = document.createElement("li");
    li.dataset.participantId = p.participant_id;
    const admitted = proceedings.admitted.has(p.participant_id);
    const muted = proceedings.muted.has(p.participant_id);
    const masked = t.broadcast.protected.has(p.participant_id);
    const seen = presence[p.participant_id];
    const staff = me && (me.role === "judge" || me.role === "clerk");
    li.textContent = `${ROLE[p.role] || p.role} ${p.name}（${SITE[p.site] || p.site}）` +
      (admitted ? "" : " · 等候入庭") + (muted ? " · 已静音" : "") + (masked ? " · 直播遮挡" : "") +
      (staff && seen && !seen.connected && seen.last_seen ? ` · 最后在线 ${clock(seen.last_seen)}` : "") +
      (staff && seen && seen.connected && seen.audio && typeof seen.level === "number" && seen.level <= SILENT_DB
        ? " · 麦克风无声" : "");
    li.prepend(presenceBadge(presence[p.participant_id]));
    const self = me && p.participant_id === me.participant_id;
    if (!ended && p.role !== "observer" && admitted && (judge || (self && (!muted || proceedings.muted.get(p.participant_id) === me.participant_id)))) {
      li.append(button(muted ? "取消静音" : "静音", muted ? "unmute" : "mute",
        { kind: "participant.mute", participant_id: p.participant_id, muted: !muted }));
    }
    if (judge && permissions.includes("participant.protect") && t.broadcast.public && !ended
        && !["judge", "clerk", "observer"].includes(p.role)) {
      li.append(button(masked ? "取消直播遮挡" : "直播遮挡", masked ? "unprotect" : "protect",
        { kind: "participant.protect", participant_id: p.participant_id, protected: !masked }));
    }
    const sending = presence[p.participant_id] && presence[p.participant_id].video;
    if (judge && sending && admitted && !ended) {
      const showing = t.display.view === "video" && t.display.participant_id === p.participant_id;
      if (!showing) li.append(button("展示画面", "spotlight", { kind: "display.set", view: "video", participant_id: p.participant_id }));
    }
    if (me && me.role === "judge" && p.role !== "judge") li.append(reissueButton(p));
    if (judge && p.role !== "judge" && p.role !== "mediator" && !ended) {
      li.append(admitted ? button("移出", "remove", { kind: "participant.remove", participant_id: p.participant_id })
                         : button("准许进入", "admit", { kind: "participant.admit", participant_id: p.participant_id }));
    }
    return li;
  }), ...deviceItems());
  const joinButton = document.getElementById("join");
  joinButton.hidden = media.joined || !me || !proceedings.admitted.has(me.participant_id) || ended;
  document.getElementById("leave").hidden = !media.joined;
  document.getElementById("waiting").hidden = !isWaiting();
}

// The courtroom's equipment (its PC with the seat microphones and cameras),
// for the judge and the clerk: whether it is in the hearing, since when not.
function deviceItems() {
  if (!me || (me.role !== "judge" && me.role !== "clerk")) return [];
  return Object.entries(devices).map(([id, d]) => {
    const li = document.createElement("li");
    li.dataset.deviceId = id;
    const seats = (d.seats || []).length;
    li.textContent = `法庭设备 ${d.name}` + (d.connected
      ? (d.media === "connected" ? ` · 已接入（${seats} 个座席麦克风${(d.cameras || []).length ? "、摄像头" : ""}）` : " · 在线")
      : ` · 离线${d.last_seen ? `（最后在线 ${clock(d.last_seen)}）` : ""}`);
    li.prepend(presenceBadge({ connected: d.connected, media: d.media, audio: seats > 0, video: (d.cameras || []).length > 0 }));
    return li;
  });
}

// The hub shows a participant nothing of the hearing until the judge admits
// them ("waiting"), and again after the judge removes them.
let waitingNow = false;
function isWaiting() { return Boolean(me) && (waitingNow || !t.proceedings.admitted.has(me.participant_id)); }

let presence = {};  // participant_id -> {connected, media, audio, video, loss, level, via}
let devices = {};   // device_id -> {name, connected, media, seats, cameras, last_seen}
document.getElementById("join").onclick = () => media.join().then(render).catch((e) => notify(mediaTrouble(e)));
document.getElementById("leave").onclick = () => { media.leave(); render(); };

// Device pickers, filled once media is joined.
async function fillDevices() {
  const found = await media.devices();
  for (const [kind, id] of [["audio", "mic-select"], ["video", "camera-select"]]) {
    const select = $(id);
    select.replaceChildren(...found[kind].map((d, k) => {
      const o = document.createElement("option");
      o.value = d.deviceId;
      o.textContent = d.label || `${kind === "audio" ? "麦克风" : "摄像头"} ${k + 1}`;
      o.selected = d.deviceId === media.current(kind);
      return o;
    }));
    select.parentElement.hidden = found[kind].length < 2 || !media.current(kind);
  }
}
for (const [kind, id] of [["audio", "mic-select"], ["video", "camera-select"]]) {
  $(id).addEventListener("change", (e) => media.use(kind, e.target.value)
    .then(() => notify(kind === "audio" ? "已切换麦克风" : "已切换摄像头", "info"))
    .catch((err) => notify(`无法切换设备：${mediaTrouble(err)}`)));
}
let cameraOn = true;
$("camera-toggle").addEventListener("click", () => {
  cameraOn = !cameraOn;
  media.cameraOn(cameraOn);
  $("camera-toggle").textContent = cameraOn ? "关闭摄像头" : "打开摄像头";
});
let devicesShown = false;
function renderDevices() {
  const show = media.joined && media.local !== null;
  $("devices").hidden = !show;
  $("camera-toggle").hidden = !show || media.local.getVideoTracks().length === 0;
  if (show && !devicesShown) fillDevices().catch(() => {});
  devicesShown = show;
}

// One committed event, live or from a catch-up batch, applied once in seq order.
function onEvent(msg) {
  if (msg.seq <= t.seq) return;
  t.seq = msg.seq;
  const result = t.apply(msg.event);
  if (msg.event.kind === "vocabulary.changed" && $("vocabulary").open) {
    loadTerms().then(() => notify("识别术语已更新", "info"));
  }
  if (msg.event.kind === "hearing.created") document.getElementById("title").textContent = titleOf(msg.event.hearing);
  changed(result);
}

// A mediation session is seen and heard, not transcribed: the page is its
// video and its people (body[data-kind=mediation] hides the record).
function titleOf(hearing) {
  document.body.dataset.kind = hearing.kind || "hearing";
  return `${hearing.court} ${hearing.case_number} ${hearing.kind === "mediation" ? "在线调解" : "庭审笔录"}`;
}

let retries = 0;
// Connections in a row that never opened; after this many, a page that a
// cluster node sent here goes back to where its join link first led.
let unreachable = 0;
const UNREACHABLE_TRIES = 3;
const entry = document.querySelector("meta[name=entry]").content;
// Open this page again through ``origin`` (the entry, or "" for this
// node), which sends it on to the node that runs the hearing now; the
// media rejoins there if it was joined here.
function reopen(origin) {
  const back = new URLSearchParams({ as: participantId });
  for (const keep of ["watch", "via", "via_sig"]) if (params.has(keep)) back.set(keep, params.get(keep));
  if (media.joined || params.get("autojoin") === "1") back.set("autojoin", "1");
  location.replace(`${origin}${location.pathname}?${back}`);
}
function connect() {
  ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/hearings/${hearingId}?${who}`);
  ws.onmessage = (m) => {
    const msg = JSON.parse(m.data);
    if (msg.type === "welcome") {
      const p = msg.participant;
      me = p;
      permissions = msg.permissions;
      document.body.dataset.role = p.role;
      document.getElementById("who").textContent = `${ROLE[p.role] || p.role} ${p.name}`;
      // A new screen takes the hub's snapshot of the hearing and the events
      // after it; a screen that reconnects asks for what it missed.
      ws.send(JSON.stringify(t.seq === 0 ? { type: "snapshot", batch: true } : { type: "sync", since: t.seq, batch: true }));
    } else if (msg.type === "event") {
      onEvent(msg);
    } else if (msg.type === "snapshot") {
      if (t.seq === 0) {
        t.load(msg.state, msg.seq);
        document.getElementById("title").textContent = titleOf(msg.state.hearing);
        changed(null);
      }
    } else if (msg.type === "events") {  // a batch of catch-up events
      for (const e of msg.events) onEvent(e);
    } else if (msg.type === "waiting") {
      waitingNow = true;
      status("等候审判员准许进入");
      render();
    } else if (msg.type === "synced") {
      // After the first connection, after a reconnection, and after the
      // judge admits this participant (the hub completes the sync then).
      waitingNow = false;
      status("已连接");
      render();
      if (media.joined) {
        media.rejoin();
      } else if (params.get("autojoin") === "1" && t.proceedings.admitted.has(me.participant_id)
                 && t.proceedings.status !== "ended") {
        media.join().then(render).catch((e) => notify(mediaTrouble(e)));
      }
    } else if (msg.type.startsWith("rtc.")) {
      media.handle(msg).then(render).catch(() => notify("音视频连接出错，请退出音视频后重新加入"));
    } else if (msg.type === "ack") {
      refusals.delete(msg.op_id);
    } else if (msg.type === "nack") {
      const onNack = refusals.get(msg.op_id);
      refusals.delete(msg.op_id);
      if (onNack) onNack(msg.error);
      else notify(explain(msg.error));
    } else if (msg.type === "presence") {
      presence = msg.participants; devices = msg.devices || {}; evidence.devices = devices; media.courtDevices = devices;
      render();
    } else if (msg.type === "device.capture") {
      if (msg.source === "fingerprint") fingerprintCaptured(msg);
      else evidence.captured(msg);
    } else if (msg.type === "partial") {
      if (msg.text) t.partials.set(msg.participant_id, msg.text);
      else t.partials.delete(msg.participant_id);  // the speaker's stream ended
      render();
    } else if (msg.type === "speech.unrecorded") {
      t.partials.delete(msg.participant_id);
      render();
      const p = t.names[msg.participant_id];
      const whose = p ? `${ROLE[p.role] || p.role} ${p.name}` : "一段";
      if (permissions.includes("segment.add") || permissions.includes("transcript.lock")) {
        notify(`${msg.reason === "locked" ? "笔录已锁定，" : ""}${whose}的发言未记入笔录：${msg.text}`);
      }
    } else if (msg.type === "error" && msg.error.code === "moved") {
      // This node now only mirrors the hearing; its media runs elsewhere.
      status("正在转接到本庭审的服务节点…");
      reopen("");
    } else if (msg.type === "error") {
      if (msg.error.code === "forbidden" && !me) status("邀请链接无效或已失效，请向法院索取新的链接");
      else notify(explain(msg.error));
    }
  };
  let opened = false;
  ws.onopen = () => { retries = 0; unreachable = 0; opened = true; };
  ws.onclose = (e) => {
    if (e.code === 4401) {  // the link was revoked or replaced: coming back would not help
      status("邀请链接无效或已失效，请向法院索取新的链接");
      if (media.joined) media.leave();
      return;
    }
    if (!opened) unreachable += 1;
    if (entry && unreachable >= UNREACHABLE_TRIES) {
      // This node has gone (another has taken the hearing over): back
      // through the address the join link first reached, which sends the
      // page on to the hearing's node now (cluster/entry.py).
      status("当前服务节点无法连接，正在转接…");
      reopen(entry);
      return;
    }
    status(unreachable >= UNREACHABLE_TRIES ? "服务器暂时无法连接，正在重试；如长时间未恢复，请重新打开邀请链接"
                                            : "连接中断，正在重连…");
    // Back off, with jitter, so that screens turned away by a busy hub (or
    // all reconnecting after a restart) do not come back all at once.
    retries += 1;
    setTimeout(connect, Math.min(10000, 1000 * 2 ** Math.min(retries - 1, 4)) * (0.5 + Math.random()));
  };
}
connect();
