// Small progressive enhancements; no inline scripts (CSP: script-src 'self').

// What this script shows is written in the reader's language: the page carries the translations as data
// (base.html, <script type="application/json" id="client-text">, from app/web/client_text.py) and say()
// reads them, the English message itself when a translation is missing. {name} placeholders are filled.
var clientText = (function () {
  var element = document.getElementById("client-text");
  try { return element ? JSON.parse(element.textContent) : {}; } catch (error) { return {}; }
})();
function say(message, values) {
  var text = Object.prototype.hasOwnProperty.call(clientText, message) ? clientText[message] : message;
  return text.replace(/\{(\w+)\}/g, function (whole, name) {
    return values && Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole;
  });
}
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
  else if (value.length < minimum) text = say("Too short: at least {minimum} characters.", {minimum: minimum});
  else if (bits < 50) text = say("Strength: weak. Add words or characters.");
  else if (bits < 70) text = say("Strength: fair.");
  else if (bits < 90) text = say("Strength: good.");
  else text = say("Strength: strong.");
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
  if (status) status.textContent = percent < 100 ? say("Uploading… {percent}%", {percent: percent}) : (form.getAttribute("data-upload-done") || say("Checking the backup… (decrypting and verifying every part)"));
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

// -- Any screen (issue 15 point 4) --------------------------------------------------------------
// The main menu folds behind its button on a narrow screen. The button works without htmx; without
// scripts at all the menu simply stays open (the CSS folds only a .js-menu).
(function () {
  var nav = document.querySelector(".sidebar");
  var button = nav && nav.querySelector(".menu-button");
  if (!button) return;
  nav.classList.add("js-menu");
  button.setAttribute("aria-expanded", "false");
  function setOpen(open) {
    nav.classList.toggle("open", open);
    button.setAttribute("aria-expanded", open ? "true" : "false");
  }
  button.addEventListener("click", function () { setOpen(!nav.classList.contains("open")); });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && nav.classList.contains("open")) { setOpen(false); button.focus(); }
  });
})();

// Tables become lists on a small screen: each cell carries the heading of its column (data-label),
// which the CSS shows before the cell's content. Done again after htmx swaps rows in.
function labelTableCells(root) {
  var tables = (root && root.querySelectorAll ? root : document).querySelectorAll("table.table");
  if (root && root.matches && root.matches("table.table")) tables = [root];
  Array.prototype.forEach.call(tables, function (table) {
    var labels = [];
    Array.prototype.forEach.call(table.querySelectorAll("thead tr:last-child th"), function (th) {
      var hidden = th.querySelector(".sr-only");
      var text = th.textContent.replace(/\s+/g, " ").trim();
      // A heading only screen readers hear (a column of buttons, check boxes) labels nothing on screen.
      if (hidden && hidden.textContent.replace(/\s+/g, " ").trim() === text) text = "";
      for (var i = 0; i < (th.colSpan || 1); i++) labels.push(i === 0 ? text : "");
    });
    if (!labels.length) return;
    Array.prototype.forEach.call(table.querySelectorAll("tbody tr"), function (row) {
      var column = 0;
      Array.prototype.forEach.call(row.cells, function (cell) {
        if (!cell.hasAttribute("data-label") && labels[column] && (cell.colSpan || 1) === 1) {
          cell.setAttribute("data-label", labels[column]);
        }
        column += cell.colSpan || 1;
      });
    });
  });
}
labelTableCells(document);
document.addEventListener("htmx:afterSettle", function () { labelTableCells(document); });

// -- Any keyboard (issue 15 point 5) ------------------------------------------------------------
function isTyping(element) {
  if (!element) return false;
  var tag = element.tagName;
  return element.isContentEditable || tag === "TEXTAREA" || tag === "SELECT" ||
         (tag === "INPUT" && !/^(button|submit|reset|checkbox|radio|file|range|color)$/i.test(element.type));
}
function visible(element) {
  return !!(element && (element.offsetWidth || element.offsetHeight || element.getClientRects().length)) &&
         !element.closest("details:not([open]), [hidden]");
}
// The first field of the page's form has the cursor (a field with an error first), unless the page put it
// somewhere itself (autofocus) or the address points into the page.
document.addEventListener("DOMContentLoaded", function () {
  if (location.hash || document.querySelector("[autofocus]")) return;
  var active = document.activeElement;
  if (active && active !== document.body) return;
  var fields = "input:not([type=hidden]):not([type=checkbox]):not([type=radio]):not([type=file]):not([type=search]):not([disabled]):not([readonly]), select:not([disabled]), textarea:not([disabled])";
  var invalid = Array.prototype.filter.call(document.querySelectorAll("main [aria-invalid=true]"), visible)[0];
  if (invalid) { invalid.focus(); return; }
  // Not the document editor: the server puts the cursor in its first line when it has none, and a saved
  // draft opens where the user left nothing to type first.
  var forms = document.querySelectorAll("main form[method=post]:not(.filters):not([data-autosave]), .bare-main form[method=post]");
  // Only a field the page shows as it opens: a form further down (a list's "Books closed up to", a report's
  // "email it to") would scroll the page away from what the user came to read.
  for (var i = 0; i < forms.length; i++) {
    var first = Array.prototype.filter.call(forms[i].querySelectorAll(fields), visible)[0];
    if (first) {
      if (first.getBoundingClientRect().bottom <= window.innerHeight) { first.focus(); }
      return;
    }
  }
});
document.addEventListener("keydown", function (event) {
  var target = event.target;
  // Ctrl+Enter (Cmd+Enter) saves the form the cursor is in, with its main button.
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && !event.altKey) {
    var form = target && target.form || (target && target.closest && target.closest("form"));
    if (!form) return;
    event.preventDefault();
    var submitter = form.querySelector("button.primary[type=submit], button.primary:not([type])") ||
                    (form.id && document.querySelector('button.primary[type=submit][form="' + form.id + '"]')) || undefined;
    if (form.requestSubmit) form.requestSubmit(submitter); else form.submit();
    return;
  }
  // Escape closes every pop-over (a tax picker, a small form, a folded section) and gives the cursor
  // back to what opened it.
  if (event.key === "Escape") {
    var open = document.querySelectorAll("details[open]:not(.keep-open)");
    var inside = target && target.closest && target.closest("details[open]");
    var closing = inside || open[open.length - 1];
    if (closing && (closing.matches(".taxpick, .inline-details, .change-client, .popover") || inside)) {
      closing.removeAttribute("open");
      var summary = closing.querySelector("summary");
      if (summary) summary.focus();
      event.preventDefault();
    }
    return;
  }
  if (event.ctrlKey || event.metaKey || event.altKey || isTyping(target)) return;
  // "/" goes to the page's search field.
  if (event.key === "/") {
    var search = Array.prototype.filter.call(document.querySelectorAll("main input[type=search]"), visible)[0];
    if (search) { event.preventDefault(); search.focus(); search.select(); }
    return;
  }
  // "n" on a list starts a new one (the page's "New ..." link or button).
  if (event.key === "n" && !event.shiftKey) {
    var create = Array.prototype.filter.call(
      document.querySelectorAll("main .page-head a[href$='/new'], main [data-shortcut=new]"), visible)[0];
    if (create) { event.preventDefault(); create.click(); }
  }
});
// A pop-over (tax picker, small form) closes when the user clicks elsewhere.
document.addEventListener("click", function (event) {
  Array.prototype.forEach.call(document.querySelectorAll("details.taxpick[open], details.inline-details[open]"), function (details) {
    if (!details.contains(event.target)) details.removeAttribute("open");
  });
});

// -- Nothing lost (issue 15 point 6) ------------------------------------------------------------
// A form marked data-warn-unsaved asks before the page is left with changes not saved.
var unsavedForms = [];
document.addEventListener("input", function (event) {
  var form = event.target && event.target.form;
  if (form && form.hasAttribute("data-warn-unsaved") && unsavedForms.indexOf(form) < 0) unsavedForms.push(form);
});
document.addEventListener("change", function (event) {
  var form = event.target && event.target.form;
  if (form && form.hasAttribute("data-warn-unsaved") && unsavedForms.indexOf(form) < 0) unsavedForms.push(form);
});
document.addEventListener("submit", function (event) {
  if (event.defaultPrevented) return;
  var index = unsavedForms.indexOf(event.target);
  if (index >= 0) unsavedForms.splice(index, 1);
});
window.addEventListener("beforeunload", function (event) {
  if (!unsavedForms.length) return;
  event.preventDefault();
  event.returnValue = "";   // older browsers want a value to ask
});

// The document editor (form[data-autosave]) saves the draft on the server a moment after each change,
// and says so beside its buttons. What cannot be saved yet (a price that is not a number) stays
// "not saved", and leaving then asks first (data-warn-unsaved).
(function () {
  var form = document.querySelector("form[data-autosave]");
  if (!form || !window.fetch || !window.FormData) return;
  var marks = document.querySelectorAll("[data-save-state]");
  var timer = null, saving = false, again = false;
  function show(state) {
    Array.prototype.forEach.call(marks, function (mark) {
      mark.textContent = mark.getAttribute("data-text-" + state) || "";
      mark.className = "save-state " + state;
    });
  }
  // Only a change the server refused (or could not get) makes leaving ask: a pending one is sent on the way out.
  function forget() { var i = unsavedForms.indexOf(form); if (i >= 0) unsavedForms.splice(i, 1); }
  function keep() { if (unsavedForms.indexOf(form) < 0) unsavedForms.push(form); }
  function save(keepalive) {
    if (timer) { clearTimeout(timer); timer = null; }
    if (saving) { again = true; return; }
    saving = true;
    show("saving");
    fetch(form.getAttribute("data-autosave"), {method: "POST", body: new FormData(form), credentials: "same-origin",
                                               headers: {"X-Autosave": "1"}, keepalive: !!keepalive})
      .then(function (response) {
        if (response.ok) { if (!again) { forget(); show("saved"); } }
        else { keep(); show("failed"); }
      })
      .catch(function () { if (!keepalive) { keep(); show("failed"); } })
      .then(function () { saving = false; if (again) { again = false; save(false); } });
  }
  function changed(event) {
    if (event.target && event.target.form !== form) return;
    show("unsaved");
    if (timer) clearTimeout(timer);
    timer = setTimeout(function () { save(false); }, 1200);
  }
  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  // Lines added, moved or removed (the server re-renders the line table): save that too.
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.target && event.target.id === "doc-lines") changed({target: form.elements[0]});
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden" && timer) save(true);
  });
  window.addEventListener("pagehide", function () { if (timer) save(true); });
  form.addEventListener("submit", function () { if (timer) { clearTimeout(timer); timer = null; } });
})();
