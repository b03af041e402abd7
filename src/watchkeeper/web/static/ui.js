// Every page's small behaviours, without inline scripts (the pages' CSP allows none):
// - the theme: the system's (prefers-color-scheme) unless the header's toggle chose light or dark,
//   remembered in this browser; set before the page is drawn, so it never flashes;
// - keyboard shortcuts: "/" to search, "g" then o, p, h, s or c for the overview, problems,
//   hosts, services or capacity;
// - parts marked data-live="SECONDS" are fetched again and replaced in place, not by reloading
//   the page (a form being filled in, or the scroll position, stays as it is).
"use strict";

(function () {
  const root = document.documentElement;
  let chosen = null;
  try { chosen = localStorage.getItem("watchkeeper-theme"); } catch (e) { chosen = null; }
  if (chosen === "dark" || chosen === "light") root.dataset.theme = chosen;

  function dark() {
    if (root.dataset.theme) return root.dataset.theme === "dark";
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
  }

  function ready() {
    const toggle = document.querySelector("button.theme");
    if (toggle) {
      const label = function () { toggle.textContent = dark() ? "Light" : "Dark"; };
      label();
      toggle.addEventListener("click", function () {
        root.dataset.theme = dark() ? "light" : "dark";
        try { localStorage.setItem("watchkeeper-theme", root.dataset.theme); } catch (e) { /* private mode */ }
        label();
      });
    }

    const places = {o: "/", p: "/services?problems=true", h: "/hosts", s: "/services", c: "/capacity"};
    let prefix = false;
    document.addEventListener("keydown", function (event) {
      const target = event.target;
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      if (target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT")) return;
      if (event.key === "/") {
        const search = document.querySelector("header .search input");
        if (search) { event.preventDefault(); search.focus(); }
      } else if (prefix && places[event.key]) {
        window.location.assign(places[event.key]);
      }
      prefix = event.key === "g";
    });

    document.querySelectorAll("[data-live]").forEach(function (part) {
      const seconds = Math.max(2, Number(part.dataset.live) || 30);
      window.setInterval(function () {
        if (!part.id) return;
        fetch(window.location.href, {credentials: "same-origin"})
          .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
          .then(function (html) {
            const fresh = new DOMParser().parseFromString(html, "text/html").getElementById(part.id);
            if (fresh) {
              part.innerHTML = fresh.innerHTML;
              part.dataset.updated = String(Date.now());
            }
          })
          .catch(function () { part.dataset.stale = "true"; });
      }, seconds * 1000);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
