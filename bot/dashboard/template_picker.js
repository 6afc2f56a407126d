// The case page's reply-template picker: choosing a template fills the reply box in place.
// Without this script the "Insert" button reloads the page with the box filled (?tpl=).
// Each option carries its filled text (data-text, escaped by the server); it is set as the
// text area's value only, never parsed as HTML.
(function () {
  "use strict";
  var form = document.getElementById("template-picker");
  var select = document.getElementById("tpl");
  var box = document.getElementById("reply-text");
  if (!form || !select || !box) { return; }
  function insert() {
    var option = select.options[select.selectedIndex];
    if (!option || option.dataset.text === undefined) { return false; }
    box.value = option.dataset.text;
    box.rows = 12;
    box.focus();
    return true;
  }
  select.addEventListener("change", insert);
  form.addEventListener("submit", function (event) {
    if (insert()) { event.preventDefault(); }
  });
}());
