// The day board with JavaScript: it refreshes itself when the day changed (asked at most every
// 30 seconds, and when the tab comes back into view), and opens a visit without a reload.
// Without JavaScript the same pages work through their links and forms.
(function () {
  "use strict";

  function live() { return document.getElementById("board-live"); }

  function load(url, push) {
    var region = live();
    if (!region) { return Promise.resolve(); }
    return fetch(url, { headers: { "X-Board-Fragment": "1" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        // A visit of another day: the server sent its own day; show that whole page, not a part.
        if (response.redirected) { window.location.href = response.url; return null; }
        return response.text();
      })
      .then(function (html) {
        if (html === null) { return; }
        region.innerHTML = html;
        if (push) { history.pushState({ board: true }, "", url); }
        var panel = document.getElementById("visit-panel");
        if (push && panel) { panel.focus(); }
      })
      .catch(function () { if (push) { window.location.href = url; } });
  }

  function fingerprintChanged() {
    var region = live();
    if (!region || !region.dataset.changesUrl) { return Promise.resolve(false); }
    return fetch(region.dataset.changesUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (answer) {
        if (!answer || answer.fingerprint === region.dataset.fingerprint) { return false; }
        region.dataset.fingerprint = answer.fingerprint;
        return true;
      })
      .catch(function () { return false; });
  }

  var lastCheck = 0;
  function check() {
    if (document.hidden) { return; }
    lastCheck = Date.now();
    fingerprintChanged().then(function (changed) {
      // Staff may be typing in an open form (a cancel reason): never swap the page under them.
      var active = document.activeElement;
      var typing = active && live() && live().contains(active) && /INPUT|TEXTAREA|SELECT/.test(active.tagName);
      if (changed && !typing) { load(window.location.pathname + window.location.search, false); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var region = live();
    if (!region) { return; }
    var seconds = Math.max(parseInt(region.dataset.refreshSeconds, 10) || 30, 30);
    window.setInterval(check, seconds * 1000);
    document.addEventListener("visibilitychange", function () {
      if (!document.hidden && Date.now() - lastCheck > 5000) { check(); }
    });
    region.addEventListener("click", function (event) {
      var link = event.target.closest && event.target.closest("a[data-visit], .visit-panel a.close");
      if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) { return; }
      event.preventDefault();
      load(link.getAttribute("href"), true);
    });
    window.addEventListener("popstate", function () { load(window.location.pathname + window.location.search, false); });
  });
})();
