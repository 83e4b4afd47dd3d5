// The insights pages' period picker: only the fields the chosen kind of period needs are
// shown, and a period that needs nothing more is shown at once. Without JavaScript every
// field shows and the Show button does the same; the page itself is drawn by the server.
"use strict";
(function () {
  const form = document.getElementById("period-form");
  if (!form) return;
  const kind = form.querySelector("#period-kind");
  const needs = {today: [], day: ["date"], week: ["date"], month: ["date"], year: ["date"], custom: ["range"]};

  function showFields() {
    const wanted = needs[kind.value] || [];
    for (const field of form.querySelectorAll("[data-field]")) {
      const shown = wanted.includes(field.dataset.field);
      field.hidden = !shown;
      for (const input of field.querySelectorAll("input")) input.disabled = !shown;  // not sent when hidden
    }
  }

  kind.addEventListener("change", () => {
    showFields();
    if (kind.value !== "custom") form.requestSubmit();
  });
  showFields();
})();
