// The label queue's keyboard: y complaint, n not a complaint, s skip; in the list, j / k move
// the highlighted row the keys act on. A static file: the Content Security Policy allows no
// inline script.
(function () {
  "use strict";
  function items() {
    return Array.prototype.slice.call(document.querySelectorAll("#nj-label-queue .nj-label-item"));
  }
  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }
  var current = 0;
  function select(index) {
    var all = items();
    if (!all.length) { return; }
    index = Math.max(0, Math.min(all.length - 1, index));
    all.forEach(function (item) { item.classList.remove("nj-current"); });
    current = index;
    all[current].classList.add("nj-current");
    all[current].scrollIntoView({ block: "nearest" });
  }
  var sent = false;
  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || typing(event.target)) { return; }
    if (event.key === "j") { select(current + 1); event.preventDefault(); return; }
    if (event.key === "k") { select(current - 1); event.preventDefault(); return; }
    if (event.key !== "y" && event.key !== "n" && event.key !== "s") { return; }
    var item = items()[current];
    var button = item && item.querySelector('button[data-key="' + event.key + '"]');
    if (button && !sent) {
      sent = true; // one key, one label: a held key must not label the next post unseen
      event.preventDefault();
      button.click();
    }
  });
})();
