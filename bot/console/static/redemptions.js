// Agent console, the points mall in the profile panel: the member's redemptions (codes, addresses
// and tracking numbers masked until the agent reveals the ticket's personal data), cancelling one
// with a reason the customer is told, and marking a gift shipped with an optional carrier and
// tracking number the customer is told. Loaded before console.js, whose helpers (el, fmt, api, S,
// shown, current, renderTicket) these functions use once the page runs.
"use strict";
// The one form open in the panel, {redemption, kind: "cancel" | "ship", values}: it survives live redraws.
let redemptionDraft = null;
// What the last cancel or ship did, {ticket, lines}: shown under the list until the agent opens
// another ticket or form, so a live redraw (the ticket changed) does not wipe it.
let redemptionOutcome = null;

function redemptionsSection(t) {
  const box = el("section"); box.id = "redemptions";
  box.appendChild(el("h3", "", S.redemptions));
  const items = (t.profile && t.profile.redemptions) || [];
  if (!items.length) box.appendChild(el("p", "empty", S.no_redemptions));
  const seen = (shown[t.id] && shown[t.id].redemptions) || {};
  items.forEach(r => box.appendChild(redemptionRow(t, r, seen[String(r.id)])));
  if (redemptionOutcome && redemptionOutcome.ticket === t.id) {
    redemptionOutcome.lines.forEach(line => box.appendChild(el("p", "notice", line)));
  }
  return box;
}

function redemptionRow(t, r, revealed) {
  const row = el("div", "redemption"); row.dataset.redemption = r.id; row.dataset.status = r.status;
  row.appendChild(el("div", "", r.redeemed + " · " + r.reward + " · " + fmt(S.redemption_points, {points: r.points.toLocaleString()})));
  const state = el("span", "chip redemption-status " + r.status, r.status_label); row.appendChild(state);
  if (r.code) row.appendChild(el("div", "redemption-code", S.redemption_code_label + ": " + (revealed ? revealed.code : r.code)));
  if (revealed && revealed.delivery_address) row.appendChild(el("div", "", S.redemption_address_label + ": " + revealed.delivery_address));
  if (r.shipped) row.appendChild(el("div", "redemption-shipped", r.carrier ? fmt(S.redemption_shipped_with, {date: r.shipped, carrier: r.carrier}) : fmt(S.redemption_shipped_on, {date: r.shipped})));
  if (revealed && revealed.tracking) row.appendChild(el("div", "redemption-tracking", S.redemption_tracking_label + ": " + revealed.tracking));
  if (r.used) row.appendChild(el("div", "redemption-used", fmt(S.redemption_used_on, {date: r.used})));
  if (r.status === "cancelled") {
    row.appendChild(el("div", "empty", fmt(S.redemption_cancelled_because, {date: r.cancelled, reason: r.cancel_reason})));
  } else if (redemptionDraft && redemptionDraft.redemption === r.id) {
    row.appendChild(redemptionDraft.kind === "ship" ? shipForm(t, r) : cancelForm(t, r));
  } else {
    if (r.to_ship) row.appendChild(openFormButton(r, "ship", "redemption-ship", S.redemption_ship, {carrier: "", tracking: ""}));
    if (r.can_cancel) row.appendChild(openFormButton(r, "cancel", "redemption-cancel", S.redemption_cancel, {reason: ""}));
  }
  return row;
}

function openFormButton(r, kind, className, label, values) {
  const open = el("button", className, label); open.type = "button";
  open.onclick = () => {
    redemptionDraft = {redemption: r.id, kind, values}; redemptionOutcome = null;
    renderTicket(current); focusDraft();
  };
  return open;
}

function draftInput(id, name, label, maxLength) {
  const input = el("input"); input.id = id; input.maxLength = maxLength; input.value = redemptionDraft.values[name];
  input.placeholder = label; input.setAttribute("aria-label", label);
  input.oninput = () => { redemptionDraft.values[name] = input.value; };
  return input;
}

function draftForm(id, fields, confirmText, confirmId, confirmClass, backText, onsubmit) {
  const form = el("form", id); form.id = id;
  fields.forEach(field => form.appendChild(field));
  const confirm = el("button", confirmClass, confirmText); confirm.type = "submit"; confirm.id = confirmId;
  const back = el("button", "", backText); back.type = "button";
  back.onclick = () => { redemptionDraft = null; renderTicket(current); };
  form.appendChild(confirm); form.appendChild(back);
  form.onsubmit = e => { e.preventDefault(); onsubmit(); };
  return form;
}

// After a change: the ticket again (the panel shows the new status), then what happened.
async function afterRedemptionChange(t, lines) {
  redemptionDraft = null;
  redemptionOutcome = {ticket: t.id, lines};
  const fresh = await api("/tickets/" + t.id);
  if (fresh && current && current.id === t.id) Object.assign(current, fresh);
  if (current && current.id === t.id) renderTicket(current);
}

function cancelForm(t, r) {
  const reason = draftInput("cancel-reason", "reason", S.redemption_cancel_reason, 500);
  return draftForm("cancel-form", [reason], S.redemption_cancel_confirm, "cancel-confirm", "danger", S.redemption_cancel_back, async () => {
    if (!reason.value.trim()) { alert(S.redemption_cancel_need_reason); return; }
    const data = await api("/tickets/" + t.id + "/redemptions/" + r.id + "/cancel", "POST", {reason: reason.value});
    if (!data) return;
    const points = data.points_returned.toLocaleString();
    await afterRedemptionChange(t, [fmt(data.restocked ? S.redemption_cancel_done : S.redemption_cancel_done_no_restock, {points})]
      .concat(data.customer_told ? [] : [S.redemption_not_told]));
  });
}

function shipForm(t, r) {
  const carrier = draftInput("ship-carrier", "carrier", S.redemption_ship_carrier, 60);
  const tracking = draftInput("ship-tracking", "tracking", S.redemption_ship_tracking, 40);
  return draftForm("ship-form", [carrier, tracking], S.redemption_ship_confirm, "ship-confirm", "primary", S.redemption_ship_back, async () => {
    const data = await api("/tickets/" + t.id + "/redemptions/" + r.id + "/ship", "POST",
      {carrier: carrier.value.trim() || null, tracking: tracking.value.trim() || null});
    if (!data) return;
    await afterRedemptionChange(t, [S.redemption_ship_done].concat(data.customer_told ? [] : [S.redemption_not_told]));
  });
}

function focusDraft() {
  const input = document.getElementById(redemptionDraft && redemptionDraft.kind === "ship" ? "ship-carrier" : "cancel-reason");
  if (input) input.focus();
}
