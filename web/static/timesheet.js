// The weekly timesheet (projects/timesheet.html): arrow keys move between cells, Enter saves the week,
// and the day and week totals follow what is typed.
(function () {
  function minutesOf(text) {
    text = (text || "").trim().toLowerCase().replace(/\s+/g, "");
    if (!text) return 0;
    var m;
    if ((m = text.match(/^(\d{1,3}):([0-5]\d)$/))) return +m[1] * 60 + +m[2];
    if ((m = text.match(/^(\d+)m(in)?$/))) return +m[1];
    if ((m = text.match(/^(\d+(?:[.,]\d+)?)h?$/))) return Math.round(parseFloat(m[1].replace(",", ".")) * 60);
    if ((m = text.match(/^(?:(\d+(?:[.,]\d+)?)h)?(?:(\d+)m(?:in)?)?$/)) && (m[1] || m[2]))
      return Math.round(parseFloat((m[1] || "0").replace(",", ".")) * 60) + +(m[2] || 0);
    return NaN;
  }
  function hm(minutes) { return Math.floor(minutes / 60) + ":" + String(minutes % 60).padStart(2, "0"); }
  function totals(sheet) {
    var days = [0, 0, 0, 0, 0, 0, 0], week = 0, bad = false;
    sheet.querySelectorAll("tbody tr[data-row]").forEach(function (row) {
      var sum = 0;
      row.querySelectorAll("input[data-day]").forEach(function (input) {
        var value = minutesOf(input.value);
        input.classList.toggle("bad", isNaN(value));
        if (isNaN(value)) { bad = true; return; }
        days[+input.getAttribute("data-day")] += value; sum += value;
      });
      var cell = row.querySelector("[data-row-total]");
      if (cell) cell.textContent = hm(sum);
      week += sum;
    });
    days.forEach(function (value, index) {
      var cell = sheet.querySelector("[data-day-total='" + index + "']");
      if (cell) cell.textContent = hm(value);
    });
    var total = sheet.querySelector("[data-week-total]");
    if (total) total.textContent = hm(week);
  }
  document.addEventListener("DOMContentLoaded", function () {
    var sheet = document.querySelector("[data-timesheet]");
    if (!sheet) return;
    sheet.addEventListener("input", function () { totals(sheet); });
    sheet.addEventListener("keydown", function (event) {
      var input = event.target;
      if (!input.matches || !input.matches("input[data-day]")) return;
      var cell = input.closest("td"), row = input.closest("tr"), moves = {ArrowUp: -1, ArrowDown: 1};
      var target = null;
      if (event.key in moves) {
        var rows = Array.prototype.slice.call(sheet.querySelectorAll("tbody tr[data-row]"));
        var next = rows[rows.indexOf(row) + moves[event.key]];
        if (next) target = next.querySelector("input[data-day='" + input.getAttribute("data-day") + "']");
      } else if ((event.key === "ArrowLeft" && input.selectionStart === 0) ||
                 (event.key === "ArrowRight" && input.selectionEnd === input.value.length)) {
        var sibling = event.key === "ArrowLeft" ? cell.previousElementSibling : cell.nextElementSibling;
        target = sibling && sibling.querySelector("input[data-day]");
      }
      if (target) { event.preventDefault(); target.focus(); target.select(); }
    });
  });
})();
