// RightsGuard page behaviour. Loaded as a file (no inline scripts) so a strict Content-Security-Policy holds.
(function () {
  "use strict";

  // Evidence upload with a progress bar; falls back to a normal form post without JavaScript.
  function wireUpload(form) {
    var input = form.querySelector("input[type=file]");
    var bar = form.querySelector("[data-upload-progress]");
    var limit = parseInt(form.getAttribute("data-max-bytes") || "0", 10);
    var notice = form.querySelector("[data-upload-notice]");
    if (!input || !bar) { return; }
    input.addEventListener("change", function () {
      if (notice) { notice.textContent = ""; }
      var file = input.files && input.files[0];
      if (file && limit && file.size > limit) {
        if (notice) { notice.textContent = form.getAttribute("data-too-big") || ""; }
        input.value = "";
      }
    });
    form.addEventListener("submit", function (event) {
      if (!window.FormData || !window.XMLHttpRequest) { return; }
      event.preventDefault();
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "application/json");
      bar.parentElement.hidden = false;
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) {
          var pct = Math.round((e.loaded / e.total) * 100);
          bar.style.width = pct + "%";
          bar.setAttribute("aria-valuenow", String(pct));
          bar.textContent = pct + "%";
        }
      });
      xhr.addEventListener("load", function () {
        if (xhr.status >= 200 && xhr.status < 300) {
          window.location.reload();
          return;
        }
        var message = form.getAttribute("data-failed") || "Upload failed";
        try {
          var body = JSON.parse(xhr.responseText);
          // The case changed meanwhile: its page says what happened and keeps the description.
          if (body.redirect && body.redirect.charAt(0) === "/" && body.redirect.charAt(1) !== "/") {
            window.location.assign(body.redirect);
            return;
          }
          if (body.errors && body.errors.file) { message = body.errors.file.join(" "); }
        } catch (ignored) { /* keep the generic message */ }
        if (notice) { notice.textContent = message; }
        bar.parentElement.hidden = true;
      });
      xhr.addEventListener("error", function () {
        if (notice) { notice.textContent = form.getAttribute("data-failed") || "Upload failed"; }
      });
      xhr.send(new FormData(form));
    });
  }

  // "Copy the text" next to input the case page could not save.
  function wireCopy(button) {
    var source = document.getElementById(button.getAttribute("data-copy-from"));
    var status = button.parentElement.querySelector("[data-copy-status]");
    if (!source) { return; }
    function say(attribute) { if (status) { status.textContent = button.getAttribute(attribute) || ""; } }
    button.addEventListener("click", function () {
      source.focus();
      source.select();
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(source.value).then(function () { say("data-copied"); }, function () {
          say(document.execCommand && document.execCommand("copy") ? "data-copied" : "data-copy-failed");
        });
        return;
      }
      say(document.execCommand && document.execCommand("copy") ? "data-copied" : "data-copy-failed");
    });
  }

  // After an htmx autosave the server sends the new case version out of band; nothing else is needed here.
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-upload]").forEach(wireUpload);
    document.querySelectorAll("button[data-copy-from]").forEach(wireCopy);
  });
})();
