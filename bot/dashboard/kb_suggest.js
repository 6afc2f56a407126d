// The phone page: suggest knowledge-base articles as the call-taker types. Without this
// script the "Find answers" button does the same by posting the form. Text is set with
// textContent only: nothing from the server is parsed as HTML. What the caller says is posted
// (never put in a URL), with the form's CSRF token.
(function () {
  "use strict";
  var text = document.getElementById("text");
  var box = document.getElementById("suggestions");
  var list = document.getElementById("suggestion-list");
  var answered = document.getElementById("answered-button");
  var looked = document.getElementById("looked");
  var csrf = text && text.form ? text.form.elements.namedItem("csrf") : null;
  if (!text || !box || !list || !csrf) { return; }
  var timer = null;
  var asked = "";

  function show(articles) {
    list.textContent = "";
    articles.forEach(function (article) {
      var item = document.createElement("li");
      var label = document.createElement("label");
      var radio = document.createElement("input");
      radio.type = "radio";
      radio.name = "article";
      radio.value = article.code;
      var title = document.createElement("strong");
      title.textContent = " " + article.title;
      label.appendChild(radio);
      label.appendChild(title);
      var details = document.createElement("details");
      var summary = document.createElement("summary");
      summary.textContent = box.dataset.read;
      var body = document.createElement("p");
      body.className = "citizen-text";
      body.textContent = article.body;
      details.appendChild(summary);
      details.appendChild(body);
      item.appendChild(label);
      item.appendChild(details);
      list.appendChild(item);
    });
    if (!articles.length) {
      var none = document.createElement("li");
      none.className = "muted";
      none.textContent = box.dataset.none;
      list.appendChild(none);
    }
    if (answered) { answered.hidden = !articles.length; }
    if (looked) { looked.value = articles.length ? "1" : ""; }
  }

  function ask() {
    var words = text.value.trim();
    if (words.length < 2 || words === asked) { return; }
    asked = words;
    var form = new URLSearchParams();
    form.append("csrf", csrf.value);
    form.append("q", words);
    fetch("/web/kb-suggest", {method: "POST", body: form, credentials: "same-origin"})
      .then(function (answer) { return answer.ok ? answer.json() : null; })
      .then(function (articles) { if (articles && words === asked) { show(articles); } })
      .catch(function () { /* the "Find answers" button still works */ });
  }

  text.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(ask, 400);
  });
}());
