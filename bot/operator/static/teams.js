// Operator console, Teams tab: teams and their members, each agent's languages, and which
// team each ticket category goes to. Uses the helpers of operator.js (el, button, api,
// showResult, fmt, S) and registers its loader there; every text comes from DATA.strings.
"use strict";
const T = key => S["teams." + key];
const languageName = code => code === "zh" ? "中文" : "English";
const listed = items => items.join(DATA.lang === "zh" ? "、" : ", ");
let teamsData = [], agentsData = [], routesData = {};

async function loadTeams() {
  const [t, a, r] = await Promise.all([api("/teams"), api("/agents"), api("/routing")]);
  if (!t.ok || !a.ok || !r.ok) return;
  teamsData = t.data; agentsData = a.data; routesData = r.data.routes;
  const box = $("teams-panel"); box.replaceChildren();
  box.append(el("h2", "", T("title")), el("p", "meta", T("help")), teamsTable(), newTeamForm(), resultBox("teams-result"));
  box.append(el("h3", "", T("agents_title")), el("p", "meta", T("any_language")), agentsTable(), resultBox("agents-result"));
  box.append(el("h3", "", T("routing_title")), el("p", "meta", T("routing_help")), routingTable(), resultBox("routing-result"));
}
loaders.teams = loadTeams;

function resultBox(id) { const box = el("div"); box.id = id; return box; }
function headerRow(...labels) { const tr = el("tr"); for (const label of labels) tr.appendChild(el("th", "", label)); return tr; }
function cell(...children) { const td = el("td"); td.append(...children); return td; }
function teamLabel(key) { const team = teamsData.find(x => x.key === key); return team ? team.name : key; }

// A change, then the tab drawn afresh (on success) and the outcome shown under `boxId`.
async function change(boxId, path, method, body) {
  const r = await api(path, method, body);
  if (r.ok) await loadTeams();
  showResult($(boxId), r, method === "DELETE" ? S.deleted : T("saved"));
  return r;
}

// ---------- teams and their members ----------
function teamsTable() {
  const table = el("table"); table.id = "teams-table";
  table.appendChild(headerRow(T("key"), T("name"), T("members"), T("categories"), T("open_tickets"), ""));
  for (const team of teamsData) table.appendChild(teamRow(team));
  return table;
}
function teamRow(team) {
  const tr = el("tr"); tr.dataset.team = team.key;
  const name = el("input", "team-name"); name.type = "text"; name.value = team.name; name.maxLength = 80;
  const rename = button(T("rename"), () => change("teams-result", "/teams/" + team.key, "PUT", {name: name.value}));
  rename.className = "rename-team";
  const members = el("div");
  for (const agent of agentsData) members.appendChild(memberCheckbox(agent, team.members.includes(agent.username)));
  const saveMembers = button(T("save_members"), () => change("teams-result", "/teams/" + team.key + "/members", "PUT",
    {members: [...members.querySelectorAll(".team-member:checked")].map(c => c.value)}));
  saveMembers.className = "save-members";
  const categories = listed(team.categories.map(c => S["category." + c] || c)) || T("none");
  const remove = button(T("delete"), () => {
    if (confirm(fmt(T("confirm_delete"), {name: team.name}))) change("teams-result", "/teams/" + team.key, "DELETE");
  }, "danger delete-team");
  tr.append(el("td", "", team.key), cell(name, rename), cell(members, saveMembers), el("td", "", categories),
    el("td", "", String(team.open_tickets)), cell(remove));
  return tr;
}
function memberCheckbox(agent, checked) {
  const label = el("label", "row"), box = el("input", "team-member");
  box.type = "checkbox"; box.value = agent.username; box.checked = checked;
  label.append(box, el("span", "", agent.display_name + " (" + agent.username + ")"));
  return label;
}
function newTeamForm() {
  const row = el("div", "row");
  const key = el("input"); key.type = "text"; key.id = "new-team-key"; key.placeholder = T("key"); key.maxLength = 32;
  const name = el("input"); name.type = "text"; name.id = "new-team-name"; name.placeholder = T("name"); name.maxLength = 80;
  const create = button(T("create"), () => change("teams-result", "/teams", "POST", {key: key.value.trim(), name: name.value}), "primary");
  create.id = "create-team";
  row.append(el("strong", "", T("new_team")), key, name, create, el("span", "meta", T("key_help")));
  return row;
}

// ---------- agents: teams (read here, set above) and languages ----------
function agentsTable() {
  const table = el("table"); table.id = "agents-table";
  table.appendChild(headerRow(T("agent"), T("availability"), T("agent_teams"), T("languages"), T("team_lead")));
  for (const agent of agentsData) table.appendChild(agentRow(agent));
  return table;
}
function agentRow(agent) {
  const tr = el("tr"); tr.dataset.agent = agent.username;
  const who = cell(el("strong", "", agent.display_name), el("span", "meta", " " + agent.username));
  if (!agent.active) who.appendChild(el("span", "badge bad", T("disabled")));
  const teams = listed(agent.teams.map(teamLabel)) || T("every_team");
  const languages = el("span");
  for (const code of DATA.languages) {
    const label = el("label"), box = el("input", "agent-language");
    box.type = "checkbox"; box.value = code; box.checked = agent.languages.includes(code);
    label.append(box, " " + languageName(code) + " "); languages.appendChild(label);
  }
  const save = button(T("save_languages"), () => change("agents-result", "/agents/" + encodeURIComponent(agent.username), "PUT",
    {languages: [...languages.querySelectorAll(".agent-language:checked")].map(c => c.value)}));
  save.className = "save-languages";
  tr.append(who, el("td", "", S["availability." + agent.availability] || agent.availability), el("td", "", teams), cell(languages, save),
    cell(teamLeadCheckbox(agent)));
  return tr;
}
// Team leads read the insights in their console; the change is saved as soon as it is ticked.
function teamLeadCheckbox(agent) {
  const label = el("label", "row"), box = el("input", "agent-team-lead");
  box.type = "checkbox"; box.checked = agent.team_lead; box.title = T("team_lead_help");
  box.onchange = () => change("agents-result", "/agents/" + encodeURIComponent(agent.username), "PUT", {team_lead: box.checked});
  label.append(box, el("span", "meta", T("team_lead_help")));
  return label;
}

// ---------- routing: category -> team ----------
function routingTable() {
  const wrap = el("div"), table = el("table"); table.id = "routing-table";
  table.appendChild(headerRow(T("category"), T("team")));
  for (const [category, key] of Object.entries(routesData)) {
    const tr = el("tr"); tr.dataset.category = category;
    const select = el("select", "route-team"); select.dataset.category = category;
    if (key === null) select.appendChild(el("option", "", "–"));
    for (const team of teamsData) { const o = el("option", "", team.name + " (" + team.key + ")"); o.value = team.key; select.appendChild(o); }
    if (key !== null) select.value = key; else select.value = "–";
    tr.append(el("td", "", S["category." + category] || category), cell(select));
    table.appendChild(tr);
  }
  const save = button(T("save_routing"), () => {
    const routes = {};
    for (const select of table.querySelectorAll(".route-team")) if (select.value !== "–") routes[select.dataset.category] = select.value;
    change("routing-result", "/routing", "PUT", {routes});
  }, "primary");
  save.id = "save-routing";
  wrap.append(table, save);
  return wrap;
}
