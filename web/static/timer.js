// The running timer's bar (projects/_timer_bar.html): tick its clock and the page title each 20 seconds.
// The server owns the timer; this only shows the time since its start.
(function () {
  function tick() {
    var bar = document.querySelector("[data-timer-started]");
    if (!bar) return;
    var started = Date.parse(bar.getAttribute("data-timer-started"));
    if (isNaN(started)) return;
    var minutes = Math.max(0, Math.floor((Date.now() - started) / 60000));
    var text = Math.floor(minutes / 60) + ":" + String(minutes % 60).padStart(2, "0");
    var clock = bar.querySelector("[data-timer-clock]");
    if (clock) clock.textContent = text;
    document.title = document.title.replace(/^▶ \d+:\d\d/, "▶ " + text);
  }
  document.addEventListener("DOMContentLoaded", function () { tick(); setInterval(tick, 20000); });
})();
