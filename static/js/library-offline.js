// The library's offline reader: registers its service worker (library/offline.py) from the library's pages. Loaded as
// a file, so the strict Content-Security-Policy holds. The worker's address comes from this tag's data-worker.
(function () {
  "use strict";
  var script = document.currentScript;
  var worker = script && script.getAttribute("data-worker");
  if (!worker || !("serviceWorker" in navigator)) { return; }
  window.addEventListener("load", function () {
    // Its scope is the folder it is served from: /library/ and nothing else.
    navigator.serviceWorker.register(worker).catch(function () { /* reading online works without it */ });
  });
}());
