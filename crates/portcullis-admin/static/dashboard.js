// The dashboard works without JavaScript; this only adds the copy buttons, which are hidden
// until it runs (a button `data-copy="ID"` copies the text (or value) of the element ID), and
// makes a `textarea.code-editor` an editor: Tab indents, Enter keeps the line's indentation
// (one step more after an opening bracket, one less at a closing one), Ctrl+S (or Cmd+S) saves
// the draft.
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

  function codeEditor(area) {
    function replace(start, end, text, caret) {
      area.setRangeText(text, start, end, "end");
      if (caret !== undefined) {
        area.selectionStart = area.selectionEnd = caret;
      }
      area.dispatchEvent(new Event("input", { bubbles: true }));
    }
    area.addEventListener("keydown", function (event) {
      var start = area.selectionStart;
      var end = area.selectionEnd;
      var value = area.value;
      if (event.key === "Tab" && !event.ctrlKey && !event.altKey && !event.metaKey) {
        event.preventDefault();
        var lineStart = value.lastIndexOf("\n", start - 1) + 1;
        if (event.shiftKey) {
          var lead = value.slice(lineStart, lineStart + 2).match(/^ {1,2}/);
          if (lead) {
            replace(lineStart, lineStart + lead[0].length, "", Math.max(lineStart, start - lead[0].length));
          }
        } else {
          replace(start, end, "  ");
        }
      } else if (event.key === "Enter" && !event.shiftKey && !event.ctrlKey && !event.metaKey) {
        var from = value.lastIndexOf("\n", start - 1) + 1;
        var indent = value.slice(from, start).match(/^[ \t]*/)[0];
        if (/[{([]\s*$/.test(value.slice(from, start))) {
          indent += "  ";
        }
        event.preventDefault();
        replace(start, end, "\n" + indent);
      } else if ((event.key === "}" || event.key === "]" || event.key === ")") && start === end) {
        var lineFrom = value.lastIndexOf("\n", start - 1) + 1;
        if (/^ {2,}$/.test(value.slice(lineFrom, start))) {
          event.preventDefault();
          replace(start - 2, start, event.key);
        }
      } else if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "s") {
        var save = area.form && area.form.querySelector("button[value=save]");
        if (save) {
          event.preventDefault();
          save.click();
        }
      }
    });
  }

  document.querySelectorAll("textarea.code-editor").forEach(codeEditor);
})();
