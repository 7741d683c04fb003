// The staff console (法院工作台): sign in, file cases and print each
// party's notice with its QR code, answer the parties, run the evidence
// exchange, serve documents and follow their service, mediate, schedule
// hearings. The hub judges every action (the case's capacity of the one
// signed in); the console only shows what it answers.
"use strict";
const $ = id => document.getElementById(id);
let me = null, cases = [], current = null, view = null, seq = 0, reading = false;
// The mediator's link into the latest video session, per case (shown once by the hub; kept while the page lives).
const sessionLinks = {};

async function start() {
  try { me = await api("GET", "/api/me"); } catch (e) { $("login").hidden = false; return; }
  $("login").hidden = true; $("desk").hidden = false; $("logout").hidden = false;
  $("who").textContent = `${me.name}（${ROLE_NAMES[me.role]}）`;
  $("new-case-open").hidden = !["admin", "judge", "clerk"].includes(me.role);
  $("accounts-card").hidden = me.role !== "admin";
  await listCases();
  setInterval(() => listCases().catch(() => {}), 15000);
}

// -- staff accounts (administrators) -------------------------------------------------

async function listAccounts() {
  const staff = (await api("GET", "/api/staff")).staff;
  $("account-table").replaceChildren(el("tr", {}, ...["账号", "姓名", "角色", "状态", ""].map(h => el("th", {}, h))),
    ...staff.map(a => el("tr", {"data-account": a.staff_id}, el("td", {}, a.staff_id), el("td", {}, a.name),
      el("td", {}, ROLE_NAMES[a.role]), el("td", {}, a.disabled ? "已停用" : "在用"),
      el("td", {}, a.disabled || a.staff_id === me.staff_id ? "" : el("button", {type: "button", onclick: async () => {
        try { await api("DELETE", `/api/staff/${a.staff_id}`); toast(`已停用 ${a.name}`, true); await listAccounts(); }
        catch (e) { toast(`停用失败：${e.chinese}`); }
      }}, "停用")))));
}
$("accounts-open").addEventListener("click", async () => {
  $("accounts").hidden = false; $("new-case").hidden = true; $("case").hidden = true;
  await listAccounts().catch(e => toast(`无法读取账号：${e.chinese}`));
});
$("account-new").addEventListener("submit", async ev => {
  ev.preventDefault();
  try {
    await api("POST", "/api/staff", {staff_id: $("ac-id").value.trim(), name: $("ac-name").value.trim(),
                                     role: $("ac-role").value, password: $("ac-password").value});
    toast("账号已建立，请将初始密码告知本人并提醒修改", true);
    $("account-new").reset(); await listAccounts();
  } catch (e) { toast(`建立失败：${e.chinese}（${e.message}）`); }
});

$("login").addEventListener("submit", async ev => {
  ev.preventDefault();
  try {
    await api("POST", "/api/login", {staff_id: $("login-id").value.trim(), password: $("login-password").value});
    $("login-password").value = "";
    await start();
  } catch (e) {
    toast(e.status === 429 ? "密码错误次数过多，账号已暂时锁定，请稍后再试" : "账号或密码错误");
  }
});
$("logout").addEventListener("click", async () => { await api("POST", "/api/logout"); location.reload(); });

async function listCases() {
  cases = (await api("GET", "/api/cases")).cases;
  $("cases").replaceChildren(...cases.map(c => el("li", {"data-case": c.case_id, "aria-current": String(c.case_id === current),
      onclick: () => openCase(c.case_id)},
    el("span", {}, c.case_number), el("span", {class: "muted"}, c.cause + (c.closed ? "（已结案）" : "")),
    c.unread ? el("span", {class: "badge", title: "未读留言"}, String(c.unread)) : null)));
  const totals = {};
  for (const c of cases) for (const [who, counts] of Object.entries(c.ratings || {})) {
    const t = totals[who] = totals[who] || {satisfied: 0, basically_satisfied: 0, unsatisfied: 0, name: counts.name};
    for (const k of Object.keys(RATINGS)) t[k] += counts[k] || 0;
  }
  $("ratings").replaceChildren(el("tr", {}, el("th", {}, "答复人"), ...Object.values(RATINGS).map(l => el("th", {}, l))),
    ...Object.values(totals).map(t => el("tr", {}, el("td", {}, t.name), ...Object.keys(RATINGS).map(k => el("td", {}, String(t[k]))))));
  $("ratings-card").hidden = !Object.keys(totals).length;
}

// -- a new case ---------------------------------------------------------------

function partyRow() {
  const row = el("tr", {},
    el("td", {}, el("select", {"data-f": "role"}, ...["plaintiff", "defendant", "agent"].map(r => el("option", {value: r}, ROLE_NAMES[r])))),
    el("td", {}, el("input", {"data-f": "name", required: true, maxlength: 50})),
    el("td", {}, el("input", {"data-f": "id_number", maxlength: 32})),
    el("td", {}, el("input", {"data-f": "phone", maxlength: 20})),
    el("td", {}, el("input", {"data-f": "represents", placeholder: "被代理人序号（1 起）", maxlength: 3})));
  $("nc-parties").tBodies[0].append(row);
}
$("new-case-open").addEventListener("click", () => {
  $("new-case").hidden = false; $("case").hidden = true; $("accounts").hidden = true;
  if (!$("nc-parties").tBodies[0].rows.length) { partyRow(); partyRow(); }
});
$("nc-add").addEventListener("click", partyRow);
$("new-case").addEventListener("submit", async ev => {
  ev.preventDefault();
  const parties = [...$("nc-parties").tBodies[0].rows].map(row => {
    const v = f => row.querySelector(`[data-f=${f}]`).value.trim();
    const p = {role: v("role"), name: v("name")};
    if (v("id_number")) p.id_number = v("id_number");
    if (v("phone")) p.phone = v("phone");
    if (p.role === "agent" && v("represents")) p.represents = String(Number(v("represents")) - 1);
    return p;
  });
  try {
    const made = await api("POST", "/api/cases", {case_number: $("nc-number").value.trim(), cause: $("nc-cause").value.trim(),
      court: $("nc-court").value.trim(), procedure: $("nc-procedure").value, parties});
    toast("已立案，请为各当事人打印告知书", true);
    $("new-case").reset(); $("nc-parties").tBodies[0].replaceChildren(); $("new-case").hidden = true;
    await listCases(); await openCase(made.case_id);
  } catch (e) { toast(`立案失败：${e.chinese}（${e.message}）`); }
});

// -- the open case --------------------------------------------------------------

async function openCase(caseId) {
  current = caseId; $("new-case").hidden = true; $("accounts").hidden = true;
  await loadCase();
  for (const li of $("cases").children) li.setAttribute("aria-current", String(li.dataset.case === caseId));
  follow();
}
async function loadCase() {
  const got = await api("GET", `/api/cases/${current}`);
  // Answers can cross: an older one never replaces a newer view.
  if (view && got.case.case_id === view.case.case_id && got.seq < seq) return;
  view = got;
  seq = view.seq;
  renderCase();
}
// The open case, live over its websocket (one at a time).
let following = null;
function follow() {
  if (following) following.stop();
  following = followCase(current, seq, () => loadCase().catch(() => {}), () => location.reload());
}
async function act(op, done) {
  try {
    await api("POST", `/api/cases/${current}/ops`, {op_id: opId(), op});
    if (done) toast(done, true);
    await loadCase();
  } catch (e) { toast(`操作失败：${e.chinese}（${e.message}）`); throw e; }
}
const party = id => view.parties.find(p => p.party_id === id);

function renderCase() { keepDrafts($("case"), drawCase); }
function drawCase() {
  const c = view.case;
  $("case").hidden = false;
  $("case-head").replaceChildren(el("h2", {}, `${c.case_number}　${c.cause}`),
    el("div", {class: "muted"}, `${c.court} · ${c.procedure === "simple" ? "简易程序" : "普通程序"} · 立案 ${when(c.filed_ms)}` +
      ` · 承办法官：${c.staff.judge ? c.staff.judge.name : "未指派"} · 书记员：${c.staff.clerk ? c.staff.clerk.name : "未指派"}` +
      ` · 调解员：${c.staff.mediator ? c.staff.mediator.name : "未指派"}${view.closed ? " · 已结案" : ""}`));
  renderParties(); renderThreads(); renderExhibits(); renderService(); renderMediation(); renderHearings();
}

function renderParties() {
  $("parties").replaceChildren(el("tr", {}, ...["编号", "身份", "姓名", "身份证号码", "电话", "身份核验", "告知书"].map(h => el("th", {}, h))),
    ...view.parties.map(p => el("tr", {"data-party": p.party_id}, el("td", {}, p.party_id),
      el("td", {}, ROLE_NAMES[p.role] + (p.represents ? `（代理 ${party(p.represents).name}）` : "")),
      el("td", {}, p.name), el("td", {}, p.id_number || "—"), el("td", {}, p.phone || "—"),
      el("td", {}, Object.entries(view.verified[p.party_id] || {}).map(([k, t]) => `${PURPOSES[k]} ${when(t)}`).join("；") || "未核验"),
      el("td", {}, el("button", {type: "button", "data-notice": p.party_id, onclick: () => printNotice(p)}, "打印告知书"),
        el("button", {type: "button", "data-signout": p.party_id, onclick: () =>
          act({kind: "party.signout", party_id: p.party_id}, `${p.name} 的设备已注销，需凭新告知书重新进入`).catch(() => {})}, "注销设备")))));
  const running = ["judge", "clerk", "admin"].includes(me.role) && !view.closed;
  $("add-party").hidden = !running;
  $("ap-represents").replaceChildren(el("option", {value: ""}, "—"),
    ...view.parties.filter(p => p.role !== "agent").map(p => el("option", {value: p.party_id}, p.name)));
}
$("add-party").addEventListener("submit", async ev => {
  ev.preventDefault();
  const op = {kind: "party.add", role: $("ap-role").value, name: $("ap-name").value.trim()};
  if ($("ap-id").value.trim()) op.id_number = $("ap-id").value.trim();
  if ($("ap-phone").value.trim()) op.phone = $("ap-phone").value.trim();
  if (op.role === "agent" && $("ap-represents").value) op.represents = $("ap-represents").value;
  await act(op, "已追加当事人，请为其打印告知书").then(() => $("add-party").reset()).catch(() => {});
});
async function printNotice(p) {
  try {
    const pdf = await api("POST", `/api/cases/${current}/parties/${p.party_id}/notice`);
    const a = el("a", {href: URL.createObjectURL(pdf), download: `${view.case.case_number}-${p.name}-告知书.pdf`});
    document.body.append(a); a.click(); a.remove();
    toast(`${p.name} 的告知书已生成（原二维码已失效）`, true);
  } catch (e) { toast(`生成失败：${e.chinese}`); }
}
$("assign").addEventListener("submit", async ev => {
  ev.preventDefault();
  await act({kind: "staff.assign", role: $("as-role").value, staff_id: $("as-id").value.trim(), name: $("as-name").value.trim()}, "已指派").catch(() => {});
});
$("close-case").addEventListener("click", () => act({kind: "case.close"}, "已结案").catch(() => {}));

function renderThreads() {
  const threads = {};
  for (const m of view.messages) (threads[m.thread] = threads[m.thread] || []).push(m);
  const unread = view.messages.filter(m => !m.from_court && !Object.keys(m.read).some(k => k.startsWith("staff:")));
  $("case-unread").hidden = !unread.length; $("case-unread").textContent = unread.length;
  const answering = ["judge", "clerk", "mediator"].includes(me.role);
  $("threads").replaceChildren(...Object.entries(threads).map(([thread, msgs]) => {
    const box = el("div", {class: "thread", "data-thread": thread}, el("h3", {}, `与 ${party(thread).name} 的沟通`),
      ...msgs.map(m => el("div", {class: "msg" + (m.from_court ? " court" : ""), "data-message": m.id},
        el("div", {class: "muted"}, `${m.author.name} · ${when(m.ts_ms)}` +
          (m.from_court ? (Object.keys(m.read).some(k => !k.startsWith("staff:")) ? " · 当事人已读" : " · 当事人未读")
                        : (Object.keys(m.read).some(k => k.startsWith("staff:")) ? " · 已读" : " · 未读"))),
        el("div", {}, m.text),
        ...m.attachments.map(a => el("a", {href: fileUrl(current, a.sha256), target: "_blank"}, `附件：${a.name}`)),
        m.rating ? el("div", {class: "muted"}, `当事人评价：${RATINGS[m.rating.rating]}${m.rating.reason ? "（" + m.rating.reason + "）" : ""}`) : null)));
    if (answering && !view.closed) {
      const text = el("textarea", {maxlength: 2000, placeholder: "答复当事人", "data-draft": `reply-${thread}`});
      box.append(el("form", {class: "reply", onsubmit: async ev => {
        ev.preventDefault();
        const last = msgs.filter(m => !m.from_court).pop();
        const body = text.value.trim();
        if (!body) return;
        text.value = "";  // sent: not a draft to keep
        await act({kind: "message.post", thread, text: body, ...(last ? {reply_to: last.id} : {})}, "已答复").catch(() => {
          const again = document.querySelector(`[data-draft="reply-${thread}"]`);
          if (again) again.value = body;
        });
      }}, text, el("button", {class: "primary", type: "submit"}, "答复")));
    }
    return box;
  }));
  // One op per conversation reads up to its latest message from the party.
  if (answering && !reading) {
    const last = {};
    for (const m of unread) last[m.thread] = m.id;
    const ids = Object.values(last);
    if (ids.length) {
      reading = true;
      Promise.allSettled(ids.map(id => api("POST", `/api/cases/${current}/ops`, {op_id: opId(), op: {kind: "message.read", message_id: id}})))
        .then(() => { reading = false; return loadCase(); }).catch(() => {});
    }
  }
}

function renderExhibits() {
  const ex = view.exchange;
  $("ex-state").textContent = ex ? `已开启${ex.deadline_ms ? "，截止 " + when(ex.deadline_ms) : "（无截止时间）"}` : "未开启";
  $("exchange").hidden = me.role !== "judge";
  const sides = view.parties.filter(p => p.role !== "agent");
  $("exhibit-table").replaceChildren(
    el("tr", {}, ...["编号", "证据名称", "提交人", "来源", "证明目的", "页数", ...sides.map(s => `${s.name} 质证意见`)].map(h => el("th", {}, h))),
    ...view.exhibits.map(e => el("tr", {"data-evidence": e.id}, el("td", {}, el("a", {href: fileUrl(current, e.file.sha256), target: "_blank"}, e.id)),
      el("td", {}, e.title), el("td", {}, e.filer.name), el("td", {}, e.source), el("td", {}, e.purpose), el("td", {}, String(e.pages)),
      ...sides.map(s => {
        if (s.party_id === e.side) return el("td", {class: "muted"}, "（提交方）");
        const o = e.opinions.find(o => o.side === s.party_id);
        return el("td", {}, o ? Object.entries(ASPECTS).map(([k, l]) => `${l}：${o.aspects[k].agree ? "认可" : "不认可，" + o.aspects[k].reason}`).join("；") : "未发表");
      }))));
}
$("exchange").addEventListener("submit", async ev => {
  ev.preventDefault();
  const v = $("ex-deadline").value;
  await act({kind: "exchange.open", ...(v ? {deadline_ms: new Date(v).getTime()} : {})}, "证据交换已开启").catch(() => {});
});

function renderService() {
  $("serve").hidden = !["judge", "clerk"].includes(me.role);
  $("sv-party").replaceChildren(...view.parties.filter(p => p.role !== "agent").map(p => el("option", {value: p.party_id}, p.name)));
  if (!$("sv-kind").options.length) $("sv-kind").append(...Object.entries(DOC_KINDS).map(([k, l]) => el("option", {value: k}, l)));
  $("service-table").replaceChildren(
    el("tr", {}, ...["受送达人", "文书", "发出", "到达（确认地址）", "首次打开", "已阅知", "送达完成", "凭证"].map(h => el("th", {}, h))),
    ...view.served.map(d => el("tr", {"data-document": d.id}, el("td", {}, party(d.party_id).name), el("td", {}, `${d.title}（${DOC_KINDS[d.doc_kind]}）`),
      el("td", {}, when(d.sent_ms)), el("td", {}, when(d.delivered_ms) || "未确认地址"),
      el("td", {class: d.opened_ms ? "" : "late"}, when(d.opened_ms) || "未打开"), el("td", {}, when(d.acknowledged_ms) || "—"),
      el("td", {}, when(d.completed_ms) || "未完成"),
      el("td", {}, el("a", {href: `/api/cases/${current}/documents/${d.id}/proof`}, "送达凭证")))));
}
$("serve").addEventListener("submit", async ev => {
  ev.preventDefault();
  const file = $("sv-file").files[0];
  const q = new URLSearchParams({party_id: $("sv-party").value, title: $("sv-title").value.trim(), doc_kind: $("sv-kind").value, name: file.name});
  try { await api("POST", `/api/cases/${current}/documents?${q}`, file); toast("已送达", true); $("serve").reset(); await loadCase(); }
  catch (e) { toast(`送达失败：${e.chinese}（${e.message}）`); }
});

function renderMediation() {
  const m = view.mediation, box = $("mediation");
  const mediating = ["mediator", "judge"].includes(me.role);
  if (!m) {
    box.replaceChildren(el("p", {class: "muted"}, "本案尚未开始在线调解。"),
      mediating && !view.closed ? el("button", {class: "primary", type: "button", onclick: () => act({kind: "mediation.open"}, "调解已开始").catch(() => {})}, "开始调解") : null);
    return;
  }
  const left = m.deadline_ms - Date.now();
  const signed = m.signatures.map(s => s.participant.participant_id);
  const text = el("textarea", {id: "agreement-draft", maxlength: 20000, disabled: !!m.hash || !mediating,
                               "data-draft": "agreement", "data-server": m.text}, m.text);
  box.replaceChildren(el("section", {class: "card"},
    el("div", {class: left < 0 ? "late" : ""}, `调解期限：${when(m.deadline_ms)}（${left < 0 ? "已超期" : "剩余 " + Math.ceil(left / 86400000) + " 天"}）`),
    el("h3", {}, "调解协议"), text,
    el("div", {class: "row"},
      mediating && !m.hash ? el("button", {type: "button", onclick: () => act({kind: "agreement.draft", text: text.value, base_rev: m.rev}, "草稿已保存").catch(() => {})}, "保存草稿") : null,
      mediating && !m.hash && m.rev ? el("button", {class: "primary", type: "button", onclick: () => act({kind: "agreement.freeze", base_rev: m.rev}, "已发起签署").catch(() => {})}, "发起签署") : null,
      m.hash ? el("a", {class: "button", href: `/api/cases/${current}/agreement`}, "下载调解协议") : null),
    el("div", {class: "muted"}, m.hash ? `协议哈希 ${m.hash.slice(0, 16)}… · 签名：` +
      m.signers.map(s => `${s.name}${signed.includes(s.party_id) ? "已签" : "未签"}`).join("、") : `草稿第 ${m.rev} 版`),
    m.effective_ms ? el("div", {class: "ok"}, `协议已于 ${when(m.effective_ms)} 生效`) : null,
    mediating && !m.closed ? el("div", {class: "row"}, el("button", {type: "button", id: "session-open", onclick: openSession}, "发起视频调解"),
      sessionLinks[current] ? el("a", {class: "button", href: sessionLinks[current], target: "_blank", "data-join": "mediator"}, "进入视频调解") : null) : null,
    m.sessions.length ? el("div", {class: "muted"}, `视频调解 ${m.sessions.length} 次：` + m.sessions.map(h => when(h.start_ms)).join("、")) : null,
    m.closed ? el("div", {}, `调解已结束：${{agreed: "达成协议", failed: "调解不成", withdrawn: "撤回"}[m.closed.outcome]}`) :
      mediating ? el("div", {class: "row"}, ...[["agreed", "达成协议"], ["failed", "调解不成"], ["withdrawn", "撤回调解"]].map(([k, l]) =>
        el("button", {type: "button", onclick: () => act({kind: "mediation.close", outcome: k}, "调解已结束").catch(() => {})}, l))) : null));
}

// A video session of the mediation: the mediator's own link opens it (in
// another tab); the parties enter from their phones.
async function openSession() {
  try {
    const made = await api("POST", `/api/cases/${current}/mediation/sessions`, {});
    sessionLinks[current] = made.invites.find(i => i.role === "mediator").join_url;
    toast("视频调解已发起，当事人可在手机上进入", true);
    await loadCase();
  } catch (e) { toast(`发起失败：${e.chinese}`); }
}

// Each hearing's 庭审录像, composed by the hub after 闭庭: how far it is,
// then a link (the case's judge and clerk).
const videoState = {};  // hearing id -> {text, href?, busy?}
const videoPolls = new Set();
async function pollVideo(caseId, hid) {
  if (videoPolls.has(hid)) return;
  videoPolls.add(hid);
  const url = `/api/cases/${caseId}/hearings/${hid}/video`;
  try {
    for (;;) {
      const r = await fetch(url, {credentials: "same-origin", headers: {Range: "bytes=0-0"}});
      if (r.status === 200 || r.status === 206) { videoState[hid] = {text: "", href: url}; break; }
      const body = await r.json().catch(() => ({}));
      if (r.status !== 202) {
        videoState[hid] = {text: r.status === 409 ? "闭庭后自动生成" : (body.error && body.error.message) || `失败（${r.status}）`};
        break;
      }
      videoState[hid] = {text: `生成中 ${Math.round((body.fraction || 0) * 100)}%`, busy: true};
      showVideo(hid);
      await new Promise(done => setTimeout(done, 3000));
    }
  } catch (e) {
    videoState[hid] = {text: "连接中断"};
  } finally {
    videoPolls.delete(hid);
  }
  showVideo(hid);
}
function videoParts(hid) {
  const s = videoState[hid];
  if (s && s.href) return [el("a", {class: "button", href: s.href, target: "_blank", "data-video-link": hid}, "打开录像")];
  return [s ? el("span", {class: "muted", "data-video-state": hid}, s.text) : null,
          s && s.busy ? null : el("button", {type: "button", "data-video-check": hid, onclick: () => pollVideo(current, hid)},
                                  s ? "刷新" : "查看")];
}
function showVideo(hid) {
  const box = document.querySelector(`[data-video="${hid}"]`);
  if (box) box.replaceChildren(...videoParts(hid));
}

function renderHearings() {
  $("schedule").hidden = !["judge", "clerk", "admin"].includes(me.role);
  const drafting = ["judge", "clerk"].includes(me.role);
  $("hearing-list").replaceChildren(...view.hearings.map((h, n) => el("li", {class: "card", "data-hearing": h.hearing_id},
    el("div", {}, `第 ${n + 1} 次庭审 · ${h.start_ms ? when(h.start_ms) : "时间待定"}`),
    drafting ? el("div", {class: "row"}, el("span", {class: "muted"}, "庭审录像："),
      el("span", {"data-video": h.hearing_id}, ...videoParts(h.hearing_id))) : null,
    drafting ? el("div", {class: "row"}, el("span", {class: "muted"}, "笔录锁定后可生成："),
      ...[["cover", "庭审笔录封面"], ["catalogue", "证据目录"], ["judgment", "判决书草稿"]].map(([k, l]) =>
        el("a", {class: "button", href: `/api/cases/${current}/hearings/${h.hearing_id}/drafts/${k}`}, l))) : null)));
}
$("schedule").addEventListener("submit", async ev => {
  ev.preventDefault();
  const v = $("hs-start").value;
  try {
    const made = await api("POST", `/api/cases/${current}/hearings`, v ? {start_ms: new Date(v).getTime()} : {});
    // Each person's link, shown once: opened here, or copied to be sent.
    $("invites").replaceChildren(el("section", {class: "card"}, el("h3", {}, "庭审入口（仅显示一次，请妥善发送；当事人也可在手机上进入）"),
      ...made.invites.map(i => el("div", {class: "row"}, `${ROLE_NAMES[i.role] || i.role} ${i.name}：`,
        el("a", {class: "button", href: i.join_url, target: "_blank", "data-join": i.role}, "打开"),
        el("button", {type: "button", onclick: () => navigator.clipboard.writeText(i.join_url).then(
          () => toast("链接已复制", true), () => toast("无法复制，请手动打开后复制地址"))}, "复制链接")))));
    toast("已排期", true);
    await loadCase();
  } catch (e) { toast(`排期失败：${e.chinese}`); }
});

for (const tab of document.querySelectorAll("[data-tab]")) {
  tab.addEventListener("click", () => {
    for (const t of document.querySelectorAll("[data-tab]")) t.setAttribute("aria-selected", String(t === tab));
    for (const p of document.querySelectorAll("[data-pane]")) p.hidden = p.dataset.pane !== tab.dataset.tab;
  });
}
start();
