// Operator console, FAQ tab: FAQ topics (example questions and an answer per language, disable,
// enable, delete) and new intents beyond FAQ (an answer, a hand-off to a person, or linking).
// Uses the helpers of operator.js (el, button, api, showResult, fmt, S, $) and registers its loader
// there; every text comes from DATA.strings. window.faqFromSamples opens a new topic pre-filled
// with texts (the Unanswered tab's "create an FAQ topic from these messages").
// In a function of its own so that its names cannot clash with those of the other scripts.
"use strict";
(() => {
  const F = key => S["faq." + key];
  const languageLabel = code => code === "zh" ? "中文" : "English";
  const hasHan = text => /[\u4e00-\u9fff]/.test(text);
  let data = {topics: []}, made = {intents: [], does: [], categories: []}, draft = null;

  async function loadFaq() {
    const [t, m] = await Promise.all([api("/faq"), api("/custom-intents")]); if (!t.ok) return;
    data = t.data; made = m.ok ? m.data : made;
    const box = $("faq-panel"); box.replaceChildren();
    const result = el("div"); result.id = "faq-result";
    const opened = draft; draft = null;
    box.append(el("h2", "", F("title")), el("p", "meta", F("help")), topicTable(), topicEditor(null, opened), result,
      el("h2", "", F("intents_title")), el("p", "meta", F("intents_help")), intentTable(), intentEditor(), deleteIntentRow());
  }
  loaders.faq = loadFaq;

  window.faqFromSamples = texts => {  // the Unanswered tab's hand-over: a new topic with these texts
    draft = {examples: {en: texts.filter(t => !hasHan(t)), zh: texts.filter(hasHan)}};
    showTab("faq");
  };

  // A change; the tab drawn afresh on success (keeping the outcome), the field at fault marked.
  async function change(path, method, body, okText) {
    $("faq-result").replaceChildren(el("span", "meta", F("saving")));  // validation takes a few seconds
    delete $("faq-result").dataset.field;
    const r = await api(path, method, body);
    if (r.ok) await loadFaq();
    showResult($("faq-result"), r, okText);
    document.querySelectorAll("#faq-panel .bad-field").forEach(e => { e.classList.remove("bad-field"); e.style.outline = ""; });
    if (!r.ok && r.data.field) {
      $("faq-result").dataset.field = r.data.field;
      const input = document.querySelector(`#faq-panel [data-field="${r.data.field}"]`);
      if (input) { input.classList.add("bad-field"); input.style.outline = "2px solid #b91c1c"; }
    }
    return r;
  }

  // ---------- the topics ----------
  function topicTable() {
    if (!data.topics.length) return el("p", "meta", F("none"));
    const table = el("table"); table.id = "faq-table";
    const head = el("tr");
    for (const label of [F("key"), F("state"), ...DATA.languages.map(languageLabel), ""]) head.appendChild(el("th", "", label));
    table.appendChild(head);
    for (const topic of data.topics) table.appendChild(topicRow(topic));
    return table;
  }
  function topicRow(topic) {
    const tr = el("tr"); tr.dataset.topic = topic.key;
    const key = el("td"); key.appendChild(el("strong", "", topic.key));
    if (topic.misclassified.length) key.appendChild(el("span", "badge bad", fmt(F("wrong_count"), {count: topic.misclassified.length})));
    const state = el("td", "state", topic.enabled ? F("enabled") : F("disabled")); state.dataset.enabled = topic.enabled;
    tr.append(key, state);
    for (const code of DATA.languages) {
      const td = el("td"); td.dataset.language = code;
      td.appendChild(el("div", "", fmt(F("examples_count"), {count: topic.counts[code] || 0})));
      if (topic.more_needed[code]) td.appendChild(el("div", "meta more-needed", fmt(F("more_needed"), {count: topic.more_needed[code]})));
      td.appendChild(el("div", "meta", (topic.answers[code] || {text: "–"}).text));
      tr.appendChild(td);
    }
    const actions = el("td"); actions.style.whiteSpace = "nowrap";
    actions.append(button(F("edit"), () => { $("faq-editor").replaceWith(topicEditor(topic)); $("faq-result").replaceChildren(); }, "edit-faq"), " ",
      button(topic.enabled ? F("disable") : F("enable"), () => change(`/faq/${topic.key}/${topic.enabled ? "disable" : "enable"}`, "POST",
        {version: topic.version}, topic.enabled ? F("disabled_done") : F("enabled_done")), "toggle-faq"), " ",
      button(F("delete"), () => {
        if (confirm(fmt(F("confirm_delete"), {key: topic.key}))) change(`/faq/${topic.key}?version=${topic.version}`, "DELETE", undefined, S.deleted);
      }, "danger delete-faq"));
    tr.appendChild(actions);
    return tr;
  }

  // ---------- a topic's editor: new (null, perhaps pre-filled) or existing, languages side by side ----------
  function topicEditor(topic, prefill) {
    const box = el("div"); box.id = "faq-editor";
    box.appendChild(el("h3", "", topic ? fmt(F("editing"), {key: topic.key}) : F("new_topic")));
    const key = el("input"); key.type = "text"; key.id = "faq-key"; key.maxLength = 40; key.dataset.field = "key";
    key.value = topic ? topic.key : ""; key.disabled = !!topic; key.placeholder = "opening_hours";
    const keyRow = el("div", "row"); keyRow.append(el("span", "meta", F("key")), key, el("span", "meta", F("key_help")));
    const columns = el("div", "columns"), fields = {};
    const examples = topic ? topic.examples : (prefill && prefill.examples) || {};
    for (const code of DATA.languages) {
      fields[code] = languageFields(code, examples[code] || [], topic && topic.answers[code]);
      columns.appendChild(fields[code].box);
    }
    const body = () => ({
      examples: Object.fromEntries(DATA.languages.map(c => [c, fields[c].examples.value.split("\n").map(s => s.trim()).filter(Boolean)])),
      answers: Object.fromEntries(DATA.languages.map(c => [c, fields[c].answer()]))});
    const save = button(F("save"), () => topic
      ? change("/faq/" + topic.key, "PUT", {...body(), version: topic.version}, F("saved"))
      : change("/faq", "POST", {key: key.value.trim(), ...body()}, F("saved")), "primary");
    save.id = "save-faq";
    const actions = el("div", "row"); actions.appendChild(save);
    if (topic) actions.appendChild(button(F("new_instead"), () => { $("faq-editor").replaceWith(topicEditor(null)); }));
    box.append(keyRow, columns, el("p", "meta", F("placeholders")), actions);
    return box;
  }
  function languageFields(code, examples, answer) {
    const box = el("div"); box.dataset.language = code;
    const list = el("textarea"); list.id = "faq-examples-" + code; list.dataset.field = "examples." + code;
    list.value = examples.join("\n"); list.rows = 8;
    const count = el("div", "meta"); count.id = "faq-count-" + code;
    const recount = () => {
      const n = list.value.split("\n").filter(s => s.trim()).length, missing = Math.max(0, data.recommended_examples - n);
      count.textContent = fmt(F("examples_count"), {count: n}) + (missing ? " · " + fmt(F("more_needed"), {count: missing}) : "");
    };
    list.oninput = recount; recount();
    const text = el("textarea"); text.id = "faq-answer-" + code; text.dataset.field = `answers.${code}.text`; text.maxLength = 2000;
    text.value = answer ? answer.text : "";
    const image = el("input"); image.type = "text"; image.id = "faq-image-" + code; image.dataset.field = `answers.${code}.image`;
    image.placeholder = "https://…"; image.value = answer && answer.image ? answer.image : ""; image.style.width = "100%";
    const buttons = el("div"); buttons.id = "faq-buttons-" + code; buttons.dataset.field = `answers.${code}.buttons`;
    const addButton = (title, payload) => {
      const row = el("div", "row faq-button");
      const t = el("input"); t.type = "text"; t.className = "button-title"; t.placeholder = F("button_title"); t.value = title || "";
      const p = el("input"); p.type = "text"; p.className = "button-payload"; p.placeholder = F("button_payload"); p.value = payload || "";
      row.append(t, p, button(F("remove"), () => row.remove(), "danger"));
      buttons.appendChild(row);
    };
    (answer ? answer.buttons : []).forEach(b => addButton(b.title, b.payload));
    const add = button(F("add_button"), () => addButton()); add.id = "faq-add-button-" + code;
    box.append(el("strong", "", languageLabel(code)), el("div", "meta", F("examples_help")), list, count,
      el("div", "meta", F("answer")), text, el("div", "meta", F("image")), image, el("div", "meta", F("buttons")), buttons, add);
    const answerOf = () => ({text: text.value, image: image.value.trim() || null,
      buttons: [...buttons.querySelectorAll(".faq-button")].map(r => ({title: r.querySelector(".button-title").value, payload: r.querySelector(".button-payload").value}))
        .filter(b => b.title.trim() || b.payload.trim())});
    return {box, examples: list, answer: answerOf};
  }

  // ---------- new intents beyond FAQ ----------
  function intentTable() {
    if (!made.intents.length) return el("p", "meta", F("no_intents"));
    const table = el("table"); table.id = "custom-intents";
    for (const intent of made.intents) {
      const tr = el("tr"); tr.dataset.intent = intent.intent;
      const what = intent.does === "handoff" ? fmt(F("does_handoff_to"), {category: S["category." + intent.category] || intent.category}) : F("does_" + intent.does);
      tr.append(el("td", "", intent.intent), el("td", "", what), el("td", "meta", fmt(F("examples_count"), {count: intent.examples.length})));
      const actions = el("td");
      actions.appendChild(button(F("delete"), () => {
        if (confirm(fmt(F("confirm_delete_intent"), {intent: intent.intent}))) change("/custom-intents/" + intent.intent, "DELETE", undefined, S.deleted);
      }, "danger delete-intent"));
      tr.appendChild(actions); table.appendChild(tr);
    }
    return table;
  }
  function intentEditor() {
    const box = el("div"); box.id = "intent-editor";
    const name = el("input"); name.type = "text"; name.id = "new-intent-name"; name.dataset.field = "intent"; name.placeholder = "warranty_claim";
    const does = el("select"); does.id = "new-intent-does"; does.dataset.field = "does";
    for (const value of made.does) { const o = el("option", "", F("does_" + value)); o.value = value; does.appendChild(o); }
    const category = el("select"); category.id = "new-intent-category"; category.dataset.field = "category";
    for (const value of made.categories) { const o = el("option", "", S["category." + value] || value); o.value = value; category.appendChild(o); }
    const columns = el("div", "columns"), fields = {};
    for (const code of DATA.languages) {
      const col = el("div"); col.dataset.language = code;
      const examples = el("textarea"); examples.id = "new-intent-examples-" + code; examples.dataset.field = "examples." + code;
      const answer = el("textarea"); answer.id = "new-intent-answer-" + code; answer.dataset.field = `answers.${code}.text`;
      const answerBox = el("div", "intent-answer"); answerBox.append(el("div", "meta", F("answer")), answer);
      col.append(el("strong", "", languageLabel(code)), el("div", "meta", F("examples_help")), examples, answerBox);
      fields[code] = {examples, answer, answerBox}; columns.appendChild(col);
    }
    const sync = () => {
      category.hidden = does.value !== "handoff";
      for (const code of DATA.languages) fields[code].answerBox.hidden = does.value !== "answer";
    };
    does.onchange = sync; sync();
    const create = button(F("create_intent"), () => {
      const body = {intent: name.value.trim(), does: does.value,
        examples: Object.fromEntries(DATA.languages.map(c => [c, fields[c].examples.value.split("\n").map(s => s.trim()).filter(Boolean)]))};
      if (does.value === "handoff") body.category = category.value;
      if (does.value === "answer") body.answers = Object.fromEntries(DATA.languages.map(c => [c, {text: fields[c].answer.value}]));
      change("/custom-intents", "POST", body, F("intent_created"));
    }, "primary");
    create.id = "create-intent";
    const row = el("div", "row"); row.append(el("span", "meta", F("intent_name")), name, does, category);
    box.append(el("h3", "", F("new_intent")), row, columns, create);
    return box;
  }
  function deleteIntentRow() {  // any intent: refused, with the reason, while anything uses it
    const row = el("div", "row"); row.id = "delete-intent-row";
    const name = el("input"); name.type = "text"; name.id = "delete-intent-name"; name.placeholder = F("intent_name");
    const go = button(F("delete_intent"), () => { if (name.value.trim()) change("/custom-intents/" + encodeURIComponent(name.value.trim()), "DELETE", undefined, S.deleted); }, "danger");
    go.id = "delete-intent";
    row.append(el("span", "meta", F("delete_any")), name, go);
    return row;
  }
})();
