// Agent console: plain JavaScript over /agent/api. Every text comes from DATA.strings and
// DATA.labels (the same catalogs as the rest of the assistant), in the agent's language.
"use strict";
const S = DATA.strings, L = DATA.labels;
const SLA_WARNING_SHARE = 0.25;  // amber once a quarter of the target is left (bot/handoff/tickets.py)
let view = "unassigned", current = null, tickets = [], me = null, teams = [];
const shown = {};  // ticket id -> what the agent chose to reveal (kept across live refreshes)
const $ = id => document.getElementById(id);
function el(tag, cls, text) { const e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; }
function fmt(template, values) { return template.replace(/\{(\w+)\}/g, (_, k) => values[k] !== undefined ? values[k] : ""); }
function label(kind, key) { return (L[kind] && L[kind][key]) || key || "—"; }
async function api(path, method = "GET", body) {
  const r = await fetch("/agent/api" + path, {method, headers: {"Content-Type": "application/json"}, body: body ? JSON.stringify(body) : undefined});
  if (r.status === 401) { location.href = "/agent/login"; return null; }
  const data = await r.json().catch(() => ({}));
  if (!r.ok) { alert(data.error || r.status); return null; }
  return data;
}

// ---------- clocks: waiting time and the first-response target, ticking every second ----------
function clock(seconds) {
  const h = Math.floor(seconds / 3600), m = Math.floor(seconds % 3600 / 60), s = seconds % 60;
  return (h ? h + ":" + String(m).padStart(2, "0") : m) + ":" + String(s).padStart(2, "0");
}
function waitClass(seconds) { return seconds >= 300 ? "wait alert" : seconds >= 120 ? "wait warn" : "wait"; }
function slaNow(due, created) {
  const left = Math.floor((new Date(due) - Date.now()) / 1000);
  const target = Math.max((new Date(due) - new Date(created)) / 1000, 1);
  return {state: left < 0 ? "breached" : left <= target * SLA_WARNING_SHARE ? "warning" : "ok", left};
}
function paintSla(node) {
  const {state, left} = slaNow(node.dataset.due, node.dataset.created);
  node.className = "sla " + state; node.dataset.state = state;
  node.textContent = left < 0 ? fmt(S.sla_overdue, {time: clock(-left)}) : fmt(S.sla_due_in, {time: clock(left)});
}
function slaNode(t) {
  if (!t.sla || t.sla.state === "closed") return null;
  if (t.sla.seconds_left === null) {  // answered: was it in time?
    const node = el("span", "sla " + t.sla.state, S["sla_" + t.sla.state]); node.dataset.state = t.sla.state; return node;
  }
  const node = el("span", "sla"); node.dataset.due = t.sla.due_at; node.dataset.created = t.created_at; paintSla(node);
  return node;
}
function paintWait(node) {
  const s = Math.floor((Date.now() - new Date(node.dataset.created)) / 1000);
  node.className = waitClass(s); node.textContent = S.waiting + " " + clock(s);
}
setInterval(() => {
  document.querySelectorAll(".wait[data-created]").forEach(paintWait);
  document.querySelectorAll(".sla[data-due]").forEach(paintSla);
}, 1000);

// ---------- badges ----------
function customerName(t) { return t.display_name || t.user_id; }
function categoryBadge(t) { return el("span", "badge category", label("category", t.category)); }
function priorityBadge(t) { return el("span", "badge priority prio-" + t.priority, label("priority", t.priority)); }
function csatNode(csat) {
  if (!csat) return null;
  const node = el("span", "csat"); node.title = S.csat_label;
  if (csat.score) {
    node.appendChild(el("span", "stars", "★".repeat(csat.score) + "☆".repeat(5 - csat.score)));
    node.appendChild(el("span", "comment", csat.comment || S.csat_no_comment));
  } else if (csat.state === "asked" || csat.state === "expired") {
    node.textContent = S["csat_" + csat.state];
  } else return null;
  return node;
}
function orderNode(order) {
  if (!order) return null;
  const mark = order.verified ? S.order_verified : S.order_unverified;
  return el("span", "badge order " + (order.verified ? "verified" : "unverified"), S.order_label + ": " + order.number + " · " + mark);
}
function clocksNode(t) {
  const box = el("div", "clocks");
  if (t.times.waiting !== null) { const w = el("span", "wait"); w.dataset.created = t.created_at; paintWait(w); box.appendChild(w); }
  const sla = slaNode(t); if (sla) box.appendChild(sla);
  return box;
}

// ---------- the queue ----------
function ticketRow(t) {
  const row = el("div", "ticket" + (current && current.id === t.id ? " selected" : "")); row.dataset.id = t.id;
  row.appendChild(el("strong", "", customerName(t)));
  row.appendChild(el("span", "badge", t.language === "zh" ? "中文" : "EN"));
  row.appendChild(categoryBadge(t)); row.appendChild(priorityBadge(t));
  const meta = [S["reason_" + t.reason] || t.reason, t.platform, t.team ? t.team.name : S.no_team];
  if (t.assignee) meta.push(t.assignee);
  row.appendChild(el("div", "meta", meta.join(" · ")));
  row.appendChild(clocksNode(t));
  const csat = t.status === "resolved" && csatNode(t.csat); if (csat) row.appendChild(csat);
  const labels = rowLabels(t); if (labels) row.appendChild(labels);
  row.onclick = () => openTicket(t.id);
  return row;
}
function renderTickets() {
  const box = $("tickets"); box.innerHTML = "";
  if (!tickets.length) { box.appendChild(el("p", "empty", S.no_tickets)); return; }
  tickets.forEach(t => box.appendChild(ticketRow(t)));
}
async function loadTickets() { const data = await api("/tickets?view=" + view + labelQuery()); if (data) { tickets = data; renderTickets(); } }

// ---------- one ticket ----------
function eventText(text, message) {  // "kind:detail"; label events also say which agent
  const [kind, rest] = text.split(/:(.*)/s);
  const detail = kind === "category" || kind === "priority" ? label(kind, rest) : rest || "";
  return fmt(S["event_" + kind] || kind, {detail, agent: message.agent || ""});
}
function canAct(t) { return t.status === "open" && (!t.assignee || (me && t.assignee === me.username)); }
function fillSelect(select, options, value) {
  select.innerHTML = "";
  options.forEach(([key, text, disabled]) => { const o = el("option", "", text); o.value = key; o.disabled = !!disabled; select.appendChild(o); });
  select.value = value;
}
function renderRouting(t) {
  fillSelect($("edit-category"), Object.entries(L.category), t.category);
  fillSelect($("edit-priority"), Object.entries(L.priority), t.priority);
  const teamOptions = teams.map(team => [team.key, team.name]);
  if (!t.team) teamOptions.unshift(["", S.no_team, true]);
  fillSelect($("edit-team"), teamOptions, t.team ? t.team.key : "");
  const editable = canAct(t);
  ["edit-category", "edit-priority", "edit-team"].forEach(id => { $(id).disabled = !editable; });
  $("ticket-routing").hidden = false;
}
function renderHead(t) {
  const typed = typedLabel(t);
  const head = $("ticket-head"); head.innerHTML = "";
  head.appendChild(el("strong", "", "#" + t.id + " " + customerName(t)));
  head.appendChild(el("span", "badge", S.status_label + ": " + (t.status === "open" ? S.status_open : S.status_resolved)));
  head.appendChild(categoryBadge(t)); head.appendChild(priorityBadge(t));
  head.appendChild(el("span", "badge team", S.team_label + ": " + (t.team ? t.team.name : S.no_team)));
  head.appendChild(el("span", "badge", S.language_label + ": " + (t.language === "zh" ? "中文" : "English")));
  head.appendChild(el("span", "badge", S.platform_label + ": " + t.platform));
  head.appendChild(el("span", "badge", S.origin_label + ": " + (t.origin.chat_type === "group" ? S.origin_group + (t.origin.group_title ? " · " + t.origin.group_title : "") : S.origin_private)));
  if (t.assignee) head.appendChild(el("span", "badge", S.assignee_label + ": " + t.assignee));
  const order = orderNode(t.order); if (order) head.appendChild(order);
  const sla = slaNode(t); if (sla) head.appendChild(sla);
  if (t.times.first_reply !== null) head.appendChild(el("span", "badge", S.first_reply + ": " + clock(t.times.first_reply)));
  if (t.times.resolution !== null) head.appendChild(el("span", "badge", S.resolution + ": " + clock(t.times.resolution)));
  const csat = csatNode(t.csat);
  if (csat) { const box = el("span", "badge csat-box", S.csat_label + ": "); box.appendChild(csat); head.appendChild(box); }
  head.appendChild(labelBox(t, typed));
}
function renderTranscript(t) {
  const box = $("transcript"); box.innerHTML = "";
  t.messages.forEach(m => {
    const who = {customer: customerName(t), bot: S.author_bot, agent: m.agent || S.author_agent, note: (m.agent || "") + " · " + S.author_note, event: ""}[m.author];
    const node = el("div", "msg " + m.author);
    if (who) node.appendChild(el("span", "who", who + " · " + new Date(m.created_at).toLocaleTimeString()));
    const unmasked = shown[t.id] && shown[t.id].messages.find(x => x.id === m.id);
    const text = unmasked ? unmasked.text : m.text;
    node.appendChild(document.createTextNode(m.author === "event" ? eventText(text, m) : text));
    box.appendChild(node);
  });
  (t.deliveries || []).filter(d => d.status !== "delivered").forEach(d => {
    const note = el("div", "msg delivery " + d.status, (d.status === "failed" ? S.delivery_failed : S.delivery_pending)
      .replace("{error}", d.error || "—") + " · " + (d.text || ""));
    note.dataset.delivery = d.status; box.appendChild(note);
  });
  box.scrollTop = box.scrollHeight;
}
function renderTicket(t) {
  renderHead(t); renderRouting(t); renderTranscript(t);
  const open = t.status === "open";
  $("ticket-actions").hidden = false; $("reply-form").hidden = !open; $("note-form").hidden = false;
  $("assign").hidden = !open || !!t.assignee; $("unassign").hidden = !open || !t.assignee;
  $("resolve").hidden = !open; $("reopen").hidden = open; $("transfer").hidden = $("transfer-to").hidden = !open;
  $("in-group-label").hidden = t.origin.chat_type !== "group";
  const canned = $("canned"); canned.length = 1;
  t.canned_replies.forEach(c => { const o = el("option", "", c.title); o.value = c.text; canned.appendChild(o); });
  renderProfile(t);
}
function renderProfile(t) {
  const typed = typedTag(t);
  const box = $("profile"); box.innerHTML = "";
  const p = t.profile;
  if (!p) { box.appendChild(el("p", "empty", S.not_linked)); }
  else {
    box.appendChild(el("h3", "", S.member));
    const dl = el("dl"), seen = shown[t.id];
    [[S.member_name, p.name], [S.member_code, seen ? seen.code : p.code], [S.member_tier, p.tier], [S.points, p.points.toLocaleString()],
     [S.points_expiring, p.points_expiring.toLocaleString()], [S.phone, "…" + (seen ? seen.phone_last4 : p.phone_last4)], [S.joined, p.joined]]
      .forEach(([k, v]) => { dl.appendChild(el("dt", "", k)); dl.appendChild(el("dd", "", v)); });
    dl.appendChild(el("dt", "", S.tags));
    const tags = el("dd"); tags.appendChild(tagChips(t)); tags.appendChild(tagForm(t, typed)); dl.appendChild(tags);
    box.appendChild(dl);
    if (!seen) {
      const reveal = el("button", "", S.reveal); reveal.id = "reveal"; reveal.title = S.reveal_hint;
      reveal.onclick = async () => { const data = await api("/tickets/" + t.id + "/reveal", "POST");
        if (data) { shown[t.id] = data; renderTicket(current); } };
      box.appendChild(reveal);
    } else { box.appendChild(el("p", "empty", S.revealed_note)); }
    box.appendChild(el("h3", "", S.recent_orders));
    if (!p.recent_orders.length) box.appendChild(el("p", "empty", "—"));
    p.recent_orders.forEach(o => box.appendChild(el("div", "", o.number + " · " + o.status + " · " + o.total + " · " + o.placed)));
    box.appendChild(redemptionsSection(t));
  }
  box.appendChild(el("h3", "", S.previous_tickets));
  if (!t.previous_tickets.length) box.appendChild(el("p", "empty", "—"));
  t.previous_tickets.forEach(pt => {
    const line = el("div", "", "#" + pt.id + " · " + (S["reason_" + pt.reason] || pt.reason) + " · " + (pt.status === "open" ? S.status_open : S.status_resolved));
    const csat = csatNode(pt.csat); if (csat) line.appendChild(csat);
    box.appendChild(line);
  });
}

// ---------- the member's tags: chips with ×, and a field to add one ----------
const TAG_RULE = DATA.tag_rule, TAG_PATTERN = new RegExp("^(?:" + TAG_RULE.pattern + ")$");
let tagDraft = null;  // what the agent is typing into the tag field, kept across live redraws
function normaliseTag(raw) { return raw.normalize("NFKC").trim().replace(/[A-Z]/g, c => c.toLowerCase()); }
function tagRefusal(tag, tags) {  // the server's rules (bot/loyalty/tags.py), said in the agent's language
  if (!tag || [...tag].length > TAG_RULE.max_length || !TAG_PATTERN.test(tag)) return fmt(S.tag_invalid, {tag, length: TAG_RULE.max_length});
  if (!tags.includes(tag) && tags.length >= TAG_RULE.max_tags) return fmt(S.tag_limit, {count: TAG_RULE.max_tags});
  return null;
}
function typedTag(t) {
  const input = $("tag-input");
  if (input) tagDraft = {ticket: Number(input.dataset.ticket), value: input.value, focused: document.activeElement === input};
  return tagDraft && tagDraft.ticket === t.id ? tagDraft : null;
}
function tagChips(t) {
  const box = el("div", "tags"); box.id = "member-tags";
  const tags = t.profile.tags || [];
  if (!tags.length) box.appendChild(el("span", "no-tags", S.no_tags));
  tags.forEach(tag => {
    const chip = el("span", "chip"); chip.dataset.tag = tag; chip.appendChild(el("span", "", tag));
    const remove = el("button", "chip-remove", "×"); remove.type = "button";
    remove.title = fmt(S.tag_remove, {tag}); remove.setAttribute("aria-label", remove.title);
    remove.onclick = () => changeTag(t, "DELETE", tag);
    chip.appendChild(remove); box.appendChild(chip);
  });
  return box;
}
function tagForm(t, typed) {
  const form = el("form", "tag-form"); form.id = "tag-form";
  const input = el("input"); input.id = "tag-input"; input.dataset.ticket = t.id; input.maxLength = TAG_RULE.max_length;
  input.placeholder = S.tag_placeholder; input.title = fmt(S.tag_hint, {length: TAG_RULE.max_length});
  const add = el("button", "", S.tag_add); add.type = "submit"; add.id = "add-tag";
  form.appendChild(input); form.appendChild(add);
  form.onsubmit = async e => {
    e.preventDefault();
    const tag = normaliseTag(input.value); if (!tag) return;
    const refusal = tagRefusal(tag, t.profile.tags || []);
    if (refusal) { alert(refusal); return; }
    if (await changeTag(t, "POST", tag)) { tagDraft = null; $("tag-input").value = ""; $("tag-input").focus(); }
  };
  if (typed) { input.value = typed.value; if (typed.focused) setTimeout(() => input.focus()); }
  return form;
}
async function changeTag(t, method, tag) {
  const path = "/tickets/" + t.id + "/tags" + (method === "DELETE" ? "/" + encodeURIComponent(tag) : "");
  const data = await api(path, method, method === "POST" ? {tag} : undefined);
  if (data && current && current.id === t.id) { current.profile.tags = data.tags; renderProfile(current); }
  return data;
}
async function openTicket(id) { const t = await api("/tickets/" + id + "?lang=" + DATA.lang); if (t) { current = t; renderTicket(t); renderTickets(); } }
async function act(path, body) { if (!current) return; if (await api("/tickets/" + current.id + path, "POST", body)) { await openTicket(current.id); await loadTickets(); } }
async function reroute(field, value) {
  if (!current || !value) return;
  if (await api("/tickets/" + current.id, "PATCH", {[field]: value})) { await openTicket(current.id); await loadTickets(); }
  else renderRouting(current);  // refused: show what the ticket still has
}
$("edit-category").onchange = e => reroute("category", e.target.value);
$("edit-priority").onchange = e => reroute("priority", e.target.value);
$("edit-team").onchange = e => reroute("team", e.target.value);
$("assign").onclick = () => act("/assign"); $("unassign").onclick = () => act("/unassign");
$("resolve").onclick = () => act("/resolve"); $("reopen").onclick = () => act("/reopen");
$("transfer").onclick = () => act("/transfer", {username: $("transfer-to").value});
$("canned").onchange = e => { if (e.target.value) $("reply-text").value = e.target.value; e.target.selectedIndex = 0; };
$("reply-form").onsubmit = async e => { e.preventDefault(); const text = $("reply-text").value.trim(); if (!text) return;
  $("reply-text").value = ""; await act("/reply", {text, in_group: $("in-group").checked}); };
$("note-form").onsubmit = async e => { e.preventDefault(); const text = $("note-text").value.trim(); if (!text) return;
  $("note-text").value = ""; await act("/notes", {text}); };

// ---------- the agent: availability, teams, colleagues ----------
function showMe(data) {
  me = data; const select = $("availability");
  select.value = me.availability; select.className = me.availability;
}
async function loadMe() { const data = await api("/me"); if (data) showMe(data); }
async function setAvailability(availability) {
  const data = await api("/me", "PUT", {availability});
  if (!data) { showMe(me); return; }
  showMe(data);
  if (availability === "online" && "Notification" in window && Notification.permission === "default") Notification.requestPermission();
  loadTickets();
}
async function loadTeams() { teams = (await api("/teams")) || []; if (current) renderRouting(current); }
async function loadColleagues() {
  const list = await api("/agents"); if (!list) return;
  const select = $("transfer-to"), chosen = select.value; select.innerHTML = "";
  list.forEach(a => { const o = el("option", "", a.display_name + " · " + label("availability", a.availability) + " · " + fmt(S.open_count, {count: a.open_tickets}));
    o.value = a.username; select.appendChild(o); });
  if (chosen) select.value = chosen;
}
fillSelect($("availability"), Object.entries(L.availability), "offline");
$("availability").onchange = e => setAvailability(e.target.value);
$("transfer-to").onfocus = loadColleagues;
$("language").value = DATA.lang;
$("language").onchange = async e => { await api("/me", "PUT", {language: e.target.value}); location.search = ""; location.reload(); };
$("logout").onclick = async () => { await api("/logout", "POST"); location.href = "/agent/login"; };

// ---------- first-response alarms ----------
function servesTeam(teamId) { const mine = (me && me.teams) || []; return !mine.length || mine.some(team => team.id === teamId); }
function toast(text, ticketId) {
  const box = $("toasts"), node = el("div", "toast"); node.dataset.ticket = ticketId;
  node.appendChild(el("span", "", text));
  const close = el("button", "", S.dismiss); close.type = "button";
  close.onclick = e => { e.stopPropagation(); node.remove(); };
  node.appendChild(close); node.onclick = () => { openTicket(ticketId); node.remove(); };
  box.prepend(node);
  while (box.children.length > 5) box.lastChild.remove();
}
function alarmBreach(notice) {
  if (!me || me.availability !== "online" || !servesTeam(notice.team_id)) return;
  const text = fmt(S.sla_breach_toast, {id: notice.ticket_id, priority: label("priority", notice.priority)});
  toast(text, notice.ticket_id);
  if ("Notification" in window && Notification.permission === "granted") new Notification(S.sla_breach_title, {body: text, tag: "sla-" + notice.ticket_id});
}

// ---------- live updates: a burst of notices is one refresh ----------
let refreshTimer = null;
function refreshSoon() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => { loadTickets(); loadLabels(); if (current) openTicket(current.id); }, 100);
}
const events = new EventSource("/agent/api/events");
events.onmessage = e => {
  const notice = JSON.parse(e.data || "{}");
  if (notice.type === "session_ended") { events.close(); location.href = "/agent/login"; return; }
  if (notice.type === "sla_breach") alarmBreach(notice);
  refreshSoon();
};
document.querySelectorAll("#tabs button").forEach(b => b.onclick = () => { view = b.dataset.view;
  document.querySelectorAll("#tabs button").forEach(x => x.classList.toggle("active", x === b)); loadTickets(); });
document.querySelector('#tabs button[data-view="unassigned"]').classList.add("active");
loadMe(); loadTeams(); loadColleagues(); loadTickets(); initLabels();
