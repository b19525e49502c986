// Small enhancements on top of pages that work without JavaScript.
"use strict";

// Screenname: say whether the name is free while it is typed. The form still posts
// normally, and the server checks again when it is saved.
function checkScreennames() {
  for (const input of document.querySelectorAll("input[data-screenname-check]")) {
    const status = document.getElementById(input.id + "-status")
      || input.form.querySelector(".check-status");
    if (!status) continue;
    let timer = null;
    let latest = 0;
    const say = (text, state) => {
      status.textContent = text;
      status.className = "check-status" + (state ? " " + state : "");
    };
    input.addEventListener("input", () => {
      clearTimeout(timer);
      const name = input.value.trim().toLowerCase();
      if (!name) return say("", "");
      if (name === input.dataset.current) return say("This is your screenname.", "ok");
      timer = setTimeout(async () => {
        const asked = ++latest;
        try {
          const url = input.dataset.screennameCheck + "?name=" + encodeURIComponent(name);
          const response = await fetch(url, { headers: { Accept: "application/json" } });
          if (!response.ok) throw new Error(String(response.status));
          const answer = await response.json();
          if (asked !== latest) return; // a newer check is on its way
          if (answer.available) say("✓ @" + name + " is available.", "ok");
          else say("✗ " + (answer.reason || "That name cannot be used."), "taken");
        } catch (error) {
          say("", ""); // the check is a convenience; saving still tells
        }
      }, 300);
    });
  }
}

// After a form comes back with errors, bring the summary into view and focus.
function focusErrors() {
  const summary = document.getElementById("error-summary");
  if (summary) summary.focus();
}

// Opening hours: "Same hours every weekday" copies Monday's row to Tuesday to Friday as it
// is typed. Saving does the same on the server, with or without this.
function sameWeekdays() {
  const box = document.querySelector("input[data-same-weekdays]");
  if (!box) return;
  const monday = (part) => document.getElementById("hours.monday." + part);
  const copy = () => {
    if (!box.checked) return;
    for (const day of ["tuesday", "wednesday", "thursday", "friday"]) {
      for (const part of ["open", "close"]) {
        document.getElementById(`hours.${day}.${part}`).value = monday(part).value;
      }
      document.getElementById(`hours.${day}.closed`).checked = monday("closed").checked;
    }
  };
  box.addEventListener("change", copy);
  document.getElementById("hours.monday").addEventListener("input", copy);
}

document.addEventListener("DOMContentLoaded", () => {
  checkScreennames();
  sameWeekdays();
  focusErrors();
});
