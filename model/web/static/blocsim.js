// blocsim's only script of its own: show a slider's value beside it as it moves.
// (Redraws are HTMX's: hx-post on the what-if form.)
document.addEventListener("input", function (e) {
  var t = e.target;
  if (t.type === "range" && t.id) {
    var out = document.querySelector('output[for="' + t.id + '"]');
    if (out) out.value = Number(t.value).toFixed(2);
  }
});
