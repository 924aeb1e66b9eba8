// blocsim's only script of its own: show a slider's value beside it as it moves.
// (Redraws are HTMX's: hx-post on the what-if form.)
document.addEventListener("input", function (e) {
  var t = e.target;
  if (t.type === "range" && t.id) {
    var out = document.querySelector('output[for="' + t.id + '"]');
    if (out) out.value = Number(t.value).toFixed(2);
  }
});

// Game pages: load themselves again when the game moves on, polling every 3 s: the board and the
// facilitator's page /board/version (every action), a team's page /game/stamp (turns opened,
// resolved or undone: not other teams' moves). A page being filled in ("idle") says so instead.
(function () {
  var root = document.querySelector("[data-version]");
  if (!root) return;
  var seen = root.getAttribute("data-version"), dirty = false;
  document.addEventListener("input", function () { dirty = true; });
  document.addEventListener("change", function () { dirty = true; });
  function check() {
    fetch(root.getAttribute("data-watch") || "/board/version", {cache: "no-store", credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.text() : seen; })
      .then(function (v) {
        if (v.trim() === seen) return;
        if (root.getAttribute("data-autoreload") === "always" || !dirty) {
          // a GET of the page, never a reload: a refused form's answer would post it again
          window.location.assign(root.getAttribute("data-home"));
        } else if (!document.getElementById("moved-on")) {
          var p = document.createElement("p");
          p.id = "moved-on"; p.className = "status bad";
          p.textContent = "The game has moved on: reload the page to see it (your saved moves are kept).";
          root.insertBefore(p, root.firstChild);
        }
      })
      .catch(function () {});
  }
  setInterval(check, 3000);
})();

// The facilitator's turn clock: minutes:seconds left, counting down (red once over).
(function () {
  var t = document.querySelector(".timer[data-deadline]");
  if (!t) return;
  var end = Number(t.getAttribute("data-deadline"));
  function tick() {
    var s = Math.round((end - Date.now()) / 1000), a = Math.abs(s);
    t.textContent = (s < 0 ? "-" : "") + Math.floor(a / 60) + ":" + String(a % 60).padStart(2, "0");
    t.classList.toggle("over", s < 0);
  }
  tick(); setInterval(tick, 1000);
})();
