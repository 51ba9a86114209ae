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

  // A form that removes something asks first (its data-confirm says what); the page then offers an undo.
  function wireConfirm(form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  }

  // Whether a control differs from what the page was loaded with.
  function changed(control) {
    if (control.type === "hidden" || control.type === "submit" || control.type === "button") { return false; }
    if (control.type === "checkbox" || control.type === "radio") { return control.checked !== control.defaultChecked; }
    if (control.tagName === "SELECT") {
      return Array.prototype.some.call(control.options, function (o) { return o.selected !== o.defaultSelected; });
    }
    return control.value !== control.defaultValue;
  }

  function dirty(form) {
    return Array.prototype.some.call(form.elements, changed);
  }

  // A sub-form with typed input that was not sent (an officer typed but not added): leaving the page by a link asks
  // first. Its own buttons (and "Continue", which sends it) are not links, so they go ahead.
  function wireUnsavedGuard() {
    var guarded = Array.prototype.slice.call(document.querySelectorAll("form[data-unsaved-guard]"));
    if (!guarded.length) { return; }
    document.addEventListener("click", function (event) {
      var link = event.target.closest ? event.target.closest("a[href]") : null;
      if (!link || event.defaultPrevented) { return; }
      var form = guarded.filter(function (f) { return !f.contains(link) && dirty(f); })[0];
      if (form && !window.confirm(form.getAttribute("data-unsaved-message"))) { event.preventDefault(); }
    });
  }

  // "Select all on this page" in the queue: shown only with JavaScript (without it, each case is ticked on its own).
  // The queue's results are swapped in by htmx, so the box is wired by delegation.
  function boxesOf(all) {
    var form = all.form || all.closest("form");
    return form ? form.querySelectorAll("input[type=checkbox][name='" + all.getAttribute("data-select-all") + "']") : [];
  }

  function showSelectAll(root) {
    (root || document).querySelectorAll("input[data-select-all]").forEach(function (all) { all.hidden = false; });
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!target || target.tagName !== "INPUT") { return; }
    if (target.hasAttribute("data-select-all")) {
      Array.prototype.forEach.call(boxesOf(target), function (box) { box.checked = target.checked; });
      return;
    }
    var form = target.form;
    var all = form ? form.querySelector("input[data-select-all='" + target.name + "']") : null;
    if (all) {
      var boxes = Array.prototype.slice.call(boxesOf(all));
      var ticked = boxes.filter(function (box) { return box.checked; }).length;
      all.checked = ticked === boxes.length && ticked > 0;
      all.indeterminate = ticked > 0 && ticked < boxes.length;
    }
  });
  document.addEventListener("htmx:afterSwap", function (event) { showSelectAll(event.target); });

  // A request made by htmx that fails is said on the page, never dropped in silence: the answer is not swapped in
  // (except a 400, which carries its own errors), so without this the click would seem to do nothing.
  var failedFrom = null;
  function sayRequestFailed(event, kind) {
    var box = document.getElementById("request-failed");
    if (!box) { return; }
    box.textContent = box.getAttribute(kind === "offline" ? "data-offline" : "data-failed");
    box.hidden = false;
    failedFrom = event.detail ? event.detail.elt : null;
  }
  document.addEventListener("htmx:responseError", function (event) { sayRequestFailed(event, "failed"); });
  document.addEventListener("htmx:sendError", function (event) { sayRequestFailed(event, "offline"); });
  // The notice goes once the same element's next request goes through.
  document.addEventListener("htmx:afterRequest", function (event) {
    var box = document.getElementById("request-failed");
    if (box && !box.hidden && event.detail && event.detail.successful && event.detail.elt === failedFrom) {
      box.hidden = true;
      failedFrom = null;
    }
  });

  // After an htmx autosave the server sends the new case version out of band; nothing else is needed here.
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-upload]").forEach(wireUpload);
    document.querySelectorAll("button[data-copy-from]").forEach(wireCopy);
    document.querySelectorAll("form[data-confirm]").forEach(wireConfirm);
    wireUnsavedGuard();
    showSelectAll(document);
  });
})();
