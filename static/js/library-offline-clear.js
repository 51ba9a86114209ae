// Run on every page shown to someone logged out (the log-in page after a log-out or an ended session): the library's
// offline copies (library/offline.py) are deleted, so the next person on a shared phone finds none.
(function () {
  "use strict";
  var PREFIX = "rightsguard-library-";
  if (!("caches" in window)) { return; }
  caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) { return name.indexOf(PREFIX) === 0; }).map(function (name) {
      return caches.delete(name);
    }));
  }).catch(function () { /* no storage to clear */ });
}());
