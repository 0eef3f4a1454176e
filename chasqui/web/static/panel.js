// Chasqui panel: live updates (Server-Sent Events) and small comforts. Works with or without htmx.
(function () {
  "use strict";
  var source = null;
  var pending = null;
  var refreshing = false;
  var again = false;

  function liveRoot() { return document.querySelector("[data-live-src]"); }

  function scrollThread(force) {
    var thread = document.getElementById("thread");
    if (!thread) return;
    if (force || thread.dataset.stick !== "0") thread.scrollTop = thread.scrollHeight;
  }

  function nearBottom(el) { return el.scrollHeight - el.scrollTop - el.clientHeight < 80; }

  // Reload the page's live regions ([data-live] with an id) from the server, in place.
  function refresh() {
    if (refreshing) { again = true; return; }
    refreshing = true;
    var thread = document.getElementById("thread");
    var stick = thread ? nearBottom(thread) : true;
    var root = liveRoot();
    var url = (root && root.getAttribute("data-live-url")) || window.location.href;
    fetch(url, { headers: { "X-Requested-With": "live" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live][id]").forEach(function (el) {
          var fresh = doc.getElementById(el.id);
          if (fresh && fresh.innerHTML !== el.innerHTML) {
            el.innerHTML = fresh.innerHTML;
            if (window.htmx) window.htmx.process(el);
          }
        });
        if (stick) scrollThread(true);
        document.body.dataset.liveRefreshes = String(Number(document.body.dataset.liveRefreshes || 0) + 1);
      })
      .catch(function () {})
      .then(function () {
        refreshing = false;
        if (again) { again = false; refresh(); }
      });
  }

  function onChange() {
    if (pending) clearTimeout(pending);
    pending = setTimeout(refresh, 150);
  }

  function ensureLive() {
    var root = liveRoot();
    if (!root || !window.EventSource) return;
    var url = root.getAttribute("data-live-src");
    if (source && source.url.indexOf(url) !== -1 && source.readyState !== 2) return;
    if (source) source.close();
    source = new EventSource(url);
    source.addEventListener("change", onChange);
    source.addEventListener("open", function () { document.body.dataset.live = "on"; });
    source.addEventListener("error", function () { document.body.dataset.live = "retrying"; });
  }

  function enhance(root) {
    // canned responses fill the reply box
    root.querySelectorAll("select.canned").forEach(function (select) {
      if (select.dataset.bound) return;
      select.dataset.bound = "1";
      select.addEventListener("change", function () {
        var option = select.options[select.selectedIndex];
        var box = select.form.querySelector("textarea[name=text]");
        if (option && option.dataset.text && box) {
          box.value = box.value ? box.value + "\n" + option.dataset.text : option.dataset.text;
          select.selectedIndex = 0;
          box.focus();
        }
      });
    });
    // Enter sends, Shift+Enter is a new line
    root.querySelectorAll(".composer textarea[name=text]").forEach(function (box) {
      if (box.dataset.bound) return;
      box.dataset.bound = "1";
      box.addEventListener("keydown", function (e) {
        if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
          e.preventDefault();
          if (box.value.trim() || box.form.querySelector("input[type=file]").files.length) box.form.requestSubmit();
        }
      });
    });
    root.querySelectorAll(".composer input[type=file]").forEach(function (input) {
      input.addEventListener("change", function () {
        var label = input.parentElement;
        label.classList.toggle("has-file", input.files.length > 0);
        label.firstChild.textContent = input.files.length ? "Adjunto: " + input.files[0].name : "Adjuntar";
      });
    });
    var thread = document.getElementById("thread");
    if (thread && !thread.dataset.bound) {
      thread.dataset.bound = "1";
      thread.addEventListener("scroll", function () { thread.dataset.stick = nearBottom(thread) ? "1" : "0"; });
    }
    scrollThread(true);
  }

  // a notice (not an error) goes away by itself
  function fadeNotices() {
    document.querySelectorAll("main > .notice").forEach(function (el) {
      setTimeout(function () { el.remove(); }, 6000);
    });
    document.querySelectorAll("main > .error").forEach(function (el) {
      el.title = "Clic para cerrar";
      el.addEventListener("click", function () { el.remove(); });
    });
  }

  // Behaviour the templates ask for with data- attributes (the CSP allows no inline script):
  // data-confirm on a form asks before submitting, data-autosubmit on a select submits its form,
  // data-back on a link goes back, data-reload-without-htmx="ms" reloads the page without htmx.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      e.preventDefault();
      e.stopImmediatePropagation();
    }
  }, true);
  document.addEventListener("change", function (e) {
    var el = e.target;
    if (el.hasAttribute && el.hasAttribute("data-autosubmit") && el.form) el.form.submit();
  });
  document.addEventListener("click", function (e) {
    var link = e.target.closest ? e.target.closest("a[data-back]") : null;
    if (link && window.history.length > 1) { e.preventDefault(); window.history.back(); }
  });
  function reloadWithoutHtmx() {
    var el = document.querySelector("[data-reload-without-htmx]");
    if (el && !window.htmx) setTimeout(function () { location.reload(); }, Number(el.dataset.reloadWithoutHtmx) || 2000);
  }

  document.addEventListener("DOMContentLoaded", reloadWithoutHtmx);
  document.addEventListener("DOMContentLoaded", function () { enhance(document); ensureLive(); fadeNotices(); });
  document.addEventListener("htmx:afterSettle", function () { enhance(document); ensureLive(); fadeNotices(); });
  window.chasquiRefresh = refresh;
})();
