// Operator console: plain JavaScript over /operator/api. Every text comes from DATA.strings
// (the same catalogs as the rest of the assistant), so the page has no English-only parts.
"use strict";
const S = DATA.strings;
const $ = id => document.getElementById(id);
function el(tag, cls, text) { const e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; }
function button(text, onclick, cls) { const b = el("button", cls, text); b.type = "button"; b.onclick = onclick; return b; }
function fmt(template, values) { return template.replace(/\{(\w+)\}/g, (_, k) => values[k] !== undefined ? values[k] : ""); }
function when(iso) { return iso ? new Date(iso).toLocaleString(DATA.lang === "zh" ? "zh-CN" : "en-GB") : "–"; }

async function api(path, method = "GET", body) {
  const r = await fetch("/operator/api" + path, {method, headers: {"Content-Type": "application/json"}, body: body ? JSON.stringify(body) : undefined});
  if (r.status === 401) { location.href = "/operator/login"; return {ok: false, data: {}}; }
  const data = await r.json().catch(() => ({}));
  return {ok: r.ok, status: r.status, data};
}
function showResult(box, result, okText) {
  box.replaceChildren();
  if (result.ok) {
    box.appendChild(el("div", "ok", okText || S.saved));
    for (const w of result.data.warnings || []) box.appendChild(el("div", "warnings", "⚠ " + w));
  } else {
    const errors = result.data.errors || [result.data.error || String(result.status)];
    box.appendChild(el("div", "errors", (result.status === 409 ? S.conflict + "\n" : "") + errors.join("\n")));
  }
}

// ---------- tabs (teams.js and canned.js add their own loaders) ----------
const loaders = {intents: loadIntents, responses: loadResponses, stories: loadStories, schedules: loadAnnouncements, model: loadModel, audit: loadAudit};
function showTab(name) {
  for (const b of $("tabs").children) b.classList.toggle("active", b.dataset.tab === name);
  for (const key of Object.keys(loaders)) $("tab-" + key).hidden = key !== name;
  history.replaceState(null, "", "#" + name);
  loaders[name]();
}
for (const b of $("tabs").children) b.onclick = () => showTab(b.dataset.tab);

// ---------- intents and examples ----------
let intents = [], currentIntent = null;
async function loadIntents() {
  const r = await api("/intents"); if (!r.ok) return;
  intents = r.data; renderIntentList();
  if (currentIntent) openIntent(currentIntent);
}
function renderIntentList() {
  const filter = $("intent-filter").value.trim().toLowerCase(), list = $("intent-list");
  list.replaceChildren();
  for (const it of intents.filter(i => !filter || i.intent.includes(filter))) {
    const row = el("div", "item" + (it.intent === currentIntent ? " selected" : ""));
    row.dataset.intent = it.intent;
    row.appendChild(el("strong", "", it.intent));
    row.appendChild(el("span", "badge", fmt(S.examples_count, {count: it.count})));
    if (it.misclassified.length) row.appendChild(el("span", "badge bad", fmt(S.wrong_count, {count: it.misclassified.length})));
    row.appendChild(el("div", "meta", it.file));
    row.onclick = () => openIntent(it.intent);
    list.appendChild(row);
  }
}
$("intent-filter").oninput = renderIntentList;
function openIntent(name) {
  const it = intents.find(i => i.intent === name); if (!it) return;
  currentIntent = name; renderIntentList();
  const box = $("intent-detail"); box.replaceChildren();
  box.appendChild(el("h2", "", it.intent));
  box.appendChild(el("div", "meta", it.file + " · " + fmt(S.examples_count, {count: it.count})));
  const rows = el("div"); rows.id = "example-rows";
  const addRow = text => {
    const row = el("div", "row example");
    const input = el("input"); input.type = "text"; input.value = text; input.className = "example-text";
    row.append(input, button(S.delete, () => row.remove(), "danger"));
    rows.appendChild(row);
  };
  it.examples.forEach(addRow);
  const adder = el("div", "row"), fresh = el("input"); fresh.type = "text"; fresh.id = "new-example"; fresh.placeholder = S.new_example;
  const add = () => { if (fresh.value.trim()) { addRow(fresh.value.trim()); fresh.value = ""; fresh.focus(); } };
  fresh.onkeydown = e => { if (e.key === "Enter") add(); };
  adder.append(fresh, button(S.add_example, add));
  const result = el("div"); result.id = "intent-result";
  const save = button(S.save, async () => {
    const examples = [...rows.querySelectorAll(".example-text")].map(i => i.value.trim()).filter(Boolean);
    const r = await api("/intents/" + encodeURIComponent(name), "PUT", {examples, version: it.version});
    showResult(result, r);
    if (r.ok) { const fresh = await api("/intents"); if (fresh.ok) { intents = fresh.data; renderIntentList(); } }
  }, "primary");
  save.id = "save-intent";
  box.append(adder, rows, el("div", "row"), save, result);
  if (it.misclassified.length) {
    box.appendChild(el("h3", "", S.misclassified_title));
    for (const m of it.misclassified) box.appendChild(el("div", "meta", fmt(S.misclassified_line, {text: m.text, predicted: m.predicted, confidence: m.confidence})));
  } else box.appendChild(el("p", "meta", S.misclassified_none));
}

// ---------- responses ----------
let responsesData = null, currentResponse = null;
async function loadResponses() {
  const r = await api("/responses"); if (!r.ok) return;
  responsesData = r.data; renderResponseList();
  if (currentResponse) openResponse(currentResponse);
}
function renderResponseList() {
  const filter = $("response-filter").value.trim().toLowerCase(), list = $("response-list");
  list.replaceChildren();
  for (const resp of responsesData.responses.filter(x => !filter || x.name.includes(filter) || x.variations.some(v => v.text.toLowerCase().includes(filter)))) {
    const row = el("div", "item" + (resp.name === currentResponse ? " selected" : ""));
    row.dataset.response = resp.name;
    row.appendChild(el("strong", "", resp.name));
    const mine = resp.variations.find(v => v.language === DATA.lang) || resp.variations[0];
    if (mine) row.appendChild(el("div", "meta", mine.text.slice(0, 70)));
    row.onclick = () => openResponse(resp.name);
    list.appendChild(row);
  }
}
$("response-filter").oninput = renderResponseList;
$("new-response").onclick = async () => {
  const name = $("new-response-name").value.trim(); if (!name) return;
  if (!responsesData) await loadResponses();
  openResponse(name, true);
};
function variationEditor(v) {
  const box = el("div", "variation");
  const head = el("div", "row"), lang = el("select", "variation-language");
  for (const code of DATA.languages) { const o = el("option", "", code === "zh" ? "中文" : "English"); o.value = code; lang.appendChild(o); }
  lang.value = v.language || DATA.lang;
  head.append(el("span", "meta", S.variation_language), lang, button(S.remove_variation, () => box.remove(), "danger"));
  const text = el("textarea", "variation-text"); text.value = v.text || ""; text.rows = 3; text.style.width = "100%";
  const buttons = el("div", "buttons");
  const addButton = b => {
    const row = el("div", "row button-row"), title = el("input"), payload = el("input");
    title.type = payload.type = "text"; title.className = "button-title"; payload.className = "button-payload";
    title.placeholder = S.button_title; payload.placeholder = S.button_payload; title.value = b.title || ""; payload.value = b.payload || "";
    row.append(title, payload, button(S.delete, () => row.remove(), "danger")); buttons.appendChild(row);
  };
  (v.buttons || []).forEach(addButton);
  box.append(head, text, buttons, button(S.add_button, () => addButton({})));
  return box;
}
function openResponse(name, creating = false) {
  const existing = responsesData.responses.find(x => x.name === name);
  if (creating && existing) creating = false;
  currentResponse = name; renderResponseList();
  const box = $("response-detail"); box.replaceChildren();
  box.appendChild(el("h2", "", name + (creating ? " · " + S.new_response : "")));
  box.appendChild(el("p", "meta", S.response_help));
  const list = el("div"); list.id = "variations";
  const variations = existing ? existing.variations : DATA.languages.map(language => ({language, text: "", buttons: []}));
  variations.forEach(v => list.appendChild(variationEditor(v)));
  const result = el("div"); result.id = "response-result";
  const collect = () => [...list.querySelectorAll(".variation")].map(v => ({
    language: v.querySelector(".variation-language").value, text: v.querySelector(".variation-text").value,
    buttons: [...v.querySelectorAll(".button-row")].map(r => ({title: r.querySelector(".button-title").value, payload: r.querySelector(".button-payload").value}))
      .filter(b => b.title || b.payload)}));
  const save = button(S.save, async () => {
    const body = {variations: collect(), version: responsesData.version};
    const r = creating ? await api("/responses", "POST", {...body, name}) : await api("/responses/" + name, "PUT", body);
    showResult(result, r);
    if (r.ok) { responsesData.version = r.data.version; const fresh = await api("/responses"); if (fresh.ok) { responsesData = fresh.data; renderResponseList(); } creating = false; }
  }, "primary");
  save.id = "save-response";
  const actions = el("div", "row");
  actions.append(button(S.add_variation, () => list.appendChild(variationEditor({language: DATA.lang}))), save);
  if (!creating) actions.appendChild(button(S.delete_response, async () => {
    if (!confirm(fmt(S.confirm_delete, {name}))) return;
    const r = await api("/responses/" + name + "?version=" + responsesData.version, "DELETE");
    showResult(result, r); if (r.ok) { currentResponse = null; loadResponses(); }
  }, "danger"));
  box.append(list, actions, result);
}

// ---------- stories and rules ----------
let storiesData = null, currentStory = null, validateTimer = null;
async function loadStories() {
  const r = await api("/stories"); if (!r.ok) return;
  storiesData = r.data; renderStoryList();
}
function stepsView(steps) {
  const box = el("div");
  for (const s of steps) {
    const row = el("div", "step " + s.who + (s.condition ? " condition" : ""));
    row.append(el("span", "who", (s.condition ? S.condition + " · " : "") + (S["who_" + s.who] || s.who)), el("span", "what", s.what));
    box.appendChild(row);
  }
  return box;
}
function renderStoryList() {
  const list = $("story-list"); list.replaceChildren();
  let file = null;
  for (const st of storiesData.stories) {
    if (st.file !== file) { file = st.file; list.appendChild(el("h3", "", file)); }
    const row = el("div", "item" + (currentStory && currentStory.file === st.file && currentStory.name === st.name ? " selected" : ""));
    row.dataset.story = st.name;
    row.append(el("strong", "", st.name), el("span", "badge", st.kind === "rule" ? S.kind_rule : S.kind_story));
    row.appendChild(stepsView(st.steps.slice(0, 6)));
    if (st.steps.length > 6) row.appendChild(el("div", "meta", "…"));
    row.onclick = () => openStory(st);
    list.appendChild(row);
  }
}
$("new-story").onclick = async () => { if (!storiesData) await loadStories(); openStory(null); };
function openStory(st) {
  currentStory = st; renderStoryList();
  const box = $("story-detail"); box.replaceChildren();
  box.appendChild(el("h2", "", st ? st.name : S.new_story));
  const fileSelect = el("select"); fileSelect.id = "story-file";
  for (const f of Object.keys(storiesData.versions)) { const o = el("option", "", f); o.value = f; fileSelect.appendChild(o); }
  if (st) { fileSelect.value = st.file; fileSelect.disabled = true; }
  const template = () => fileSelect.value.startsWith("data/rules") ? "rule: " + S.new_rule_name + "\nsteps:\n- intent: greet\n- action: utter_greet\n"
    : "story: " + S.new_story_name + "\nsteps:\n- intent: greet\n- action: utter_greet\n";
  const yaml = el("textarea", "yaml"); yaml.id = "story-yaml"; yaml.spellcheck = false; yaml.value = st ? st.yaml : template();
  fileSelect.onchange = () => { if (!st) yaml.value = template(); check(); };
  const preview = el("div"), checkBox = el("div"); checkBox.id = "story-check";
  const result = el("div"); result.id = "story-result";
  const body = () => ({file: fileSelect.value, name: st ? st.name : null, yaml: yaml.value, version: versionOf(fileSelect.value)});
  async function check() {
    checkBox.replaceChildren(el("span", "meta", S.validating));
    const r = await api("/stories/validate", "POST", body());
    checkBox.replaceChildren();
    if (!r.ok) { checkBox.appendChild(el("div", "errors", r.data.error || r.status)); return; }
    if (r.data.ok) checkBox.appendChild(el("div", "ok", S.valid));
    for (const e of r.data.errors) checkBox.appendChild(el("div", "errors", "✖ " + e));
    for (const w of r.data.warnings) checkBox.appendChild(el("div", "warnings", "⚠ " + w));
  }
  yaml.oninput = () => { clearTimeout(validateTimer); validateTimer = setTimeout(check, 500); };
  const save = button(S.save, async () => {
    const r = await api("/stories", "PUT", body());
    showResult(result, r);
    if (r.ok) { await loadStories(); const saved = storiesData.stories.find(x => x.file === fileSelect.value && x.name === r.data.name); if (saved) openStory(saved); showResult($("story-result"), r); }
  }, "primary");
  save.id = "save-story";
  const actions = el("div", "row"); actions.append(save);
  if (st) actions.appendChild(button(S.delete, async () => {
    if (!confirm(fmt(S.confirm_delete, {name: st.name}))) return;
    const r = await api("/stories", "DELETE", {file: st.file, name: st.name, version: st.version});
    showResult(result, r); if (r.ok) { currentStory = null; loadStories(); $("story-detail").replaceChildren(el("div", "ok", S.deleted)); }
  }, "danger"));
  if (st) { preview.appendChild(el("h3", "", S.steps)); preview.appendChild(stepsView(st.steps)); }
  box.append(el("div", "row", ""), fileSelect, yaml, checkBox, actions, result, preview);
  box.querySelector(".row").append(el("span", "meta", S.story_help));
}
function versionOf(file) { return storiesData.versions[file]; }

// ---------- scheduled announcements ----------
let announcements = [], groups = [];
async function loadAnnouncements() {
  const [a, g] = await Promise.all([api("/announcements"), api("/groups")]);
  if (!a.ok || !g.ok) return;
  announcements = a.data; groups = g.data;
  const list = $("announcement-list"); list.replaceChildren();
  for (const item of announcements) {
    const row = el("div", "item"); row.dataset.announcement = item.id;
    row.append(el("strong", "", item.title), el("span", "badge" + (item.status === "active" ? " good" : ""), S["status_" + item.status] || item.status));
    row.appendChild(el("div", "meta", describeSchedule(item)));
    if (item.next_runs && item.next_runs.length) row.appendChild(el("div", "meta", S.next_run + ": " + when(item.next_runs[0])));
    row.onclick = () => openAnnouncement(item);
    list.appendChild(row);
  }
}
function describeSchedule(a) {
  if (a.schedule_type === "once") return S.schedule_once + " · " + when(a.run_at);
  if (a.schedule_type === "cron") return S.schedule_cron + " · " + a.cron + " (" + a.timezone + ")";
  return fmt(S.schedule_every, {value: a.interval_value, unit: S["unit_" + a.interval_unit] || a.interval_unit});
}
function field(label, input) { const row = el("label", "row"); row.append(el("span", "meta", label), input); return row; }
function input(id, value, type = "text") { const i = el("input"); i.id = id; i.type = type; i.value = value == null ? "" : value; return i; }
function localInput(iso) { if (!iso) return ""; const d = new Date(iso); const p = n => String(n).padStart(2, "0"); return d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate()) + "T" + p(d.getHours()) + ":" + p(d.getMinutes()); }
function isoFromLocal(value) { if (!value) return null; const d = new Date(value); const off = -d.getTimezoneOffset(), sign = off >= 0 ? "+" : "-", p = n => String(Math.floor(Math.abs(n))).padStart(2, "0"); return value + ":00" + sign + p(off / 60) + ":" + p(off % 60); }
function openAnnouncement(a) {
  const box = $("announcement-detail"); box.replaceChildren();
  a = a || {title: "", texts: {}, target_group_ids: [], target_tag: "", schedule_type: "cron", cron: "0 9 * * 1", timezone: "Asia/Shanghai", interval_unit: "days", interval_value: 1};
  box.appendChild(el("h2", "", a.id ? a.title : S.new_announcement));
  const title = input("a-title", a.title), tag = input("a-tag", a.target_tag), tz = input("a-timezone", a.timezone);
  const texts = {}; for (const code of DATA.languages) { texts[code] = el("textarea"); texts[code].id = "a-text-" + code; texts[code].value = a.texts[code] || ""; texts[code].rows = 3; }
  const groupBox = el("div");
  for (const g of groups) { const l = el("label", "row"), c = el("input"); c.type = "checkbox"; c.value = g.id; c.className = "a-group"; c.checked = a.target_group_ids.includes(g.id); l.append(c, el("span", "", (g.title || g.chat_id) + " · " + g.platform + " (" + (g.tags || []).join(", ") + ")")); groupBox.appendChild(l); }
  const type = el("select"); type.id = "a-type";
  for (const t of ["once", "cron", "interval"]) { const o = el("option", "", S["schedule_" + t]); o.value = t; type.appendChild(o); }
  type.value = a.schedule_type;
  const runAt = input("a-run-at", localInput(a.run_at), "datetime-local"), cron = input("a-cron", a.cron), every = input("a-every", a.interval_value, "number");
  const unit = el("select"); for (const u of ["minutes", "hours", "days"]) { const o = el("option", "", S["unit_" + u]); o.value = u; unit.appendChild(o); } unit.value = a.interval_unit || "days";
  const rows = {once: field(S.run_at, runAt), cron: field(S.cron, cron), interval: field(S.every, el("span"))};
  rows.interval.lastChild.append(every, unit);
  const showRows = () => { for (const k in rows) rows[k].hidden = k !== type.value; }; type.onchange = showRows; showRows();
  const body = () => ({title: title.value, texts: Object.fromEntries(Object.entries(texts).filter(([, t]) => t.value.trim()).map(([k, t]) => [k, t.value])),
    target_group_ids: [...groupBox.querySelectorAll(".a-group:checked")].map(c => Number(c.value)), target_tag: tag.value || null,
    schedule_type: type.value, run_at: isoFromLocal(runAt.value), cron: cron.value, interval_value: Number(every.value) || null, interval_unit: unit.value, timezone: tz.value});
  const result = el("div"), runs = el("div");
  const preview = button(S.preview, async () => { const r = await api("/announcements/preview", "POST", body()); runs.replaceChildren(); if (r.ok) { runs.appendChild(el("h3", "", S.next_runs)); r.data.next_runs.forEach(x => runs.appendChild(el("div", "", when(x)))); } else showResult(result, r); });
  const save = button(S.save, async () => {
    const r = a.id ? await api("/announcements/" + a.id, "PUT", body()) : await api("/announcements", "POST", body());
    showResult(result, r); if (r.ok) { await loadAnnouncements(); openAnnouncement(r.data); showResult(result, r); }
  }, "primary");
  save.id = "save-announcement";
  box.append(field(S.a_title, title));
  for (const code of DATA.languages) box.append(field(S.a_text + " · " + (code === "zh" ? "中文" : "English"), texts[code]));
  box.append(el("h3", "", S.a_groups), groupBox, field(S.a_tag, tag), field(S.a_schedule, type), rows.once, rows.cron, rows.interval, field(S.a_timezone, tz));
  const actions = el("div", "row"); actions.append(preview, save);
  if (a.id) {
    const toggle = a.status === "active" ? "pause" : "resume";
    actions.append(button(S[toggle], async () => { const r = await api("/announcements/" + a.id + "/" + toggle, "POST"); showResult(result, r); if (r.ok) { await loadAnnouncements(); openAnnouncement(r.data); } }),
      button(S.delete, async () => { if (!confirm(fmt(S.confirm_delete, {name: a.title}))) return; const r = await api("/announcements/" + a.id, "DELETE"); if (r.ok) { box.replaceChildren(el("div", "ok", S.deleted)); loadAnnouncements(); } else showResult(result, r); }, "danger"));
  }
  box.append(actions, result, runs);
  if (a.id) api("/announcements/" + a.id + "/history").then(r => {
    if (!r.ok) return;
    box.appendChild(el("h3", "", S.history));
    if (!r.data.length) box.appendChild(el("p", "meta", S.history_empty));
    const table = el("table");
    for (const d of r.data.slice(0, 100)) { const tr = el("tr"); const g = groups.find(x => x.id === d.group_id); tr.append(el("td", "", when(d.scheduled_for)), el("td", "", g ? g.title : d.group_id), el("td", "", S["delivery_" + d.status] || d.status), el("td", "meta", d.error || d.reason || "")); table.appendChild(tr); }
    box.appendChild(table);
  });
}
$("new-announcement").onclick = async () => { if (!groups.length) await loadAnnouncements(); openAnnouncement(null); };

// ---------- model: train, test, deploy, roll back ----------
let jobTimer = null;
async function loadModel() {
  const [m, j] = await Promise.all([api("/models"), api("/jobs")]);
  if (!m.ok || !j.ok) return;
  const box = $("model-panel"); box.replaceChildren();
  const info = m.data;
  box.appendChild(el("h2", "", S.tab_model));
  box.appendChild(el("div", "", S.served_model + ": " + (info.served || "–")));
  if (info.deployed && info.deployed !== info.served) box.appendChild(el("div", "meta", fmt(S.switching_to_deployed, {model: info.deployed})));
  box.appendChild(el("div", "", S.current_files_model + ": " + info.for_current_files + " · " + (info.current_files_trained ? S.trained : S.not_trained)));
  const override = el("input"); override.type = "checkbox"; override.id = "deploy-override";
  const result = el("div"); result.id = "model-result";
  const act = async (path, body) => {
    const r = await api(path, "POST", body);
    if (r.ok && !r.data.job) await loadModel();  // the served model changed: show the new state
    showResult($("model-result"), r, S.done);
    if (r.ok && r.data.job) watchJob(r.data.job);
  };
  const actions = el("div", "row");
  const train = button(S.train, () => act("/train"), "primary"); train.id = "train";
  const test = button(S.test, () => act("/test"), "primary"); test.id = "test";
  const deploy = button(S.deploy, () => act("/deploy", {model: info.for_current_files, override: override.checked}), "primary"); deploy.id = "deploy";
  const rollback = button(info.rollback_to ? fmt(S.rollback_to, {model: info.rollback_to}) : S.rollback, () => act("/rollback")); rollback.id = "rollback"; rollback.disabled = !info.rollback_to;
  const overrideLabel = el("label", "meta"); overrideLabel.append(override, " " + S.deploy_override);
  actions.append(train, test, deploy, overrideLabel, rollback);
  box.append(el("p", "meta", S.model_help), actions, result);
  const jobBox = el("div"); jobBox.id = "job"; box.appendChild(jobBox);
  box.appendChild(el("h3", "", S.runs));
  const runs = el("table");
  for (const job of j.data) { const tr = el("tr"); tr.dataset.job = job.id; tr.append(el("td", "", "#" + job.id), el("td", "", S["job_" + job.kind]), el("td", "", S["job_status_" + job.status]), el("td", "meta", job.model || ""), el("td", "meta", when(job.started_at) + " · " + job.elapsed_seconds + " s · " + job.requested_by)); tr.onclick = () => watchJob(job.id); tr.style.cursor = "pointer"; runs.appendChild(tr); }
  box.appendChild(runs);
  box.appendChild(el("h3", "", S.models));
  const models = el("table");
  for (const model of info.models) { const tr = el("tr"); tr.append(el("td", "", model.name), el("td", "meta", model.size_mb + " MB"), el("td", "", model.tests_passed === null ? S.untested : model.tests_passed ? S.tests_passed : S.tests_failed), el("td", "", model.served ? S.served : "")); models.appendChild(tr); }
  box.appendChild(models);
  box.appendChild(el("h3", "", S.deployments));
  const deployments = el("table");
  for (const d of info.deployments) { const tr = el("tr"); tr.append(el("td", "", when(d.at)), el("td", "", S["deploy_kind_" + d.kind]), el("td", "", d.model), el("td", "meta", d.by + (d.tests_overridden ? " · " + S.overridden : ""))); deployments.appendChild(tr); }
  box.appendChild(deployments);
  if (j.data.length) watchJob(j.data[0].id);  // the latest run: live while running, its outcome after
}
async function watchJob(id) {
  clearTimeout(jobTimer);
  const r = await api("/jobs/" + id); if (!r.ok) return;
  const job = r.data, box = $("job"); if (!box) return;
  box.replaceChildren(el("h3", "", fmt(S.job_title, {id: job.id, kind: S["job_" + job.kind]})));
  const status = el("div", job.status === "failed" ? "errors" : job.status === "succeeded" ? "ok" : "", S["job_status_" + job.status] + " · " + job.elapsed_seconds + " s");
  status.id = "job-status"; status.dataset.status = job.status; box.appendChild(status);
  if (job.status === "running") { const bar = el("progress"); if (job.progress !== null) bar.value = job.progress; box.appendChild(bar); if (job.kind === "train") box.appendChild(el("span", "meta", " " + fmt(S.components_done, {count: job.components_done}))); }
  const res = job.result || {};
  if (job.kind === "test" && res.stories) {
    box.appendChild(el("div", res.passed ? "ok" : "errors", fmt(S.stories_result, {passed: res.stories.total - res.stories.failed.length, total: res.stories.total})));
    for (const f of res.stories.failed) { box.appendChild(el("div", "errors", "✖ " + f.name)); box.appendChild(stepsView(f.steps)); }
    box.appendChild(el("div", "meta", fmt(S.wrong_examples, {count: res.misclassified.length})));
  }
  if (res.error) box.appendChild(el("div", "errors", res.error));
  const log = el("pre", "log", job.log || ""); box.appendChild(log); log.scrollTop = log.scrollHeight;
  if (job.status === "running") jobTimer = setTimeout(() => watchJob(id), 1000);
  else if (box.dataset.was === "running") { box.dataset.was = ""; loadModel(); }
  if (job.status === "running") box.dataset.was = "running";
}

// ---------- audit log ----------
async function loadAudit() {
  const r = await api("/audit"); if (!r.ok) return;
  const table = $("audit-table"); table.replaceChildren();
  const head = el("tr"); for (const h of [S.audit_when, S.audit_who, S.audit_action, S.audit_target]) head.appendChild(el("th", "", h)); table.appendChild(head);
  for (const entry of r.data) { const tr = el("tr"); tr.append(el("td", "", when(entry.at)), el("td", "", entry.who), el("td", "", S["action_" + entry.action.replace(".", "_")] || entry.action), el("td", "", entry.target)); table.appendChild(tr); }
}

// ---------- header ----------
$("language").value = DATA.lang;
$("language").onchange = async e => { await api("/me", "PUT", {language: e.target.value}); location.search = ""; location.reload(); };
$("logout").onclick = async () => { await api("/logout", "POST"); location.href = "/operator/login"; };
// after every script of the page has run (teams.js and canned.js register their tabs)
document.addEventListener("DOMContentLoaded", () => showTab(loaders[location.hash.slice(1)] ? location.hash.slice(1) : "intents"));
