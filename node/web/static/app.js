// Progressive enhancement for the livinglab web UI. Every page works
// without this script; it adds the live feed, auto-applied search filters
// and a copy button.
(function () {
  "use strict";

  function liveFeed() {
    var list = document.getElementById("feed");
    if (!list || !window.EventSource) return;
    var status = document.getElementById("live-status");
    var es = new EventSource(list.getAttribute("data-events"));
    function say(text) { if (status) status.textContent = text; }
    es.onopen = function () { say("Live: new practices appear here as they arrive."); };
    es.onerror = function () { say("Connection lost, reconnecting…"); };
    function remove(cid) {
      var items = list.querySelectorAll("li[data-cid]");
      for (var i = 0; i < items.length; i++) {
        if (items[i].getAttribute("data-cid") === cid) items[i].remove();
      }
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
      var meta = document.createElement("span");
      meta.className = "meta";
      meta.textContent = [p.region + (p.country ? " (" + p.country + ")" : ""), p.language, p.created].join(" · ");
      var sum = document.createElement("span");
      sum.className = "summary";
      sum.textContent = p.summary || "";
      var tags = document.createElement("span");
      tags.className = "tags";
      (p.topics || []).forEach(function (t) {
        var s = document.createElement("span");
        s.className = "tag";
        s.textContent = t;
        tags.appendChild(s);
        tags.appendChild(document.createTextNode(" "));
      });
      li.appendChild(a); li.appendChild(meta); li.appendChild(sum); li.appendChild(tags);
      list.insertBefore(li, list.firstChild);
      say("New: " + p.title);
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
        navigator.clipboard.writeText(el.value).then(function () { btn.textContent = "Copied"; });
      });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    liveFeed();
    autoFilters();
    copyButtons();
  });
})();
