// The queue's keyboard: j / k move down and up the rows, Enter opens the current case.
// Loaded from a static file (the Content Security Policy allows no inline script).
(function () {
  "use strict";
  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("#result_list tbody tr"));
  }
  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }
  var current = -1;
  function select(index) {
    var all = rows();
    if (!all.length) { return; }
    index = Math.max(0, Math.min(all.length - 1, index));
    if (all[current]) { all[current].classList.remove("nj-current"); }
    current = index;
    all[current].classList.add("nj-current");
    all[current].scrollIntoView({ block: "nearest" });
  }
  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || typing(event.target)) { return; }
    if (event.key === "j") { select(current + 1); event.preventDefault(); }
    else if (event.key === "k") { select(current - 1); event.preventDefault(); }
    else if (event.key === "Enter" && current >= 0) {
      var link = rows()[current] && rows()[current].querySelector("th a, td a");
      if (link) { window.location.href = link.href; event.preventDefault(); }
    }
  });
})();
