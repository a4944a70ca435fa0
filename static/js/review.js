// Keyboard shortcuts for the review grid (no inline scripts: CSP).
// j / k: next / previous row · a: approve the row · r: open its reject box · p: open its HIT
// n / b: next / previous page.
(function () {
  "use strict";
  var current = -1;

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("tr.review-row"));
  }

  function focusRow(index) {
    var all = rows();
    if (!all.length) return;
    current = Math.max(0, Math.min(index, all.length - 1));
    all.forEach(function (row) { row.classList.remove("is-current"); });
    all[current].classList.add("is-current");
    all[current].focus({ preventScroll: false });
    all[current].scrollIntoView({ block: "nearest" });
  }

  function click(selector) {
    var row = rows()[current];
    var target = row && row.querySelector(selector);
    if (target) target.click();
  }

  document.addEventListener("keydown", function (event) {
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || event.ctrlKey || event.metaKey || event.altKey) return;
    switch (event.key) {
      case "j": focusRow(current + 1); break;
      case "k": focusRow(current - 1); break;
      case "a": click('[data-shortcut="approve"]'); break;
      case "r": click('[data-shortcut="reject"]'); break;
      case "p": {
        var row = rows()[current];
        if (row && row.dataset.preview) window.location.href = row.dataset.preview;
        break;
      }
      case "n": { var next = document.querySelector('[data-shortcut="next-page"]'); if (next) next.click(); break; }
      case "b": { var prev = document.querySelector('[data-shortcut="previous-page"]'); if (prev) prev.click(); break; }
      default: return;
    }
    event.preventDefault();
  });

  // The grid is swapped by htmx when filtering or paging: start again at the top. A decision
  // cell swapped in a row (after a decision, and every second while one is on its way) keeps
  // the current row, so that `a` then `j` goes on to the next row.
  document.body.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (target && target.id === "grid") current = -1;
  });
})();
