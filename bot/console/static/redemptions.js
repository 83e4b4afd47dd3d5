// Agent console, the points mall in the profile panel: the member's redemptions (codes and
// addresses masked until the agent reveals the ticket's personal data) and cancelling one with
// a reason the customer is told. Loaded before console.js, whose helpers (el, fmt, api, S,
// shown, current, renderTicket) these functions use once the page runs.
"use strict";
let cancelDraft = null;  // {redemption, value}: an open cancel form survives live redraws

function redemptionsSection(t) {
  const box = el("section"); box.id = "redemptions";
  box.appendChild(el("h3", "", S.redemptions));
  const items = (t.profile && t.profile.redemptions) || [];
  if (!items.length) { box.appendChild(el("p", "empty", S.no_redemptions)); return box; }
  const seen = (shown[t.id] && shown[t.id].redemptions) || {};
  items.forEach(r => box.appendChild(redemptionRow(t, r, seen[String(r.id)])));
  return box;
}

function redemptionRow(t, r, revealed) {
  const row = el("div", "redemption"); row.dataset.redemption = r.id; row.dataset.status = r.status;
  row.appendChild(el("div", "", r.redeemed + " · " + r.reward + " · " + fmt(S.redemption_points, {points: r.points.toLocaleString()})));
  const state = el("span", "chip redemption-status " + r.status, r.status_label); row.appendChild(state);
  if (r.code) row.appendChild(el("div", "redemption-code", S.redemption_code_label + ": " + (revealed ? revealed.code : r.code)));
  if (revealed && revealed.delivery_address) row.appendChild(el("div", "", S.redemption_address_label + ": " + revealed.delivery_address));
  if (r.status === "cancelled") {
    row.appendChild(el("div", "empty", fmt(S.redemption_cancelled_because, {date: r.cancelled, reason: r.cancel_reason})));
  } else if (cancelDraft && cancelDraft.redemption === r.id) {
    row.appendChild(cancelForm(t, r));
  } else {
    const open = el("button", "redemption-cancel", S.redemption_cancel); open.type = "button";
    open.onclick = () => { cancelDraft = {redemption: r.id, value: ""}; renderTicket(current); focusCancelReason(); };
    row.appendChild(open);
  }
  return row;
}

function cancelForm(t, r) {
  const form = el("form", "cancel-form"); form.id = "cancel-form";
  const reason = el("input"); reason.id = "cancel-reason"; reason.maxLength = 500; reason.value = cancelDraft.value;
  reason.placeholder = S.redemption_cancel_reason; reason.setAttribute("aria-label", S.redemption_cancel_reason);
  reason.oninput = () => { cancelDraft.value = reason.value; };
  const confirm = el("button", "danger", S.redemption_cancel_confirm); confirm.type = "submit"; confirm.id = "cancel-confirm";
  const back = el("button", "", S.redemption_cancel_back); back.type = "button";
  back.onclick = () => { cancelDraft = null; renderTicket(current); };
  form.appendChild(reason); form.appendChild(confirm); form.appendChild(back);
  form.onsubmit = async e => {
    e.preventDefault();
    if (!reason.value.trim()) { alert(S.redemption_cancel_need_reason); return; }
    const data = await api("/tickets/" + t.id + "/redemptions/" + r.id + "/cancel", "POST", {reason: reason.value});
    if (!data) return;
    cancelDraft = null;
    const fresh = await api("/tickets/" + t.id);
    if (fresh && current && current.id === t.id) { Object.assign(current, fresh); renderTicket(current); }
    const done = document.getElementById("redemptions");
    if (done) done.appendChild(el("p", "notice", fmt(S.redemption_cancel_done, {points: data.points_returned.toLocaleString()})));
  };
  return form;
}

function focusCancelReason() { const input = document.getElementById("cancel-reason"); if (input) input.focus(); }
