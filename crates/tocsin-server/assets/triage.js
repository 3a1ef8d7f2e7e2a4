// Keyboard shortcuts of the triage queue (served by Tocsin itself; no inline script, so the
// Content-Security-Policy `default-src 'self'` holds): j/k move between reports, c opens the
// prefilled incident form, r/d/a go to the selected report's reject, duplicate and assign
// fields, Enter opens the report. Keys typed into a field are left alone.
(function () {
  "use strict";
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr.triage-item"));
  if (!rows.length) { return; }
  var at = 0;
  function select(i) {
    if (i < 0 || i >= rows.length) { return; }
    rows[at].classList.remove("selected");
    rows[at].removeAttribute("aria-current");
    at = i;
    rows[at].classList.add("selected");
    rows[at].setAttribute("aria-current", "true");
    rows[at].scrollIntoView({ block: "nearest" });
  }
  function focusIn(selector) {
    var el = rows[at].querySelector(selector);
    if (el) { el.focus(); }
  }
  select(0);
  rows.forEach(function (row, i) {
    row.addEventListener("click", function () { select(i); });
  });
  document.addEventListener("keydown", function (e) {
    var t = e.target;
    var tag = t && t.tagName ? t.tagName.toLowerCase() : "";
    if (tag === "input" || tag === "textarea" || tag === "select" || (t && t.isContentEditable)) {
      if (e.key === "Escape") { t.blur(); }
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) { return; }
    var link;
    switch (e.key) {
      case "j": select(at + 1); break;
      case "k": select(at - 1); break;
      case "c":
        link = rows[at].querySelector("a.create");
        if (link) { window.location.assign(link.href); }
        break;
      case "r": focusIn("form.reject input[name=reason]"); break;
      case "d": focusIn("form.duplicate input[name=of]"); break;
      case "a": focusIn("form.assign select"); break;
      case "Enter":
        link = rows[at].querySelector("a.open");
        if (link) { window.location.assign(link.href); }
        break;
      default: return;
    }
    e.preventDefault();
  });
})();
