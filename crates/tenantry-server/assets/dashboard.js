// Progressive enhancement only: every action works without this script.
// Copy buttons: <button data-copy="ID"> copies the text of the element with that id.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-copy]");
  if (!button || !navigator.clipboard) return;
  var source = document.getElementById(button.getAttribute("data-copy"));
  if (!source) return;
  navigator.clipboard.writeText(source.textContent.trim()).then(function () {
    button.textContent = "Copied";
  });
});
// Copy buttons are hidden until the script can make them work.
document.querySelectorAll("[data-copy]").forEach(function (b) { b.hidden = false; });
