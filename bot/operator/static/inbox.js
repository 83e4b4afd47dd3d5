// Operator console, the improvement loop: the Unanswered tab (what the bot did not understand,
// grouped; add a text as an example, mark it out of scope or dismiss it; after the next train
// and deploy, whether the assistant now understands it) and the Conversations tab (a
// conversation's transcript with what the model understood, found by ticket, member or inbox
// sample). Uses the helpers of operator.js (el, button, api, showResult, fmt, when, S, $) and
// registers its loaders there; every text comes from DATA.strings. In a function of its own so
// that its names cannot clash with those of the other scripts.
"use strict";
(() => {
  const I = key => S["inbox." + key];
  const MASK = "•";
  const LOW_CONFIDENCE = 0.6;  // below it, an answer was a guess (bot/insights/recording.py)
  const NOT_TEACHABLE = ["nlu_fallback", "out_of_scope"];
  // A hot spot on the Insights page links here (bot/insights/links.py): ?unanswered= opens
  // that group (in the list inbox_status and inbox_period name), ?record= that conversation.
  const linked = new URLSearchParams(location.search);
  const linkedAs = (name, allowed, otherwise) => allowed.includes(linked.get(name)) ? linked.get(name) : otherwise;
  const filters = {status: linkedAs("inbox_status", ["open", "reviewed"], "open"),
    period: linkedAs("inbox_period", ["7", "30", "90"], "30"), language: "", sort: "recent"};
  let groupsData = [], intentsData = [], current = linked.get("unanswered"), pendingConversation = null;
  let pendingRecord = linked.get("record");

  // ---------- the Unanswered tab ----------
  async function loadUnanswered() {
    $("tab-unanswered").style.gridTemplateColumns = "minmax(380px, 1fr) minmax(420px, 1fr)";
    const query = new URLSearchParams(Object.entries(filters).filter(([, v]) => v)).toString();
    const [g, i] = await Promise.all([api("/unanswered?" + query), api("/intents")]);
    if (!g.ok || !i.ok) return;
    groupsData = g.data.groups; intentsData = i.data;
    const box = $("unanswered-panel"); box.replaceChildren();
    box.append(el("h2", "", I("title")), el("p", "meta", I("help")), filterRow(), groupList(g.data.served_model));
    const still = current && groupsData.find(x => x.normalized === current);
    if (still) openGroup(still); else { current = null; $("unanswered-detail").replaceChildren(el("p", "meta", I("pick_group"))); }
  }
  loaders.unanswered = loadUnanswered;

  function select(id, options, value, onchange) {
    const s = el("select"); s.id = id;
    for (const [key, text] of options) { const o = el("option", "", text); o.value = key; s.appendChild(o); }
    s.value = value; s.onchange = () => onchange(s.value);
    return s;
  }
  function filterRow() {
    const row = el("div", "row");
    const set = name => value => { filters[name] = value; current = null; loadUnanswered(); };
    row.append(
      select("inbox-status", [["open", I("status_open")], ["reviewed", I("status_reviewed")]], filters.status, set("status")),
      select("inbox-period", ["7", "30", "90"].map(d => [d, fmt(I("period_days"), {days: d})]), filters.period, set("period")),
      select("inbox-language", [["", I("language_all")], ...DATA.languages.map(c => [c, c === "zh" ? "中文" : "English"])],
        filters.language, set("language")),
      select("inbox-sort", [["recent", I("sort_recent")], ["frequent", I("sort_frequent")]], filters.sort, set("sort")));
    return row;
  }
  function groupList(model) {
    const list = el("div"); list.id = "inbox-list";
    if (!groupsData.length) list.appendChild(el("p", "meta", filters.status === "open" ? I("none_open") : I("none_reviewed")));
    if (filters.status === "reviewed" && groupsData.length) list.appendChild(el("p", "meta", fmt(I("checked_with"), {model: model || "–"})));
    for (const group of groupsData) list.appendChild(groupRow(group));
    return list;
  }
  function groupRow(group) {
    const row = el("div", "item" + (group.normalized === current ? " selected" : ""));
    row.dataset.normalized = group.normalized;
    const sample = group.samples.length ? group.samples[0].text : group.normalized;
    row.append(el("strong", "sample", sample), el("span", "badge", fmt(I("count"), {count: group.count})));
    for (const language of group.languages) row.appendChild(el("span", "badge", language));
    if (group.last_seen) row.appendChild(el("div", "meta", fmt(I("last_seen"), {when: when(group.last_seen)})));
    if (group.review) row.appendChild(reviewLine(group.review));
    row.onclick = () => openGroup(group);
    return row;
  }

  // What became of a decision: for examples, what the served model makes of them now.
  function reviewLine(review) {
    const box = el("div", "review");
    const decision = I("decision_" + review.decision) + (review.decision === "added" ? " → " + review.intent : "");
    box.appendChild(el("div", "meta", fmt(I("decided"), {decision, who: review.decided_by || "–", when: when(review.decided_at)})));
    if (!review.check) return box;
    const verdict = review.check.verdict, good = verdict === "understood";
    const text = verdict === "understood" ? (review.decision === "out_of_scope" ? I("now_out_of_scope") : fmt(I("now_understood"), {intent: review.intent}))
      : verdict === "other" ? fmt(I("understood_other"), {intent: review.check.understood_as, expected: review.intent})
      : verdict === "no_model" ? I("no_model") : I("still_not_understood");
    const check = el("div", "check " + (good ? "ok" : "warnings"), (good ? "✔ " : "✖ ") + text);
    check.dataset.verdict = verdict;
    box.appendChild(check);
    if (!review.deployed_since) box.appendChild(el("div", "meta", I("not_deployed_yet")));
    if (review.unanswered_since) box.appendChild(el("div", "meta", fmt(I("unanswered_since"), {count: review.unanswered_since})));
    return box;
  }

  function openGroup(group) {
    current = group.normalized;
    for (const row of document.querySelectorAll("#inbox-list .item")) row.classList.toggle("selected", row.dataset.normalized === current);
    const box = $("unanswered-detail"); box.replaceChildren();
    box.append(el("h2", "", group.samples.length ? group.samples[0].text : group.normalized), facts(group), samplesList(group));
    box.appendChild(group.review ? reviewLine(group.review) : decisionForm(group));
  }
  function facts(group) {
    const box = el("div", "meta");
    box.appendChild(el("div", "", fmt(I("count"), {count: group.count}) + " · " + fmt(I("seen"), {first: when(group.first_seen), last: when(group.last_seen)})));
    const places = group.groups.map(g => (g.title || g.chat_id) + " (" + g.count + ")");
    if (group.private_count) places.push(fmt(I("private_chats"), {count: group.private_count}));
    if (places.length) box.appendChild(el("div", "", I("asked_in") + ": " + places.join(DATA.lang === "zh" ? "、" : ", ")));
    return box;
  }
  function samplesList(group) {
    const box = el("div"); box.id = "inbox-samples";
    box.appendChild(el("h3", "", I("samples")));
    for (const sample of group.samples) {
      const row = el("div", "row sample");
      const open = button(I("open_conversation"), () => openRecordConversation(sample.record)); open.className = "open-conversation";
      row.append(el("span", "", "“" + sample.text + "”"), el("span", "meta", when(sample.at)), open);
      box.appendChild(row);
    }
    return box;
  }

  // ---------- deciding: add as an example, out of scope, dismiss ----------
  function decisionForm(group) {
    const box = el("div"); box.appendChild(el("h3", "", I("decide")));
    const example = el("input"); example.type = "text"; example.id = "inbox-example"; example.maxLength = 500;
    example.value = group.samples.length ? group.samples[0].text : "";
    const maskNote = el("div", "warnings"); maskNote.id = "inbox-mask-note";
    const checkMask = () => { maskNote.textContent = example.value.includes(MASK) ? I("masked_left") : ""; };
    example.oninput = checkMask; checkMask();
    const intent = el("select"); intent.id = "inbox-intent";
    intent.appendChild(el("option", "", I("choose_intent"))).value = "";
    for (const it of intentsData.filter(x => !NOT_TEACHABLE.includes(x.intent))) intent.appendChild(el("option", "", it.intent)).value = it.intent;
    const result = el("div"); result.id = "inbox-result";
    const add = button(I("add"), () => {
      if (!intent.value) { result.replaceChildren(el("div", "errors", I("choose_intent"))); return; }
      decide(group, "add", result, {intent: intent.value, example: example.value, version: versionOf(intent.value)});
    }, "primary");
    add.id = "inbox-add";
    const outOfScope = button(I("out_of_scope"), () => decide(group, "out_of_scope", result,
      {example: example.value, version: versionOf("out_of_scope")}));
    outOfScope.id = "inbox-out-of-scope";
    const dismiss = button(I("dismiss"), () => { if (confirm(I("confirm_dismiss"))) decide(group, "dismiss", result, {}); }, "danger");
    dismiss.id = "inbox-dismiss";
    const exampleRow = el("div", "row"); exampleRow.append(el("span", "meta", I("example")), example);
    const intentRow = el("div", "row"); intentRow.append(el("span", "meta", I("intent")), intent, add);
    const otherRow = el("div", "row"); otherRow.append(outOfScope, dismiss);
    if (window.faqFromSamples) {  // the FAQ tab (faq.js): a new topic pre-filled with these texts
      const faq = button(I("create_faq"), () => window.faqFromSamples([...new Set([example.value, ...group.samples.map(s => s.text)])]
        .filter(t => t.trim() && !t.includes(MASK))));
      faq.id = "inbox-create-faq"; otherRow.appendChild(faq);
    }
    box.append(el("p", "meta", I("example_help")), exampleRow, maskNote, intentRow, otherRow, result);
    return box;
  }
  function versionOf(name) { const it = intentsData.find(x => x.intent === name); return it ? it.version : ""; }

  async function decide(group, decision, result, extra) {
    if (decision !== "dismiss" && extra.example.includes(MASK)) { result.replaceChildren(el("div", "errors", I("masked_left"))); return; }
    result.replaceChildren(el("span", "meta", I("saving")));
    const r = await api("/unanswered/decision", "POST", {normalized: group.normalized, decision, ...extra});
    if (!r.ok) {
      showResult(result, r);
      if (r.status === 409) { const fresh = await api("/intents"); if (fresh.ok) intentsData = fresh.data; }
      return;
    }
    const done = decision === "add" ? fmt(I("added"), {intent: extra.intent}) : decision === "out_of_scope" ? I("marked_out_of_scope") : I("dismissed");
    current = null;
    await loadUnanswered();
    $("unanswered-detail").replaceChildren(el("div", "ok", done));
    $("unanswered-detail").firstChild.id = "inbox-done";
  }

  // ---------- the Conversations tab ----------
  async function loadConversations() {
    $("tab-conversations").style.gridTemplateColumns = "minmax(320px, 1fr) 2fr";
    const box = $("conversation-finder");
    if (!box.childElementCount) box.append(el("h2", "", I("conversations_title")), el("p", "meta", I("conversations_help")), finderRow("ticket"),
      finderRow("member"), resultList());
    if (!$("conversation-view").childElementCount) $("conversation-view").appendChild(el("p", "meta", I("pick_conversation")));
    if (pendingConversation) { const id = pendingConversation; pendingConversation = null; await showTranscript(id); }
    if (pendingRecord) {
      const r = await api("/conversations?record=" + encodeURIComponent(pendingRecord)); pendingRecord = null;
      if (r.ok && r.data.conversations.length) await showTranscript(r.data.conversations[0].id); else showResult($("conversation-view"), r);
    }
  }
  loaders.conversations = loadConversations;

  function finderRow(kind) {
    const row = el("div", "row"), input = el("input");
    input.type = "text"; input.id = "find-" + kind; input.placeholder = I("find_" + kind + "_placeholder");
    const go = button(I("find"), () => find(kind, input.value.trim())); go.id = "find-by-" + kind;
    input.onkeydown = e => { if (e.key === "Enter") go.click(); };
    row.append(el("span", "meta", I("find_" + kind)), input, go);
    return row;
  }
  function resultList() { const box = el("div"); box.id = "conversation-list"; return box; }
  async function find(kind, value) {
    const list = $("conversation-list"); list.replaceChildren();
    if (!value) return;
    const r = await api("/conversations?" + new URLSearchParams({[kind]: value}).toString());
    if (!r.ok) { showResult(list, r); return; }
    if (!r.data.conversations.length) list.appendChild(el("p", "meta", I("no_conversations")));
    for (const c of r.data.conversations) list.appendChild(conversationRow(c));
    if (r.data.conversations.length === 1) showTranscript(r.data.conversations[0].id);
  }
  function where(c) {
    const place = c.chat_type === "group" ? fmt(I("in_group"), {group: c.group && (c.group.title || c.group.chat_id) || "–"}) : I("in_private");
    return c.platform + " · " + place;
  }
  function conversationRow(c) {
    const row = el("div", "item"); row.dataset.conversation = c.id;
    row.append(el("strong", "", where(c)));
    if (c.tickets.length) row.appendChild(el("span", "badge", fmt(I("tickets"), {ids: c.tickets.map(id => "#" + id).join(" ")})));
    row.appendChild(el("div", "meta", fmt(I("last_activity"), {when: when(c.updated_at)})));
    row.onclick = () => showTranscript(c.id);
    return row;
  }
  async function openRecordConversation(record) {
    const r = await api("/conversations?record=" + encodeURIComponent(record));
    if (!r.ok || !r.data.conversations.length) { showResult($("unanswered-detail").querySelector("#inbox-samples") || $("unanswered-detail"), r); return; }
    pendingConversation = r.data.conversations[0].id;
    showTab("conversations");
  }

  async function showTranscript(id) {
    const box = $("conversation-view");
    const r = await api("/conversations/" + encodeURIComponent(id));
    box.replaceChildren();
    if (!r.ok) { showResult(box, r); return; }
    const c = r.data;
    box.append(el("h2", "", where(c)), el("p", "meta", I("masked_note")));
    if (c.tickets.length) box.appendChild(el("div", "meta", fmt(I("tickets"), {ids: c.tickets.map(t => "#" + t).join(" ")})));
    if (c.truncated) box.appendChild(el("div", "meta", I("truncated")));
    const lines = el("div"); lines.id = "transcript";
    for (const line of c.lines) lines.appendChild(transcriptLine(line));
    if (!c.lines.length) lines.appendChild(el("p", "meta", I("no_lines")));
    box.appendChild(lines);
  }
  function transcriptLine(line) {
    const row = el("div", "step line " + line.who); row.dataset.who = line.who;
    const who = line.who === "agent" && line.agent ? line.agent : I("who_" + line.who);
    row.append(el("span", "who", who), el("span", "what", line.who === "event" ? eventText(line.text) : line.text));
    if (line.nlu) {
      const known = line.nlu.intent && line.nlu.intent !== "nlu_fallback", sure = known && line.nlu.confidence >= LOW_CONFIDENCE;
      const nlu = el("span", "badge nlu " + (sure ? "good" : known ? "" : "bad"), (line.nlu.intent || "–") +
        (line.nlu.confidence !== null ? " · " + Math.round(line.nlu.confidence * 100) + "%" : ""));
      row.appendChild(nlu);
    }
    row.appendChild(el("span", "meta", " " + when(line.at) + (line.ticket ? " · #" + line.ticket : "")));
    return row;
  }
  function eventText(text) {
    const [kind, rest] = text.split(/:(.*)/s);
    const detail = kind === "category" || kind === "priority" ? (S[kind + "." + rest] || rest) : rest || "";
    return (S["event_" + kind] || kind).replace("{detail}", detail);
  }
})();
