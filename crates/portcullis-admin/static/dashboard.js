// The dashboard works without JavaScript; this only adds the copy buttons, which are hidden
// until it runs. A button `data-copy="ID"` copies the text (or value) of the element ID.
(function () {
  "use strict";

  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "sr-only";
    document.body.appendChild(area);
    area.select();
    var copied = false;
    try {
      copied = document.execCommand("copy");
    } catch (error) {
      copied = false;
    }
    document.body.removeChild(area);
    return copied ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () {
        return fallbackCopy(text);
      });
    }
    return fallbackCopy(text);
  }

  function announce(button, message) {
    var label = button.querySelector("span") || button;
    if (!button.dataset.label) {
      button.dataset.label = label.textContent;
    }
    label.textContent = message;
    button.classList.toggle("copied", message === "Copied");
    window.clearTimeout(button._reset);
    button._reset = window.setTimeout(function () {
      label.textContent = button.dataset.label;
      button.classList.remove("copied");
    }, 1800);
  }

  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) {
      return;
    }
    button.hidden = false;
    button.setAttribute("aria-live", "polite");
    button.addEventListener("click", function () {
      var text = "value" in source ? source.value : source.textContent;
      copy(text.trim()).then(
        function () { announce(button, "Copied"); },
        function () { announce(button, "Press Ctrl+C"); }
      );
    });
  });
})();
