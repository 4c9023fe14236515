// tariff-kg page: load the timeline and the differences in place, and suggest HTS codes.
// The page works without this script: the parts are then links, and words typed as the HTS
// line are searched when the form is sent.
(function () {
  "use strict";

  function loadParts() {
    document.querySelectorAll("[data-src]").forEach(function (part) {
      fetch(part.getAttribute("data-src"), { headers: { Accept: "text/html" } })
        .then(function (response) { return response.text(); })
        .then(function (html) {
          part.innerHTML = html;
          part.classList.add("loaded");
        })
        .catch(function () {
          part.innerHTML = '<div class="error" role="alert">This part could not be loaded: ' +
            "the server did not answer.</div>";
        });
    });
  }

  function suggestCodes() {
    var input = document.getElementById("hts");
    var list = document.getElementById("hts-suggestions");
    if (!input || !list) { return; }
    var timer = null;
    var asked = "";

    function hide() { list.hidden = true; list.textContent = ""; asked = ""; }

    function show(codes) {
      list.textContent = "";
      codes.forEach(function (code) {
        var item = document.createElement("li");
        var button = document.createElement("button");
        button.type = "button";
        button.className = "suggestion";
        button.setAttribute("data-hts", code.hts);
        var digits = document.createElement("span");
        digits.className = "code";
        digits.textContent = code.hts;
        var text = document.createElement("span");
        text.className = "description";
        text.textContent = (code.path.length ? code.path[code.path.length - 1] + " › " : "") +
          code.description;
        button.appendChild(digits);
        button.appendChild(text);
        button.addEventListener("click", function () {
          input.value = code.hts;
          hide();
          input.focus();
        });
        item.appendChild(button);
        list.appendChild(item);
      });
      list.hidden = codes.length === 0;
    }

    function ask() {
      var text = input.value.trim();
      var digits = text.replace(/[.\s]/g, "");
      var enough = /^\d+$/.test(digits) ? digits.length >= 4 && digits.length < 8 : text.length >= 3;
      if (!enough) { hide(); return; }
      if (text === asked) { return; }
      asked = text;
      fetch("/api/hts?limit=15&q=" + encodeURIComponent(text))
        .then(function (response) { return response.ok ? response.json() : { codes: [] }; })
        .then(function (data) { if (input.value.trim() === text) { show(data.codes); } })
        .catch(hide);
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, 200);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { hide(); }
      if (event.key === "ArrowDown" && !list.hidden && list.querySelector("button")) {
        event.preventDefault();
        list.querySelector("button").focus();
      }
    });
    list.addEventListener("keydown", function (event) {
      var item = document.activeElement && document.activeElement.parentElement;
      if (!item || item.parentElement !== list) { return; }
      var next = event.key === "ArrowDown" ? item.nextElementSibling :
        event.key === "ArrowUp" ? item.previousElementSibling : null;
      if (event.key === "Escape" || (event.key === "ArrowUp" && !next)) {
        event.preventDefault();
        input.focus();
        if (event.key === "Escape") { hide(); }
      } else if (next) {
        event.preventDefault();
        next.querySelector("button").focus();
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    loadParts();
    suggestCodes();
  });
}());
