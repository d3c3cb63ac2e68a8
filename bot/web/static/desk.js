// Keyboard-first review: j/k move, a approve, r reject, e edit, x select. No build step.
(function () {
  "use strict";
  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("ol.queue li.pair:not([data-done])"));
  }
  function current() { return document.querySelector("ol.queue li.pair.current"); }
  function focus(row) {
    var old = current();
    if (old) { old.classList.remove("current"); }
    if (row) { row.classList.add("current"); row.scrollIntoView({block: "nearest"}); }
  }
  function move(step) {
    var list = rows();
    if (!list.length) { return; }
    var at = list.indexOf(current());
    focus(list[Math.max(0, Math.min(list.length - 1, at < 0 ? 0 : at + step))]);
  }
  function countSelected() {
    var n = document.querySelectorAll("ol.queue input[name=ids]:checked").length;
    var out = document.getElementById("selected-count");
    if (out) { out.textContent = String(n); }
  }
  document.addEventListener("change", function (ev) {
    if (ev.target && ev.target.name === "ids") { countSelected(); }
  });
  document.addEventListener("htmx:afterSwap", function () {
    if (!current()) { move(0); }
    countSelected();
  });
  document.addEventListener("htmx:beforeSwap", function (ev) {
    // After a row is reviewed, the next one becomes current (or the one before it).
    var row = ev.detail.target;
    if (row && row.classList && row.classList.contains("current")) {
      var list = rows(), at = list.indexOf(row);
      var next = list[at + 1] || list[at - 1] || null;
      row.classList.remove("current");
      if (next) { next.classList.add("current"); }
    }
  });
  document.addEventListener("keydown", function (ev) {
    var tag = (ev.target && ev.target.tagName) || "";
    if (/^(INPUT|TEXTAREA|SELECT)$/.test(tag) || ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
    if (!document.querySelector("ol.queue")) { return; }
    var row = current();
    switch (ev.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "a": if (row) { row.querySelector("button.do-approve").click(); } break;
      case "r": if (row) { row.querySelector("button.do-reject").click(); } break;
      case "e": if (row) { window.location.href = row.getAttribute("data-edit"); } break;
      case "x":
        if (row) { var box = row.querySelector("input[name=ids]"); box.checked = !box.checked; countSelected(); }
        break;
      default: return;
    }
    ev.preventDefault();
  });
  document.addEventListener("DOMContentLoaded", function () { move(0); countSelected(); });
})();
