// Progressive enhancement for the livinglab web UI. Every page works
// without this script; it adds the menu button on narrow screens, the live
// feed, auto-applied search filters and a copy button. Its texts come from
// the page (data-* attributes), in the page's language.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function menuButton() {
    var btn = document.querySelector(".menu-button");
    var menu = document.getElementById("main-menu");
    if (!btn || !menu) return;
    btn.hidden = false;
    btn.addEventListener("click", function () {
      var open = menu.classList.toggle("open");
      btn.setAttribute("aria-expanded", open ? "true" : "false");
    });
    document.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && menu.classList.contains("open")) {
        menu.classList.remove("open");
        btn.setAttribute("aria-expanded", "false");
        btn.focus();
      }
    });
  }

  function liveFeed() {
    var list = document.getElementById("feed");
    if (!list || !window.EventSource) return;
    var status = document.getElementById("live-status");
    var msg = function (name) { return list.getAttribute("data-msg-" + name) || ""; };
    var es = new EventSource(list.getAttribute("data-events"));
    function say(text) { if (status) status.textContent = text; }
    es.onopen = function () { say(msg("live")); };
    es.onerror = function () { say(msg("lost")); };
    function remove(cid) {
      var items = list.querySelectorAll("li[data-cid]");
      for (var i = 0; i < items.length; i++) {
        if (items[i].getAttribute("data-cid") === cid) items[i].remove();
      }
    }
    function span(cls, text, lang) {
      var s = document.createElement("span");
      s.className = cls;
      s.textContent = text;
      if (lang) s.lang = lang;
      return s;
    }
    es.addEventListener("practice", function (e) {
      var p = JSON.parse(e.data);
      remove(p.cid);
      var empty = list.querySelector("li.empty");
      if (empty) empty.remove();
      var li = document.createElement("li");
      li.className = "new";
      li.setAttribute("data-cid", p.cid);
      var a = document.createElement("a");
      a.href = p.url;
      a.textContent = p.title;
      if (p.language) a.lang = p.language;
      li.appendChild(a);
      if (p.original) {
        var o = span("original", (p.original_note || "") + " ");
        o.appendChild(span("", p.original));
        li.appendChild(o);
      }
      li.appendChild(span("meta", [p.region + (p.country ? " (" + p.country + ")" : ""), p.language_name || p.language, p.created].join(" · ")));
      li.appendChild(span("summary", p.summary || "", p.language));
      var tags = span("tags", "");
      (p.topic_labels || p.topics || []).forEach(function (t) {
        tags.appendChild(span("tag", t));
        tags.appendChild(document.createTextNode(" "));
      });
      li.appendChild(tags);
      list.insertBefore(li, list.firstChild);
      say(msg("new").replace("%s", p.title));
    });
    es.addEventListener("remove", function (e) {
      remove(JSON.parse(e.data).cid);
    });
  }

  function autoFilters() {
    var form = document.getElementById("search-form");
    if (!form) return;
    var boxes = form.querySelectorAll(".facets input[type=checkbox], #sort");
    for (var i = 0; i < boxes.length; i++) {
      boxes[i].addEventListener("change", function () { form.submit(); });
    }
  }

  function copyButtons() {
    var btns = document.querySelectorAll("button[data-copy]");
    for (var i = 0; i < btns.length; i++) {
      var b = btns[i];
      if (!navigator.clipboard) continue;
      b.hidden = false;
      b.addEventListener("click", function (ev) {
        var el = document.getElementById(ev.currentTarget.getAttribute("data-copy"));
        var btn = ev.currentTarget;
        navigator.clipboard.writeText(el.value).then(function () { btn.textContent = btn.getAttribute("data-copied") || btn.textContent; });
      });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    menuButton();
    liveFeed();
    autoFilters();
    copyButtons();
  });
})();
