// Operator console, Canned replies tab: the prepared answers agents pick in the agent console,
// a title and a text in every language, for one team's tickets or for every team's. Uses the helpers of operator.js (el, button, api,
// showResult, fmt, S, $) and registers its loader there; every text comes from DATA.strings.
// In a function of its own so that its names cannot clash with those of the other scripts.
"use strict";
(() => {
  const C = key => S["canned." + key];
  const PLACEHOLDERS = ["customer_name", "member_tier"];  // what the agent console fills in (bot/operator/canned.py)
  const languageLabel = code => code === "zh" ? "中文" : "English";
  let replies = [], teams = [], lastText = null;  // lastText: the text box a placeholder goes into
  const teamName = key => { const team = teams.find(t => t.key === key); return team ? team.name : key; };

  async function loadCanned() {
    const [r, t] = await Promise.all([api("/canned-replies"), api("/teams")]); if (!r.ok) return;
    replies = r.data; teams = t.ok ? t.data : [];
    const box = $("canned-panel"); box.replaceChildren();
    const result = el("div"); result.id = "canned-result";
    box.append(el("h2", "", C("title")), el("p", "meta", C("help")), repliesTable(), editor(null), result);
  }
  loaders.canned = loadCanned;

  // A change, then the tab drawn afresh (on success) and the outcome shown under the editor.
  async function change(path, method, body, okText) {
    const r = await api(path, method, body);
    if (r.ok) await loadCanned();
    showResult($("canned-result"), r, okText);
    return r;
  }

  // ---------- the list ----------
  function repliesTable() {
    if (!replies.length) return el("p", "meta", C("none"));
    const table = el("table"); table.id = "canned-table";
    const head = el("tr");
    for (const label of [C("key"), C("team"), ...DATA.languages.map(languageLabel), ""]) head.appendChild(el("th", "", label));
    table.appendChild(head);
    for (const reply of replies) table.appendChild(replyRow(reply));
    return table;
  }
  function replyRow(reply) {
    const tr = el("tr"); tr.dataset.canned = reply.key;
    tr.appendChild(el("td", "", reply.key));
    const team = el("td", "team", reply.team ? teamName(reply.team) : C("every_team")); team.dataset.team = reply.team || "";
    tr.appendChild(team);
    for (const code of DATA.languages) {
      const entry = reply.texts[code] || {title: "–", text: ""}, td = el("td");
      td.dataset.language = code;
      td.append(el("strong", "", entry.title), el("div", "meta", entry.text));
      tr.appendChild(td);
    }
    const edit = button(C("edit"), () => { $("canned-editor").replaceWith(editor(reply)); $("canned-result").replaceChildren(); }, "edit-canned");
    const remove = button(C("delete"), () => {
      if (confirm(fmt(C("confirm_delete"), {key: reply.key}))) change("/canned-replies/" + reply.key, "DELETE", undefined, S.deleted);
    }, "danger delete-canned");
    const actions = el("td"); actions.style.whiteSpace = "nowrap"; actions.append(edit, " ", remove);
    tr.appendChild(actions);
    return tr;
  }

  // ---------- the editor: a new reply (null) or an existing one, both languages side by side ----------
  function editor(reply) {
    const box = el("div"); box.id = "canned-editor";
    box.appendChild(el("h3", "", reply ? fmt(C("editing"), {key: reply.key}) : C("new_reply")));
    const key = el("input"); key.type = "text"; key.id = "canned-key"; key.placeholder = C("key"); key.maxLength = 64;
    key.value = reply ? reply.key : ""; key.disabled = !!reply;
    const keyRow = el("div", "row"); keyRow.append(el("span", "meta", C("key")), key, el("span", "meta", C("key_help")));
    const team = teamSelect(reply ? reply.team : null);
    const teamRow = el("div", "row"); teamRow.append(el("span", "meta", C("team")), team, el("span", "meta", C("team_help")));
    const columns = el("div", "columns"), fields = {};
    for (const code of DATA.languages) {
      fields[code] = languageFields(code, reply && reply.texts[code]);
      columns.appendChild(fields[code].box);
    }
    const texts = () => Object.fromEntries(DATA.languages.map(code => [code, {title: fields[code].title.value, text: fields[code].text.value}]));
    const chosenTeam = () => team.value || null;
    const save = button(C("save"), () => reply
      ? change("/canned-replies/" + reply.key, "PUT", {texts: texts(), team: chosenTeam()}, C("saved"))
      : change("/canned-replies", "POST", {key: key.value.trim(), texts: texts(), team: chosenTeam()}, C("saved")), "primary");
    save.id = "save-canned";
    const actions = el("div", "row"); actions.appendChild(save);
    if (reply) {
      const fresh = button(C("new_instead"), () => { $("canned-editor").replaceWith(editor(null)); $("canned-result").replaceChildren(); });
      fresh.id = "new-canned"; actions.appendChild(fresh);
    }
    lastText = fields[DATA.lang] ? fields[DATA.lang].text : null;
    box.append(keyRow, teamRow, columns, placeholderHint(), actions);
    return box;
  }
  function teamSelect(chosen) {  // "": every team (the reply is shared)
    const select = el("select"); select.id = "canned-team";
    for (const [value, text] of [["", C("every_team")], ...teams.map(t => [t.key, t.name + " (" + t.key + ")"])]) {
      const option = el("option", "", text); option.value = value; select.appendChild(option);
    }
    select.value = chosen || "";
    return select;
  }
  function languageFields(code, entry) {
    const box = el("div"); box.dataset.language = code;
    const title = el("input"); title.type = "text"; title.id = "canned-title-" + code; title.maxLength = 120; title.style.width = "100%";
    const text = el("textarea"); text.id = "canned-text-" + code; text.maxLength = 2000;
    title.value = entry ? entry.title : ""; text.value = entry ? entry.text : "";
    text.onfocus = () => { lastText = text; };
    box.append(el("strong", "", languageLabel(code)), el("div", "meta", C("reply_title")), title, el("div", "meta", C("reply_text")), text);
    return {box, title, text};
  }
  function placeholderHint() {
    const hint = el("p", "meta"); hint.id = "canned-placeholders";
    hint.appendChild(document.createTextNode(C("placeholders") + " "));
    for (const name of PLACEHOLDERS) {
      const chip = el("code", "placeholder", "{" + name + "}"); chip.dataset.placeholder = name;
      chip.onmousedown = e => e.preventDefault();  // the text box keeps its focus and cursor
      chip.onclick = () => { if (lastText) { lastText.setRangeText(chip.textContent, lastText.selectionStart, lastText.selectionEnd, "end"); lastText.focus(); } };
      hint.append(chip, " " + C(name) + "  ");
    }
    return hint;
  }
})();
