// Operator console, Rewards tab: the points mall's catalog (create, edit, pause, resume, delete;
// both languages side by side; each reward's image as a thumbnail) and the Redemptions view (the
// report per reward, per tier and in total, with CSV links, the warehouse's to-ship list, and the
// redemptions of the period a page at a time). Uses the helpers of
// operator.js (el, button, api, fmt, S, $) and registers its loader there; every text comes from
// DATA.strings. Times are shown and typed in the shop's time zone, as the API gives them.
"use strict";
(() => {
  const R = key => S["rewards." + key];
  const TIERS = ["bronze", "silver", "gold", "platinum"];  // bot.db.models.TIERS, in order
  const KINDS = ["voucher", "coupon", "gift"];
  const LOW_STOCK = 3;  // at or below: shown in red
  const languageLabel = code => code === "zh" ? "中文" : "English";
  const number = value => Number(value).toLocaleString(DATA.lang === "zh" ? "zh-CN" : "en-GB");
  const listed = items => items.join(DATA.lang === "zh" ? "、" : ", ");
  const localTime = iso => iso ? iso.slice(0, 16).replace("T", " ") : "";  // already in the shop's zone
  const nameOf = reward => (reward.texts[DATA.lang] || reward.texts.en || {name: reward.code}).name;
  let rewards = [], view = "catalog", report = null, listPage = 1;

  const style = document.createElement("style");
  style.textContent = "#rewards-table td.stock.low { color: #b91c1c; font-weight: 600; }" +
    " #reward-editor .invalid { outline: 2px solid #b91c1c; } #rewards-views button.active { font-weight: 600; }" +
    " #rewards-panel tr.total td { font-weight: 600; border-top: 2px solid #e5e7eb; } td.num { text-align: right; }" +
    " #rewards-table img.thumbnail { width: 48px; height: 48px; object-fit: cover; border-radius: 4px; display: block; }";
  document.head.appendChild(style);

  async function loadRewards() {
    const box = $("rewards-panel"); box.replaceChildren();
    box.append(el("h2", "", R("title")), viewButtons());
    const body = el("div"); body.id = "rewards-body"; box.appendChild(body);
    if (view === "catalog") await drawCatalog(body); else await drawRedemptions(body);
  }
  loaders.rewards = loadRewards;

  function viewButtons() {
    const row = el("div", "row"); row.id = "rewards-views";
    for (const name of ["catalog", "redemptions"]) {
      const b = button(R("view_" + name), () => { view = name; loadRewards(); });
      b.id = "rewards-view-" + name; b.classList.toggle("active", view === name);
      row.appendChild(b);
    }
    return row;
  }
  function resultBox() { const box = el("div"); box.id = "rewards-result"; return box; }

  // An answer shown under the editor: the text for success, else what the server said (a
  // reward changed by someone else since it was loaded, or its stock by members' redemptions:
  // say so, with the stock now, and a way to reload it).
  async function showOutcome(result, okText, reloadCode) {
    const box = $("rewards-result"); box.replaceChildren();
    if (result.ok) { box.appendChild(el("div", "ok", okText)); return; }
    const field = result.status === 409 ? result.data.field : null;
    const stale = field === "version" || field === "stock";
    let text = result.data.error || String(result.status);
    if (field === "version") text = R("stale");
    if (field === "stock" && reloadCode) {
      const now = await api("/rewards/" + reloadCode);
      if (now.ok) text = fmt(R("stock_changed"), {stock: now.data.stock === null ? R("unlimited") : number(now.data.stock)});
    }
    const shown = el("div", "errors", text); shown.id = "rewards-error"; box.appendChild(shown);
    if (stale && reloadCode) {
      const reload = button(R("reload"), async () => { await drawCatalogAgain(); const fresh = rewards.find(r => r.code === reloadCode); if (fresh) $("reward-editor").replaceWith(editor(fresh)); });
      reload.id = "reload-reward"; box.appendChild(reload);
    }
  }
  async function drawCatalogAgain() { await drawCatalog($("rewards-body"), true); }

  // ---------- the catalog ----------
  async function drawCatalog(body, keepEditor) {
    const r = await api("/rewards"); if (!r.ok) return;
    rewards = r.data;
    const editorBox = keepEditor && $("reward-editor"), result = keepEditor && $("rewards-result");
    body.replaceChildren(el("p", "meta", R("help")), catalogTable(), editorBox || editor(null), result || resultBox());
  }
  function catalogTable() {
    if (!rewards.length) { const none = el("p", "meta", R("none")); none.id = "rewards-table"; return none; }
    const table = el("table"); table.id = "rewards-table";
    const head = el("tr");
    for (const label of [R("image"), R("name"), R("kind"), R("cost"), R("stock"), R("eligibility"), R("validity"), R("status"), R("redeemed"), ""]) head.appendChild(el("th", "", label));
    table.appendChild(head);
    for (const reward of rewards) table.appendChild(rewardRow(reward));
    return table;
  }
  function rewardRow(reward) {
    const tr = el("tr"); tr.dataset.reward = reward.code;
    const name = el("td", "name"); name.append(el("strong", "", nameOf(reward)), el("div", "meta", reward.code));
    const low = reward.stock !== null && reward.stock <= LOW_STOCK;
    const stock = el("td", "stock num" + (low ? " low" : ""), reward.stock === null ? R("unlimited") : number(reward.stock));
    if (low) stock.title = fmt(R("low_stock"), {stock: reward.stock});
    const status = el("td", "status");
    status.appendChild(el("span", "badge " + (reward.status === "active" ? "good" : "bad"), R("statuses." + reward.status)));
    if (reward.unavailable && reward.unavailable !== "paused") status.appendChild(el("span", "badge bad unavailable", R("unavailable." + reward.unavailable)));
    tr.append(imageCell(reward), name, el("td", "kind", R("kinds." + reward.kind)), el("td", "cost num", fmt(R("points_value"), {points: number(reward.points_cost)})),
      stock, eligibilityCell(reward), el("td", "validity", validityText(reward)), status, el("td", "redeemed num", number(reward.redeemed)), actionsCell(reward));
    return tr;
  }
  // The image address the operator gave (http or https, checked by the server), small; it is
  // loaded from that site without telling it which page asked.
  function imageCell(reward) {
    const td = el("td", "image");
    if (!reward.image_url) return td;
    const img = el("img", "thumbnail"); img.src = reward.image_url; img.alt = nameOf(reward);
    img.loading = "lazy"; img.referrerPolicy = "no-referrer"; td.appendChild(img);
    return td;
  }
  function eligibilityCell(reward) {
    const td = el("td", "eligibility");
    if (!reward.tiers.length && !reward.tags.length) td.appendChild(el("div", "", R("every_member")));
    if (reward.tiers.length) td.appendChild(el("div", "tiers", fmt(R("tiers_only"), {tiers: listed(reward.tiers.map(t => R("tier_names." + t)))})));
    if (reward.tags.length) td.appendChild(el("div", "tags", fmt(R("tags_only"), {tags: listed(reward.tags)})));
    if (reward.per_member_limit !== null) td.appendChild(el("div", "meta", fmt(R("limit_line"), {limit: reward.per_member_limit})));
    return td;
  }
  function validityText(reward) {
    const from = localTime(reward.valid_from), to = localTime(reward.valid_to);
    if (from && to) return fmt(R("from_to"), {from, to});
    if (from) return fmt(R("from_only"), {from});
    if (to) return fmt(R("to_only"), {to});
    return R("always");
  }
  function actionsCell(reward) {
    const td = el("td"); td.style.whiteSpace = "nowrap";
    const edit = button(R("edit"), () => { $("reward-editor").replaceWith(editor(reward)); $("rewards-result").replaceChildren(); }, "edit-reward");
    const paused = reward.status === "paused";
    const toggle = button(R(paused ? "resume" : "pause"), () => change("/rewards/" + reward.code + (paused ? "/resume" : "/pause"), "POST", undefined, R(paused ? "resumed_done" : "paused_done")),
      paused ? "resume-reward" : "pause-reward");
    const remove = button(R("delete"), () => {
      if (confirm(fmt(R("confirm_delete"), {name: nameOf(reward)}))) change("/rewards/" + reward.code, "DELETE", undefined, R("deleted"));
    }, "danger delete-reward");
    td.append(edit, " ", toggle, " ", remove);
    return td;
  }
  async function change(path, method, body, okText, reloadCode) {
    const r = await api(path, method, body);
    if (r.ok) await drawCatalogAgain();
    await showOutcome(r, okText, reloadCode);
    return r;
  }

  // ---------- the editor: a new reward (null) or an existing one ----------
  function input(id, type, value) { const i = el("input"); i.id = id; i.type = type; if (value !== undefined && value !== null) i.value = value; return i; }
  function labelled(label, control, help) {
    const row = el("div", "row"); row.append(el("span", "meta", label), control);
    if (help) row.appendChild(el("span", "meta", help));
    return row;
  }
  function editor(reward) {
    const box = el("div"); box.id = "reward-editor";
    box.appendChild(el("h3", "", reward ? fmt(R("editing"), {code: reward.code}) : R("new_reward")));
    const f = formControls(reward);
    const tierBox = el("span"); f.tiers.forEach(({label}) => tierBox.appendChild(label));
    const stockBox = el("span"); stockBox.append(f.stock, " ", f.unlimitedLabel);
    const columns = el("div", "columns");
    for (const code of DATA.languages) columns.appendChild(f.texts[code].box);
    box.append(labelled(R("code"), f.code, R("code_help")), labelled(R("kind"), f.kind), labelled(R("cost"), f.cost, R("cost_help")),
      labelled(R("stock"), stockBox, R("stock_help")), labelled(R("limit"), f.limit, R("limit_help")),
      labelled(R("tiers"), tierBox, R("tiers_help")), labelled(R("tags"), f.tags, R("tags_help")),
      labelled(R("valid_from"), f.from, R("times_help")), labelled(R("valid_to"), f.to), labelled(R("status"), f.status),
      labelled(R("image_url"), f.image, R("image_help")), columns);
    const initial = formValues(f);
    const save = button(R("save"), () => saveReward(reward, f, initial), "primary"); save.id = "save-reward";
    const actions = el("div", "row"); actions.appendChild(save);
    if (reward) {
      const fresh = button(R("new_instead"), () => { $("reward-editor").replaceWith(editor(null)); $("rewards-result").replaceChildren(); });
      fresh.id = "new-reward"; actions.appendChild(fresh);
    }
    box.appendChild(actions);
    return box;
  }
  function formControls(reward) {
    const code = input("reward-code", "text", reward ? reward.code : ""); code.maxLength = 40; code.disabled = !!reward;
    const kind = el("select"); kind.id = "reward-kind";
    for (const k of KINDS) { const o = el("option", "", R("kinds." + k)); o.value = k; kind.appendChild(o); }
    kind.value = reward ? reward.kind : "voucher";
    const cost = input("reward-cost", "number", reward ? reward.points_cost : ""); cost.min = 1;
    const stock = input("reward-stock", "number", reward && reward.stock !== null ? reward.stock : ""); stock.min = 0;
    const unlimited = input("reward-stock-unlimited", "checkbox"); unlimited.checked = !reward || reward.stock === null;
    stock.disabled = unlimited.checked; unlimited.onchange = () => { stock.disabled = unlimited.checked; };
    const unlimitedLabel = el("label"); unlimitedLabel.append(unlimited, " " + R("stock_unlimited"));
    const limit = input("reward-limit", "number", reward ? reward.per_member_limit : ""); limit.min = 1;
    const tiers = TIERS.map(tier => {
      const box = input("reward-tier-" + tier, "checkbox"); box.className = "reward-tier"; box.value = tier;
      box.checked = !!reward && reward.tiers.includes(tier);
      const label = el("label"); label.append(box, " " + R("tier_names." + tier) + " ");
      return {tier, box, label};
    });
    const tags = input("reward-tags", "text", reward ? reward.tags.join(", ") : ""); tags.style.minWidth = "260px";
    const from = input("reward-from", "datetime-local", reward ? localTime(reward.valid_from).replace(" ", "T") : "");
    const to = input("reward-to", "datetime-local", reward ? localTime(reward.valid_to).replace(" ", "T") : "");
    const status = el("select"); status.id = "reward-status";
    for (const s of ["active", "paused"]) { const o = el("option", "", R("statuses." + s)); o.value = s; status.appendChild(o); }
    status.value = reward ? reward.status : "active";
    const image = input("reward-image", "text", reward ? reward.image_url : ""); image.maxLength = 500; image.style.minWidth = "320px";
    const texts = {};
    for (const language of DATA.languages) texts[language] = textFields(language, reward && reward.texts[language]);
    return {code, kind, cost, stock, unlimited, unlimitedLabel, limit, tiers, tags, from, to, status, image, texts};
  }
  function textFields(language, entry) {
    const box = el("div"); box.dataset.language = language;
    const name = input("reward-name-" + language, "text", entry ? entry.name : ""); name.maxLength = 120; name.style.width = "100%";
    const description = el("textarea"); description.id = "reward-description-" + language; description.maxLength = 1000;
    description.value = entry ? entry.description : "";
    box.append(el("strong", "", languageLabel(language)), el("div", "meta", R("text_name")), name, el("div", "meta", R("text_description")), description);
    return {box, name, description};
  }
  const whole = input => input.value.trim() === "" ? null : Number(input.value);
  function formValues(f) {
    return {
      kind: f.kind.value, points_cost: whole(f.cost), stock: f.unlimited.checked ? null : whole(f.stock),
      per_member_limit: whole(f.limit), tiers: f.tiers.filter(t => t.box.checked).map(t => t.tier),
      tags: f.tags.value.split(/[\s,，、]+/).filter(Boolean), valid_from: f.from.value || null, valid_to: f.to.value || null,
      status: f.status.value, image_url: f.image.value.trim() || null,
      texts: Object.fromEntries(DATA.languages.map(code => [code, {name: f.texts[code].name.value, description: f.texts[code].description.value}])),
    };
  }
  // A new reward sends every field; an edit only the fields changed in the form, with the
  // version it was loaded at (the audit log then says exactly what the operator changed), and a
  // stock change with the stock it was loaded at: members' redemptions since are not undone.
  async function saveReward(reward, f, initial) {
    const values = formValues(f);
    for (const control of $("reward-editor").querySelectorAll(".invalid")) control.classList.remove("invalid");
    let r;
    if (!reward) {
      r = await change("/rewards", "POST", {code: f.code.value.trim(), ...values}, R("saved"));
    } else {
      const body = {version: reward.version};
      for (const [key, value] of Object.entries(values)) if (JSON.stringify(value) !== JSON.stringify(initial[key])) body[key] = value;
      if ("stock" in body) body.stock_was = reward.stock;
      r = await change("/rewards/" + reward.code, "PUT", body, R("saved"), reward.code);
    }
    if (!r.ok) { markField(f, r.data.field); return; }
    const saved = rewards.find(x => x.code === r.data.code);  // the editor goes on with the saved reward
    if (saved) $("reward-editor").replaceWith(editor(saved));
  }
  function markField(f, field) {  // the request field the server named, on the form
    if (!field) return;
    const [name, language, part] = field.split(".");
    const controls = {code: f.code, kind: f.kind, points_cost: f.cost, stock: f.stock, per_member_limit: f.limit, tags: f.tags,
      tiers: f.tiers[0] && f.tiers[0].box, valid_from: f.from, valid_to: f.to, status: f.status, image_url: f.image};
    const control = name === "texts" && f.texts[language] ? f.texts[language][part === "description" ? "description" : "name"] : controls[name];
    if (control) { control.classList.add("invalid"); control.focus(); }
  }

  // ---------- the redemptions report ----------
  async function drawRedemptions(body, from, to) {
    const query = from || to ? "?" + new URLSearchParams({from: from || "", to: to || ""}) : "";
    const r = await api("/redemptions/report" + query);
    body.replaceChildren();
    const picker = el("div", "row");
    const fromInput = input("report-from", "date", r.ok ? r.data.from : from), toInput = input("report-to", "date", r.ok ? r.data.to : to);
    const show = button(R("show"), () => { listPage = 1; drawRedemptions(body, fromInput.value, toInput.value); }, "primary"); show.id = "show-report";
    picker.append(el("span", "meta", R("report_from")), fromInput, el("span", "meta", R("report_to")), toInput, show);
    body.appendChild(picker);
    if (!r.ok) { const error = el("div", "errors", r.data.error || String(r.status)); error.id = "report-error"; body.appendChild(error); return; }
    report = r.data;
    const span = new URLSearchParams({from: report.from, to: report.to}).toString();
    body.append(el("p", "meta", fmt(R("report_help"), {zone: report.timezone})), totalsLine(report.totals),
      el("h3", "", R("by_reward")), reportTable("by_reward", report.by_reward, row => (row.names[DATA.lang] || row.reward)), csvLink("by_reward", span),
      el("h3", "", R("by_tier")), reportTable("by_tier", report.by_tier, row => R("tier_names." + row.tier) || row.tier), csvLink("by_tier", span),
      toShipLink(), el("h3", "", R("list_title")));
    const list = el("div"); list.id = "redemptions-list"; body.appendChild(list);
    await drawList(list, span);
  }
  function totalsLine(totals) {
    const line = el("p"); line.id = "report-totals";
    const parts = ["redemptions", "points_spent", "cancelled", "points_returned", "net_points", "members"].map(key => {
      const part = el("span", "total-" + key); part.dataset.value = totals[key];
      part.append(R(key) + ": ", el("strong", "", number(totals[key])));
      return part;
    });
    parts.forEach((part, index) => { if (index) line.append(" · "); line.appendChild(part); });
    return line;
  }
  const FIGURES = ["redemptions", "points_spent", "cancelled", "points_returned", "net_points"];
  function reportTable(key, rows, label) {
    const table = el("table"); table.id = "report-" + key.replace("_", "-");
    const head = el("tr"); head.appendChild(el("th", "", R(key === "by_reward" ? "reward" : "tier")));
    for (const figure of FIGURES) head.appendChild(el("th", "", R(figure)));
    table.appendChild(head);
    for (const row of rows) {
      const tr = el("tr"); tr.dataset.key = row.reward || row.tier; tr.appendChild(el("td", "", label(row)));
      for (const figure of FIGURES) { const td = el("td", "num " + figure, number(row[figure])); td.dataset.value = row[figure]; tr.appendChild(td); }
      table.appendChild(tr);
    }
    const total = el("tr", "total"); total.appendChild(el("td", "", R("total")));
    for (const figure of FIGURES) { const td = el("td", "num " + figure, number(report.totals[figure])); td.dataset.value = report.totals[figure]; total.appendChild(td); }
    table.appendChild(total);
    return table;
  }
  function csvLink(table, span) {
    const link = el("a", "csv", R("csv")); link.id = "report-csv-" + table.replace("_", "-");
    link.href = "/operator/api/redemptions/report/" + table + ".csv?" + span; link.download = "";
    const p = el("p"); p.appendChild(link); return p;
  }
  function toShipLink() {  // every gift waiting, whatever the period: the warehouse's list
    const box = el("div"); box.id = "to-ship";
    const link = el("a", "csv", R("to_ship_csv")); link.id = "to-ship-csv";
    link.href = "/operator/api/redemptions/to-ship.csv"; link.download = "";
    box.append(el("h3", "", R("redemption_status.to_ship")), el("p", "meta", R("to_ship_help")), link);
    return box;
  }
  async function drawList(list, span) {
    const r = await api("/redemptions?" + span + "&page=" + listPage);
    list.replaceChildren();
    if (!r.ok) { list.appendChild(el("div", "errors", r.data.error || String(r.status))); return; }
    if (!r.data.redemptions.length) { list.appendChild(el("p", "meta", R("no_redemptions"))); return; }
    const table = el("table"); table.id = "redemptions-table";
    const head = el("tr");
    for (const label of [R("when"), R("reward"), R("member"), R("tier"), R("points"), R("status")]) head.appendChild(el("th", "", label));
    table.appendChild(head);
    for (const item of r.data.redemptions) {
      const tr = el("tr"); tr.dataset.redemption = item.id;
      tr.append(el("td", "", localTime(item.created_at)), el("td", "", item.names[DATA.lang] || item.reward), el("td", "", item.member),
        el("td", "", R("tier_names." + item.member_tier) || item.member_tier), el("td", "num", number(item.points)),
        el("td", "status", R("redemption_status." + item.status) || item.status));
      table.appendChild(tr);
    }
    const pages = Math.max(1, Math.ceil(r.data.total / r.data.per_page));
    const paging = el("div", "row");
    const previous = button(R("previous"), () => { listPage -= 1; drawList(list, span); }); previous.disabled = listPage <= 1;
    const next = button(R("next"), () => { listPage += 1; drawList(list, span); }); next.disabled = listPage >= pages;
    paging.append(previous, el("span", "meta", fmt(R("page"), {page: listPage, pages})), next);
    list.append(table, paging);
  }
})();
