// The hearing page: joins the hearing websocket, syncs, and keeps the page
// equal to the hub's transcript (segments and annotations); joins the
// hearing's audio and video; shows the participants, with the judge's
// controls (admit, remove, mute, start / pause / end) on the judge's page.
import { Media } from "/static/media.js";

const params = new URLSearchParams(location.search);
const token = params.get("token") || "";
const hearingId = location.pathname.split("/").pop();
const ROLE = { judge: "审判员", clerk: "书记员", plaintiff: "原告", defendant: "被告", agent: "代理人",
  prosecutor: "公诉人", witness: "证人", observer: "旁听" };
const STYLE = { highlight: "标注", comment: "批注", ink: "手写", issue: "争议" };

const segments = new Map();     // id -> segment
const order = [];               // segment ids in transcript order
const annotations = new Map();  // id -> annotation
const partials = new Map();     // participant_id -> text
let seq = 0;
let names = {};
let me = null;            // this page's participant
let ws = null;
const proceedings = { status: "not_started", admitted: new Set(), muted: new Map() };
const STATUS = { not_started: "未开庭", in_session: "庭审中", paused: "休庭", ended: "已闭庭" };
const SITE = { court: "法庭", remote: "远程", detention: "看守所", procuratorate: "检察院" };

function send(message) { if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message)); }
let opCount = 0;
function op(body) { send({ type: "op", op_id: `${Date.now().toString(36)}-${++opCount}`, op: body }); }
const media = new Media(send, document.getElementById("grid"), names, (t) => status(t));
window.hearingMedia = media;  // for diagnostics (getStats) by support staff and tests

document.getElementById("export").href =
  `/api/hearings/${hearingId}/export?format=txt&token=${encodeURIComponent(token)}`;

function status(text) { document.getElementById("status").textContent = text; }

function apply(ev) {
  switch (ev.kind) {
    case "hearing.created":
      document.getElementById("title").textContent = `${ev.hearing.court} ${ev.hearing.case_number} 庭审笔录`;
      for (const p of ev.hearing.participants) names[p.participant_id] = p;
      for (const p of ev.hearing.participants) {
        const waits = ev.hearing.waiting_room && p.site !== "court" && p.role !== "judge" && p.role !== "clerk";
        if (!waits) proceedings.admitted.add(p.participant_id);
      }
      break;
    case "hearing.started": case "hearing.paused": case "hearing.ended":
      proceedings.status = ev.status; break;
    case "participant.admitted": proceedings.admitted.add(ev.participant.participant_id); break;
    case "participant.removed": proceedings.admitted.delete(ev.participant.participant_id); break;
    case "participant.muted": proceedings.muted.set(ev.participant.participant_id, ev.by.participant_id); break;
    case "participant.unmuted": proceedings.muted.delete(ev.participant.participant_id); break;
    case "segment.added": {
      segments.set(ev.segment.id, ev.segment);
      const at = ev.after === null ? 0 : order.indexOf(ev.after) + 1;
      order.splice(at, 0, ev.segment.id);
      partials.delete(ev.segment.speaker.participant_id);
      break;
    }
    case "segment.split":
      order.splice(order.indexOf(ev.segment.id) + 1, 0, ev.new_segment.id);
      segments.set(ev.new_segment.id, ev.new_segment);
      // fall through
    case "segment.edited": case "segment.relabeled": case "segment.merged":
      segments.set(ev.segment.id, ev.segment);
      if (ev.removed_segment_id) { segments.delete(ev.removed_segment_id); order.splice(order.indexOf(ev.removed_segment_id), 1); }
      for (const a of ev.annotations || []) annotations.set(a.id, a);
      break;
    case "annotation.added": annotations.set(ev.annotation.id, ev.annotation); break;
    case "annotation.removed": annotations.delete(ev.annotation_id); break;
    case "transcript.locked": status("笔录已锁定"); break;
  }
}

function renderSegment(seg) {
  const li = document.createElement("li");
  li.dataset.segmentId = seg.id;
  const who = document.createElement("span");
  who.className = "speaker";
  who.textContent = `${ROLE[seg.speaker.role] || seg.speaker.role} ${seg.speaker.name}：`;
  li.append(who);
  const marks = [...annotations.values()].filter(a => a.segment_id === seg.id && !a.orphaned && a.style !== "ink")
    .sort((a, b) => a.start - b.start);
  let pos = 0;
  const text = document.createElement("span");
  for (const a of marks) {
    if (a.start < pos) continue;  // overlapping marks are listed below the segment
    text.append(seg.text.slice(pos, a.start));
    const m = document.createElement("mark");
    m.className = `${a.color} ${a.style}`;
    m.dataset.annotationId = a.id;
    m.title = `${a.author.name}${a.body ? "：" + a.body : ""}`;
    m.textContent = seg.text.slice(a.start, a.end);
    text.append(m);
    pos = a.end;
  }
  text.append(seg.text.slice(pos));
  li.append(text);
  for (const a of annotations.values()) {
    if (a.segment_id !== seg.id || (marks.includes(a) && !a.body)) continue;
    if (a.style === "ink" && !a.orphaned) continue;
    const n = document.createElement("span");
    n.className = a.orphaned ? "note orphaned" : "note";
    if (!li.querySelector(`[data-annotation-id="${a.id}"]`)) n.dataset.annotationId = a.id;
    n.textContent = `〔${STYLE[a.style]}·${a.author.name}〕“${a.quote}”${a.style !== "ink" && a.body ? "：" + a.body : ""}${a.orphaned ? "（原文已修改）" : ""}`;
    li.append(n);
  }
  return li;
}

let scheduled = false;
function render() {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => {
    scheduled = false;
    const list = document.getElementById("segments");
    list.replaceChildren(...order.map(id => renderSegment(segments.get(id))));
    document.getElementById("partials").textContent =
      [...partials].map(([pid, t]) => `${names[pid] ? names[pid].name : ""}：${t}`).join("　");
    renderPeople();
  });
}

function button(text, action, body) {
  const b = document.createElement("button");
  b.textContent = text;
  b.dataset.action = action;
  b.onclick = () => op(body);
  return b;
}

// Participants and, on the judge's page, the controls of the hearing.
function renderPeople() {
  document.getElementById("hearing-status").textContent = STATUS[proceedings.status];
  const judge = me && me.role === "judge";
  const controls = document.getElementById("controls");
  controls.replaceChildren();
  if (judge) {
    const s = proceedings.status;
    if (s === "not_started" || s === "paused") controls.append(button(s === "paused" ? "继续开庭" : "开庭", "start", { kind: "hearing.start" }));
    if (s === "in_session") controls.append(button("休庭", "pause", { kind: "hearing.pause" }));
    if (s !== "ended") controls.append(button("闭庭", "end", { kind: "hearing.end" }));
  }
  const list = document.getElementById("people");
  list.replaceChildren(...Object.values(names).map((p) => {
    const li = document.createElement("li");
    li.dataset.participantId = p.participant_id;
    const admitted = proceedings.admitted.has(p.participant_id);
    const muted = proceedings.muted.has(p.participant_id);
    li.textContent = `${ROLE[p.role] || p.role} ${p.name}（${SITE[p.site] || p.site}）` +
      (admitted ? "" : " · 等候入庭") + (muted ? " · 已静音" : "");
    const self = me && p.participant_id === me.participant_id;
    if (p.role !== "observer" && admitted && (judge || (self && (!muted || proceedings.muted.get(p.participant_id) === me.participant_id)))) {
      li.append(button(muted ? "取消静音" : "静音", muted ? "unmute" : "mute",
        { kind: "participant.mute", participant_id: p.participant_id, muted: !muted }));
    }
    if (judge && p.role !== "judge") {
      li.append(admitted ? button("移出", "remove", { kind: "participant.remove", participant_id: p.participant_id })
                         : button("准许进入", "admit", { kind: "participant.admit", participant_id: p.participant_id }));
    }
    return li;
  }));
  const joinButton = document.getElementById("join");
  joinButton.hidden = media.joined || !me || !proceedings.admitted.has(me.participant_id);
  document.getElementById("leave").hidden = !media.joined;
  document.getElementById("waiting").hidden = !me || proceedings.admitted.has(me.participant_id);
}

let synced = false;
document.getElementById("join").onclick = () => media.join().then(render).catch((e) => status(`无法使用麦克风或摄像头：${e.message}`));
document.getElementById("leave").onclick = () => { media.leave(); render(); };

function connect() {
  ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/hearings/${hearingId}?token=${encodeURIComponent(token)}`);
  ws.onmessage = (m) => {
    const msg = JSON.parse(m.data);
    if (msg.type === "welcome") {
      const p = msg.participant;
      me = p;
      document.getElementById("who").textContent = `${ROLE[p.role] || p.role} ${p.name}`;
      ws.send(JSON.stringify({ type: "sync", since: seq }));
    } else if (msg.type === "event" && msg.seq > seq) {
      seq = msg.seq; apply(msg.event); render();
      if (msg.event.kind === "participant.admitted" && me && msg.event.participant.participant_id === me.participant_id
          && params.get("autojoin") === "1" && !media.joined) {
        media.join().then(render).catch((e) => status(`无法使用麦克风或摄像头：${e.message}`));
      }
    } else if (msg.type === "synced") {
      status("已连接");
      render();
      if (!synced && params.get("autojoin") === "1" && proceedings.admitted.has(me.participant_id)) {
        media.join().then(render).catch((e) => status(`无法使用麦克风或摄像头：${e.message}`));
      } else if (synced) {
        media.rejoin();
      }
      synced = true;
    } else if (msg.type.startsWith("rtc.")) {
      media.handle(msg).then(render).catch((e) => status(`音视频错误：${e.message}`));
    } else if (msg.type === "nack") {
      status(`操作未执行：${msg.error.message}`);
    } else if (msg.type === "partial") {
      partials.set(msg.participant_id, msg.text); render();
    } else if (msg.type === "error") {
      status(msg.error.code === "forbidden" ? "邀请链接无效" : `错误：${msg.error.message}`);
    }
  };
  ws.onclose = (e) => {
    if (e.code === 4401) return;
    status("连接中断，正在重连…");
    setTimeout(connect, 1000);
  };
}
connect();
