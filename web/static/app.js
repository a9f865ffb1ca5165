// Small progressive enhancements; no inline scripts (CSP: script-src 'self').
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
}, true);

// Backup page: passphrase strength (the same rough estimate as app/backup/logic.py).
function passphraseBits(text) {
  if (!text) return 0;
  var pool = 0;
  if (/[a-z]/.test(text)) pool += 26;
  if (/[A-Z]/.test(text)) pool += 26;
  if (/[0-9]/.test(text)) pool += 10;
  if (/[^A-Za-z0-9]/.test(text)) pool += 33;
  var seen = {}, effective = 0;
  for (var i = 0; i < text.length; i++) {
    var ch = text[i];
    seen[ch] = (seen[ch] || 0) + 1;
    if (seen[ch] <= 2) effective += 1;
  }
  return effective * Math.log2(Math.max(pool, 2));
}
document.addEventListener("input", function (event) {
  var input = event.target;
  var targetId = input.getAttribute && input.getAttribute("data-strength");
  if (!targetId) return;
  var out = document.getElementById(targetId);
  if (!out) return;
  var value = input.value, bits = passphraseBits(value);
  var minimum = parseInt(input.getAttribute("minlength") || "10", 10);
  var text = "";
  if (!value) text = "";
  else if (value.length < minimum) text = "Too short: at least " + minimum + " characters.";
  else if (bits < 50) text = "Strength: weak. Add words or characters.";
  else if (bits < 70) text = "Strength: fair.";
  else if (bits < 90) text = "Strength: good.";
  else text = "Strength: strong.";
  out.textContent = text;
});
// Long-running form posts say what is happening.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var busy = form.getAttribute && form.getAttribute("data-busy-text");
  if (!busy || event.defaultPrevented) return;
  var note = form.querySelector(".busy");
  if (note) { note.textContent = busy; note.hidden = false; setTimeout(function () { note.hidden = true; }, 15000); }
  var bar = form.querySelector("progress.apply-progress");
  if (bar) bar.hidden = false;   // an import being written: it runs as one transaction, so no percentage
});
// Uploads show their progress; a refused import still shows the page's explanation.
document.addEventListener("htmx:xhr:progress", function (event) {
  var form = event.target.closest && event.target.closest("[data-upload-progress]");
  if (!form || !event.detail.lengthComputable) return;
  var bar = form.querySelector(".upload-progress"), status = form.querySelector(".upload-status");
  var percent = Math.round(event.detail.loaded * 100 / event.detail.total);
  if (bar) { bar.hidden = false; bar.value = percent; }
  if (status) status.textContent = percent < 100 ? "Uploading… " + percent + "%" : (form.getAttribute("data-upload-done") || "Checking the backup… (decrypting and verifying every part)");
});
document.addEventListener("htmx:beforeSwap", function (event) {
  var source = event.detail.requestConfig && event.detail.requestConfig.elt;
  var status = event.detail.xhr && event.detail.xhr.status;
  if (source && source.hasAttribute && source.hasAttribute("data-swap-errors") && status >= 400 && status < 500) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});

// The document editor: Enter in a line never submits the form. In the last line it adds the
// next line (the server renders it and htmx puts the cursor in it); in an earlier line it
// moves to the same field of the next line, like a spreadsheet.
document.addEventListener("keydown", function (event) {
  if (event.key !== "Enter" || event.shiftKey || event.altKey || event.ctrlKey || event.metaKey || event.isComposing) {
    return;
  }
  var field = event.target;
  if (!(field instanceof HTMLInputElement) || !field.closest(".line-table")) {
    return;
  }
  event.preventDefault();
  var row = field.closest("tr.line");
  var rows = Array.prototype.slice.call(document.querySelectorAll(".line-table tr.line"));
  var position = rows.indexOf(row);
  if (position === rows.length - 1) {
    var add = document.getElementById("add-line");
    if (add) { add.click(); }
    return;
  }
  var name = (field.name || "").replace(/^lines-\d+-/, "");
  var next = rows[position + 1].querySelector('[name$="-' + name + '"]:not([type=hidden])');
  if (next) { next.focus(); if (next.select) { next.select(); } }
});
// Arriving in a line's field (by Tab, or after an item filled the line) selects its text, so
// typing replaces the quantity or price instead of adding to it.
document.addEventListener("focusin", function (event) {
  var field = event.target;
  if (field instanceof HTMLInputElement && field.closest(".line-table") && typeof field.select === "function") {
    field.select();
  }
});

// A drop zone (expenses: a receipt, a supplier's e-invoice): the file dropped or chosen is sent at once.
document.addEventListener("change", function (event) {
  var input = event.target;
  if (!input || input.type !== "file" || !input.files || !input.files.length) return;
  var form = input.closest && input.closest("form[data-submit-on-file]");
  if (form) form.requestSubmit ? form.requestSubmit() : form.submit();
});
