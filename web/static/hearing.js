// Live transcript view: joins the hearing websocket, syncs, and keeps the
// page equal to the hub's transcript (segments and annotations).
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

document.getElementById("export").href =
  `/api/hearings/${hearingId}/export?format=txt&token=${encodeURIComponent(token)}`;

function status(text) { document.getElementById("status").textContent = text; }

function apply(ev) {
  switch (ev.kind) {
    case "hearing.created":
      document.getElementById("title").textContent = `${ev.hearing.court} ${ev.hearing.case_number} 庭审笔录`;
      for (const p of ev.hearing.participants) names[p.participant_id] = p;
      break;
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
  });
}

function connect() {
  const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/hearings/${hearingId}?token=${encodeURIComponent(token)}`);
  ws.onmessage = (m) => {
    const msg = JSON.parse(m.data);
    if (msg.type === "welcome") {
      const p = msg.participant;
      document.getElementById("who").textContent = `${ROLE[p.role] || p.role} ${p.name}`;
      ws.send(JSON.stringify({ type: "sync", since: seq }));
    } else if (msg.type === "event" && msg.seq > seq) {
      seq = msg.seq; apply(msg.event); render();
    } else if (msg.type === "synced") {
      status("已连接");
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
