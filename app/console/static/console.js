// The assisted session's countdown: the server ends the session on its own; this shows the
// time left and, when it is over, asks for the page again, which the server no longer shows
// (the citizen's wallet leaves the screen). No other script runs in the console but htmx.
(function () {
  "use strict";
  function tick(el) {
    var left = Math.max(0, Math.floor((Date.parse(el.dataset.expires) - Date.now()) / 1000));
    if (left === 0) {
      el.textContent = el.dataset.ended;
      el.classList.add("over");
      setTimeout(function () { window.location.reload(); }, 500);
      return false;
    }
    var m = Math.floor(left / 60), s = left % 60;
    el.textContent = (m < 10 ? "0" : "") + m + ":" + (s < 10 ? "0" : "") + s;
    el.classList.toggle("soon", left < 60);
    return true;
  }
  function start() {
    var el = document.getElementById("countdown");
    if (!el || !tick(el)) return;
    var timer = setInterval(function () { if (!tick(el)) clearInterval(timer); }, 1000);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
