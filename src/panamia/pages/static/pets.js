// Pet sitting: a price preview while dates are chosen. The server prices the booking itself;
// without JavaScript the form works the same and the total shows after sending.
"use strict";

function nightsBetween(start, end) {
  const a = Date.parse(start + "T00:00:00Z"), b = Date.parse(end + "T00:00:00Z");
  if (Number.isNaN(a) || Number.isNaN(b)) return null;
  return Math.round((b - a) / 86400000);
}

function previewPrice(form) {
  const out = form.querySelector(".price-preview");
  const start = form.querySelector("[name=startDate]"), end = form.querySelector("[name=endDate]");
  if (!out || !start || !end) return;
  const perNight = Number(form.dataset.price);
  const money = new Intl.NumberFormat(undefined, { style: "currency", currency: form.dataset.currency || "USD" });
  const update = () => {
    const nights = nightsBetween(start.value, end.value);
    if (nights === null) return;
    if (nights < 1) { out.textContent = "Check-out must be after the first night."; return; }
    // Cents as integers, so 3 × 45.10 shows 135.30, not 135.29999.
    const total = Math.round(perNight * 100) * nights / 100;
    out.textContent = nights + (nights === 1 ? " night" : " nights") + " × " + money.format(perNight) + " = " + money.format(total);
    for (const cell of document.querySelectorAll("td.day")) {
      const day = cell.dataset.date;
      cell.classList.toggle("chosen", day >= start.value && day < end.value);
    }
  };
  start.addEventListener("change", update);
  end.addEventListener("change", update);
  start.addEventListener("input", update);
  end.addEventListener("input", update);
  update();
}

document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("form[data-price]")) previewPrice(form);
});
