// Agent console, ticket labels: chips in the ticket head (× removes one), a field with the labels
// in use as suggestions to add one, chips on the queue's rows and the queue's label filter.
// Loaded before console.js, whose helpers (el, fmt, api, $, S, current, loadTickets) these
// functions use once the page runs; console.js calls initLabels() when it has set up.
"use strict";
const LABEL_RULE = DATA.label_rule, LABEL_PATTERN = new RegExp("^(?:" + LABEL_RULE.pattern + ")$");
let labelFilter = "";  // the label the queue is filtered by ("" = all tickets)
let labelDraft = null;  // what the agent is typing into the label field, kept across live redraws

// The server's rules (bot/handoff/labels.py): full-width forms folded, trimmed, one space
// between words; "VIP" and "vip" are one label (the first spelling stays).
function normaliseLabel(raw) { return raw.normalize("NFKC").trim().split(/\s+/).join(" "); }
function sameLabel(a, b) { return a.toLowerCase() === b.toLowerCase(); }
function labelRefusal(label, labels) {
  if (!label || [...label].length > LABEL_RULE.max_length || !LABEL_PATTERN.test(label)) return fmt(S.label_invalid, {label, length: LABEL_RULE.max_length});
  if (!labels.some(existing => sameLabel(existing, label)) && labels.length >= LABEL_RULE.max_labels) return fmt(S.label_limit, {count: LABEL_RULE.max_labels});
  return null;
}
function labelQuery() { return labelFilter ? "&label=" + encodeURIComponent(labelFilter) : ""; }

// ---------- on a queue row: the labels, read-only ----------
function rowLabels(t) {
  if (!t.labels || !t.labels.length) return null;
  const box = el("div", "row-labels");
  t.labels.forEach(label => { const chip = el("span", "chip label", label); chip.dataset.label = label; box.appendChild(chip); });
  return box;
}

// ---------- in the ticket head: chips with ×, and the field to add one ----------
function typedLabel(t) {
  const input = document.getElementById("label-input");
  if (input) labelDraft = {ticket: Number(input.dataset.ticket), value: input.value, focused: document.activeElement === input};
  return labelDraft && labelDraft.ticket === t.id ? labelDraft : null;
}
function labelBox(t, typed) {
  const box = el("span"); box.id = "ticket-labels"; box.setAttribute("aria-label", S.labels);
  box.appendChild(el("span", "badge", S.labels));
  if (!t.labels.length) box.appendChild(el("span", "no-labels", S.no_labels));
  t.labels.forEach(label => {
    const chip = el("span", "chip label"); chip.dataset.label = label; chip.appendChild(el("span", "", label));
    const remove = el("button", "chip-remove", "×"); remove.type = "button";
    remove.title = fmt(S.label_remove, {label}); remove.setAttribute("aria-label", remove.title);
    remove.onclick = () => changeLabel(t, "DELETE", label);
    chip.appendChild(remove); box.appendChild(chip);
  });
  box.appendChild(labelForm(t, typed));
  return box;
}
function labelForm(t, typed) {
  const form = el("form", "label-form"); form.id = "label-form";
  const input = el("input"); input.id = "label-input"; input.dataset.ticket = t.id; input.maxLength = LABEL_RULE.max_length;
  input.setAttribute("list", "label-options"); input.autocomplete = "off";
  input.placeholder = S.label_placeholder; input.title = fmt(S.label_hint, {length: LABEL_RULE.max_length});
  const add = el("button", "", S.label_add); add.type = "submit"; add.id = "add-label";
  form.appendChild(input); form.appendChild(add);
  form.onsubmit = async e => {
    e.preventDefault();
    const label = normaliseLabel(input.value); if (!label) return;
    const refusal = labelRefusal(label, t.labels);
    if (refusal) { alert(refusal); return; }
    if (await changeLabel(t, "POST", label)) { labelDraft = null; const field = $("label-input"); field.value = ""; field.focus(); }
  };
  if (typed) { input.value = typed.value; if (typed.focused) setTimeout(() => input.focus()); }
  return form;
}
async function changeLabel(t, method, label) {
  const path = "/tickets/" + t.id + "/labels" + (method === "DELETE" ? "/" + encodeURIComponent(label) : "");
  const data = await api(path, method, method === "POST" ? {label} : undefined);
  if (data && current && current.id === t.id) { current.labels = data.labels; renderHead(current); }
  if (data && data.changed) { loadTickets(); loadLabels(); }
  return data;
}

// ---------- the labels in use: suggestions while typing, and the queue's filter ----------
async function loadLabels() {
  const inUse = await api("/labels"); if (!inUse) return;
  const options = $("label-options"); options.innerHTML = "";
  inUse.forEach(item => { const o = el("option"); o.value = item.label; options.appendChild(o); });
  const filter = $("label-filter"); filter.length = 1;
  inUse.forEach(item => { const o = el("option", "", fmt(S.label_filter_count, {label: item.label, count: item.tickets})); o.value = item.label; filter.appendChild(o); });
  if (labelFilter && !inUse.some(item => sameLabel(item.label, labelFilter))) {  // still chosen, though no ticket has it now
    const o = el("option", "", labelFilter); o.value = labelFilter; filter.appendChild(o);
  }
  filter.value = labelFilter;
}
function initLabels() {
  $("label-filter").onchange = e => { labelFilter = e.target.value; loadTickets(); };
  loadLabels();
}
