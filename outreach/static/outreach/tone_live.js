// The live tone guard: while a reply is typed, the case page asks the server's tone guard
// (CaseAdmin.tone_check_view) and redraws the findings, once per code, with the spans
// highlighted in a copy of the text. Debounced; a late answer for an older text is dropped.
// The save still runs the check again and is what counts. No innerHTML: all text goes in
// as text nodes, so nothing typed or returned can become markup.
(function () {
  "use strict";
  var DELAY_MS = 500;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function renderList(list, findings) {
    list.textContent = "";
    if (!findings.length) { list.appendChild(el("li", "", "No findings.")); return; }
    findings.forEach(function (f) {
      var item = el("li", f.blocking ? "blocking" : "warning");
      item.appendChild(el("b", "", (f.blocking ? "Blocks: " : "Warning: ") + f.words));
      item.appendChild(document.createTextNode(" "));
      item.appendChild(el("code", "nj-code", f.code));
      if (f.model) { item.appendChild(document.createTextNode(" ")); item.appendChild(el("i", "", "(model)")); }
      if (f.details.length) {
        item.appendChild(document.createTextNode(" — " + f.details.join("; ")));
      } else {
        f.excerpts.forEach(function (e) {
          item.appendChild(document.createTextNode(" "));
          item.appendChild(el("q", "", e.length > 80 ? e.slice(0, 79) + "…" : e));
        });
      }
      list.appendChild(item);
    });
  }

  function renderPreview(preview, text, findings) {
    // Spans count code points (the server's Python strings), so the text is split the same way.
    var chars = Array.from(text);
    var spans = [];
    findings.forEach(function (f) {
      f.spans.forEach(function (s) {
        // A finding about the whole reply (no acknowledgement, too long) has no place to mark.
        if (s[0] <= 0 && s[1] >= chars.length) { return; }
        spans.push({ start: s[0], end: s[1], blocking: f.blocking });
      });
    });
    preview.textContent = "";
    if (!spans.length) { preview.hidden = true; return; }
    preview.hidden = false;
    var cuts = [0, chars.length];
    spans.forEach(function (s) { cuts.push(s.start, s.end); });
    cuts = cuts.filter(function (c, i, all) {
      return c >= 0 && c <= chars.length && all.indexOf(c) === i;
    }).sort(function (a, b) { return a - b; });
    for (var i = 0; i + 1 < cuts.length; i++) {
      var a = cuts[i], b = cuts[i + 1], piece = chars.slice(a, b).join("");
      var covering = spans.filter(function (s) { return s.start <= a && s.end >= b; });
      if (!covering.length) { preview.appendChild(document.createTextNode(piece)); continue; }
      var blocks = covering.some(function (s) { return s.blocking; });
      preview.appendChild(el("mark", blocks ? "nj-mark-blocking" : "nj-mark-warning", piece));
    }
  }

  function setup(form) {
    var url = form.getAttribute("data-tone-url");
    var area = form.querySelector("textarea[name=text]");
    var token = form.querySelector("input[name=csrfmiddlewaretoken]");
    if (!url || !area || !token) { return; }
    var listId = form.getAttribute("data-tone-list");
    var list = document.getElementById(listId);
    if (!list) {
      list = el("ul", "nj-findings");
      list.id = listId;
      list.setAttribute("aria-live", "polite");
      form.parentNode.insertBefore(list, form);
    }
    var preview = el("div", "nj-text nj-tone-preview");
    preview.hidden = true;
    area.parentNode.parentNode.insertBefore(preview, area.parentNode.nextSibling);
    var timer = null, asked = 0;

    function check() {
      var text = area.value, ticket = ++asked;
      if (!text.trim()) {
        renderList(list, []);
        renderPreview(preview, "", []);
        return;
      }
      var body = new URLSearchParams();
      body.append("text", text);
      body.append("reply", form.getAttribute("data-tone-reply") || "first");
      fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": token.value, "X-Requested-With": "XMLHttpRequest" },
        body: body
      }).then(function (response) {
        return response.json().then(function (data) { return { ok: response.ok, data: data }; });
      }).then(function (answer) {
        if (ticket !== asked) { return; }  // a newer text is being checked
        if (!answer.ok) {
          list.textContent = "";
          list.appendChild(el("li", "blocking", "Not checked: " + (answer.data.error || "error")));
          return;
        }
        renderList(list, answer.data.findings);
        renderPreview(preview, text, answer.data.findings);
      }).catch(function () {
        if (ticket === asked) {
          list.textContent = "";
          list.appendChild(el("li", "warning", "Live check unavailable; saving still checks the text."));
        }
      });
    }

    area.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(check, DELAY_MS);
    });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-tone-url]"), setup);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
