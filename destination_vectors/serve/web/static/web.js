// The page works without this file: it only adds "/" to focus the search box (as many sites do).
document.addEventListener("keydown", function (event) {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
  var target = event.target;
  if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
  var box = document.getElementById("q");
  if (!box) { window.location.href = "/"; return; }
  event.preventDefault();
  box.focus();
  box.select();
});
// A shorter address to share: filters left at "any" are not sent (without this file they are sent empty: the same).
document.addEventListener("submit", function (event) {
  var fields = event.target.querySelectorAll("select, input[name=under]");
  for (var i = 0; i < fields.length; i++) if (!fields[i].value) fields[i].disabled = true;
});
