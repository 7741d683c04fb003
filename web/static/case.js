// The case space on a party's phone (一案一空间): entry by the QR code's
// link and an identity check, then the conversation with the court,
// evidence and 质证, documents served, mediation and hearings. Everything
// shown comes from the hub, cut to what this party may see; every action
// is an op the hub judges and logs.
"use strict";
const caseId = document.querySelector('meta[name=case]').content;
const $ = id => document.getElementById(id);
let link = null, view = null, seq = 0, pending = null, pad = null, reading = false;
// Set once the socket says the court signed this device out.
let signedOut = false;

async function start() {
  if (location.hash.startsWith("#k=")) {
    link = decodeURIComponent(location.hash.slice(3));
    history.replaceState(null, "", location.pathname);  // the link leaves the address bar
  }
  try { await load(); }
  catch (e) {
    if (e.status === 401 && link) return askIdentity("entry", load);
    if (e.status === 401) { $("need-link").hidden = false; return; }
    toast(`无法打开案件空间：${e.chinese || e}`);
    return;
  }
  poll();
}

function askIdentity(purpose, then) {
  pending = {purpose, then};
  $("identity-title").textContent = `身份核验：${PURPOSES[purpose]}`;
  $("identity-why").textContent = purpose === "entry"
    ? "首次进入需核验身份：请填写与法院案件记录一致的姓名和身份证号码。"
    : `进行${PURPOSES[purpose]}前需再次核验身份（《人民法院在线诉讼规则》第七条）。`;
  $("identity-cancel").hidden = purpose === "entry";
  $("identity").hidden = false;
  $("id-name").focus();
}

$("identity").addEventListener("submit", async ev => {
  ev.preventDefault();
  const name = $("id-name").value.trim(), id_number = $("id-number").value.trim();
  try {
    if (pending.purpose === "entry" && !view) {
      await api("POST", `/api/cases/${caseId}/enter`, {link, name, id_number});
    } else {
      await act({kind: "identity.check", purpose: pending.purpose, name, id_number}, false);
    }
  } catch (e) {
    toast(e.status === 403 ? "姓名或身份证号码与案件记录不符" : e.status === 404 ? "二维码已失效，请联系法院重新发放"
          : e.status === 429 ? "核验失败次数过多，请稍后再试" : `核验失败：${e.chinese || e}`);
    return;
  }
  $("identity").hidden = true; $("id-number").value = "";
  const then = pending.then; pending = null;
  toast("身份核验通过", true);
  await then();
  if (!following) poll();
});
$("identity-cancel").addEventListener("click", () => { $("identity").hidden = true; pending = null; });

// One op of this party's; a refusal for a missing identity check asks for
// it and then sends the op again.
async function act(op, retry = true) {
  try {
    const answer = await api("POST", `/api/cases/${caseId}/ops`, {op_id: opId(), op});
    await load();
    return answer;
  } catch (e) {
    if (retry && e.status === 403 && e.error.needs) {
      return new Promise(resolve => askIdentity(e.error.needs, async () => resolve(await act(op, false))));
    }
    throw e;
  }
}

async function load() {
  const got = await api("GET", `/api/cases/${caseId}`);
  // Signed out (the socket said so): an answer the hub gave just before,
  // arriving after, must not put the space back over the notice.
  if (signedOut) return;
  if (view && got.seq < seq) return;  // answers can cross: an older one never replaces a newer view
  view = got;
  seq = view.seq;
  render();
}

// Live: the case's websocket; every event the hub sends this party redraws
// the space from the hub's view of it.
let following = null;
function poll() {
  following = followCase(caseId, seq, () => load().catch(() => {}), () => {
    signedOut = true;
    $("space").hidden = true; $("need-link").hidden = false; following = null;
  });
}

const me = () => view.me.party;
const readByCourt = m => Object.entries(m.read).filter(([k]) => k.startsWith("staff:")).map(([, t]) => t)[0];

function render() { keepDrafts($("space"), draw); }
function draw() {
  const c = view.case;
  document.title = `${c.case_number} 案件空间`;
  $("title").textContent = c.case_number;
  $("who").textContent = `${me().name}（${ROLE_NAMES[me().role]}）`;
  $("space").hidden = false; $("need-link").hidden = true;
  $("closed-note").hidden = !view.closed;
  $("case-info").replaceChildren(
    el("div", {}, `案由：${c.cause}`), el("div", {}, `法院：${c.court}`),
    el("div", {}, `承办法官：${c.staff.judge ? c.staff.judge.name : "待定"}`));
  renderMessages(); renderEvidence(); renderDocuments(); renderMediation(); renderHearings();
}

function renderMessages() {
  const list = $("messages");
  const unread = [];
  list.replaceChildren(...view.messages.map(m => {
    const li = el("li", {class: "card" + (m.from_court ? " court-msg" : ""), "data-message": m.id},
      el("div", {class: "muted"}, `${m.from_court ? "法院 " : ""}${m.author.name} · ${when(m.ts_ms)}`),
      el("div", {}, m.text),
      ...m.attachments.map(a => el("div", {}, el("a", {href: fileUrl(caseId, a.sha256), target: "_blank"}, `附件：${a.name}`))));
    if (!m.from_court) {
      const t = readByCourt(m);
      li.append(el("div", {class: t ? "ok" : "muted"}, t ? `法院已读 ${when(t)}` : "法院未读"));
    } else {
      if (!m.read[me().party_id]) unread.push(m.id);
      if (m.rating) li.append(el("div", {class: "muted"}, `评价：${RATINGS[m.rating.rating]}${m.rating.reason ? "（" + m.rating.reason + "）" : ""}`));
      else li.append(rateForm(m));
    }
    return li;
  }));
  $("unread").hidden = !unread.length; $("unread").textContent = unread.length;
  // One op reads up to the latest of the court's messages.
  if (unread.length && !reading) {
    reading = true;
    act({kind: "message.read", message_id: unread[unread.length - 1]}).catch(() => {}).finally(() => { reading = false; });
  }
}

function rateForm(m) {
  const reason = el("input", {placeholder: "评价理由（可不填）", maxlength: 500, "data-draft": `rate-${m.id}`});
  const buttons = Object.entries(RATINGS).map(([k, label]) => el("button", {type: "button", onclick: async () => {
    try { await act({kind: "message.rate", message_id: m.id, rating: k, ...(reason.value.trim() ? {reason: reason.value.trim()} : {})}); toast("已评价", true); }
    catch (e) { toast(`评价失败：${e.chinese}`); }
  }}, label));
  return el("div", {class: "rate"}, el("div", {class: "muted"}, "对法官的答复评价："), el("div", {class: "row"}, ...buttons), reason);
}

$("compose").addEventListener("submit", async ev => {
  ev.preventDefault();
  const text = $("compose-text").value.trim(), file = $("compose-file").files[0];
  if (!text && !file) return;
  try {
    if (file) {
      const q = new URLSearchParams({name: file.name, text, op_id: opId()});
      await api("POST", `/api/cases/${caseId}/messages?${q}`, file);
      await load();
    } else {
      await act({kind: "message.post", text});
    }
    $("compose-text").value = ""; $("compose-file").value = "";
    toast("已发送", true);
  } catch (e) { toast(`发送失败：${e.chinese}`); }
});

function renderEvidence() {
  const ex = view.exchange;
  $("exchange-note").textContent = ex ? `证据交换已开启${ex.deadline_ms ? "，质证意见截止：" + when(ex.deadline_ms) : ""}` : "法官尚未开启证据交换（可先提交证据）。";
  $("exhibits").replaceChildren(...view.exhibits.map(e => {
    const li = el("li", {class: "card", "data-evidence": e.id},
      el("div", {}, el("b", {}, `${e.id} ${e.title}`), `（${e.pages} 页）`),
      el("div", {class: "muted"}, `提交人：${e.filer.name} · 来源：${e.source}`),
      el("div", {}, `证明目的：${e.purpose}`),
      el("a", {href: fileUrl(caseId, e.file.sha256), target: "_blank"}, "查看证据"),
      ...e.opinions.map(o => el("div", {class: "muted"}, `${o.by.name} 质证：` + Object.entries(ASPECTS).map(([k, label]) =>
        `${label}${o.aspects[k].agree ? "认可" : "不认可（" + o.aspects[k].reason + "）"}`).join("；"))));
    const mySide = view.me.thread;
    if (e.side !== mySide && ex && !e.opinions.some(o => o.side === mySide) && !view.closed) li.append(opinionForm(e));
    return li;
  }));
  $("file-evidence").hidden = view.closed;
}

function opinionForm(e) {
  const form = el("form", {class: "aspects"}, el("div", {class: "muted"}, "发表质证意见："));
  for (const [k, label] of Object.entries(ASPECTS)) {
    form.append(el("div", {}, `${label}：`,
      el("label", {}, el("input", {type: "radio", name: k, value: "1", checked: true, "data-draft": `${e.id}-${k}-1`}), "认可"),
      el("label", {}, el("input", {type: "radio", name: k, value: "0", "data-draft": `${e.id}-${k}-0`}), "不认可"),
      el("input", {name: k + "-reason", placeholder: "不认可的理由", maxlength: 500, "data-draft": `${e.id}-${k}-reason`})));
  }
  form.append(el("button", {class: "primary", type: "submit"}, "提交质证意见"));
  form.addEventListener("submit", async ev => {
    ev.preventDefault();
    const op = {kind: "evidence.opinion", evidence_id: e.id};
    for (const k of Object.keys(ASPECTS)) {
      const agree = form.querySelector(`input[name=${k}]:checked`).value === "1";
      const reason = form.querySelector(`input[name=${k}-reason]`).value.trim();
      op[k] = agree ? {agree} : {agree, reason};
    }
    try { await act(op); toast("质证意见已提交", true); }
    catch (err) { toast(err.status === 400 ? "不认可须填写理由" : `提交失败：${err.chinese}`); }
  });
  return form;
}

$("file-evidence").addEventListener("submit", async ev => {
  ev.preventDefault();
  const file = $("ev-file").files[0];
  const q = new URLSearchParams({name: file.name, title: $("ev-title").value.trim(), source: $("ev-source").value.trim(),
                                 purpose: $("ev-purpose").value.trim(), pages: $("ev-pages").value});
  const send = async () => { await api("POST", `/api/cases/${caseId}/evidence?${q}`, file); await load(); toast("证据已提交", true);
                             $("file-evidence").reset(); };
  try { await send(); }
  catch (e) {
    if (e.status === 403 && e.error.needs) askIdentity(e.error.needs, () => send().catch(err => toast(`提交失败：${err.chinese}`)));
    else toast(e.status === 400 ? "证据须为照片或 PDF 文件" : `提交失败：${e.chinese}`);
  }
});

function renderDocuments() {
  const party = me().role !== "agent";
  $("consent-card").hidden = !party || me().party_id in view.consents;
  $("served").replaceChildren(...view.served.map(d => el("li", {class: "card", "data-document": d.id},
    el("div", {}, el("b", {}, d.title), `（${DOC_KINDS[d.doc_kind]}）`),
    el("div", {class: "muted"}, `发出：${when(d.sent_ms)}${d.delivered_ms ? " · 送达：" + when(d.delivered_ms) : ""}`),
    el("div", {class: "row"},
      el("a", {class: "button", href: fileUrl(caseId, d.file.sha256), target: "_blank", onclick: () => setTimeout(load, 1500)}, "打开文书"),
      d.acknowledged_ms ? el("span", {class: "ok"}, `已阅知 ${when(d.acknowledged_ms)}`)
        : el("button", {type: "button", onclick: async () => {
            try { await act({kind: "document.acknowledge", document_id: d.id}); toast("已确认阅知", true); }
            catch (e) { toast(`确认失败：${e.chinese}`); } }}, "确认已阅知"),
      el("a", {class: "button", href: `/api/cases/${caseId}/documents/${d.id}/proof`}, "送达凭证")))));
}
$("consent").addEventListener("click", async () => {
  try { await act({kind: "service.consent"}); toast("已确认以本空间为电子送达地址", true); }
  catch (e) { toast(`确认失败：${e.chinese}`); }
});

function renderMediation() {
  const m = view.mediation, box = $("mediation");
  if (!m) { box.replaceChildren(el("p", {class: "muted"}, "本案暂无在线调解。")); return; }
  const signed = m.signatures.map(s => s.participant.participant_id);
  const parts = [el("section", {class: "card"},
    el("div", {class: "muted"}, `调解员：${m.by.name} · 调解期限至 ${when(m.deadline_ms)}`),
    el("h3", {}, "调解协议"), el("div", {id: "agreement-text", class: "pre"}, m.text || "（调解员尚未起草）"),
    el("div", {class: "muted"}, m.hash ? `签署中 · 已签：${m.signers.filter(s => signed.includes(s.party_id)).map(s => s.name).join("、") || "无"}` : "草拟中"),
    m.effective_ms ? el("div", {class: "ok"}, `全体当事人已签名，协议于 ${when(m.effective_ms)} 生效`) : null,
    m.hash ? el("a", {class: "button", href: `/api/cases/${caseId}/agreement`}, "下载调解协议") : null,
    ...(m.closed ? [] : m.sessions.filter(h => me().party_id in h.seats).slice(-1).map(h =>
      el("button", {class: "primary", type: "button", "data-session": h.hearing_id, onclick: () => joinHearing(h.hearing_id)}, "进入视频调解"))))];
  if (m.hash && me().role !== "agent" && !signed.includes(me().party_id) && !m.closed) {
    const canvas = el("canvas", {class: "pad", id: "pad"});
    const sign = el("button", {class: "primary", type: "button", id: "sign"}, "签名确认");
    parts.push(el("section", {class: "card"}, el("div", {}, "请阅读协议全文后在下方签名："), canvas,
      el("div", {class: "row"}, el("button", {type: "button", onclick: () => pad.clear()}, "重写"), sign)));
    box.replaceChildren(...parts);
    pad = signaturePad(canvas);
    sign.addEventListener("click", async () => {
      if (!pad.drawn) { toast("请先签名"); return; }
      try { await act({kind: "agreement.sign", image: pad.png()}); toast("已签名", true); }
      catch (e) { toast(`签名失败：${e.chinese}`); }
    });
    return;
  }
  box.replaceChildren(...parts);
}

function renderHearings() {
  $("hearings").replaceChildren(...(view.hearings.length ? view.hearings.map(h => el("li", {class: "card", "data-hearing": h.hearing_id},
    el("div", {}, `庭审 ${h.start_ms ? "时间：" + when(h.start_ms) : "（时间待定）"}`),
    me().party_id in h.seats && !view.closed ? el("button", {class: "primary", type: "button", onclick: () => joinHearing(h.hearing_id)}, "进入庭审") : null))
    : [el("li", {class: "muted"}, "尚无排期的庭审。")]));
}

// Into the hearing: the hub asks for the identity check first, then gives
// this party's seat a fresh link, which the hearing page takes.
async function joinHearing(hearingId) {
  const go = async () => { const link = await api("POST", `/api/cases/${caseId}/hearings/${hearingId}/join`); location.href = link.join_url; };
  try { await go(); }
  catch (e) {
    if (e.status === 403 && e.error.needs) askIdentity(e.error.needs, () => go().catch(err => toast(`无法进入庭审：${err.chinese}`)));
    else toast(`无法进入庭审：${e.chinese}`);
  }
}

for (const tab of document.querySelectorAll("[data-tab]")) {
  tab.addEventListener("click", () => {
    for (const t of document.querySelectorAll("[data-tab]")) t.setAttribute("aria-selected", String(t === tab));
    for (const p of document.querySelectorAll("[data-pane]")) p.hidden = p.dataset.pane !== tab.dataset.tab;
  });
}
start();
