{% load i18n %}// The library's offline reader (library/offline.py says what it keeps, and for whom). Served at /library/sw.js: it
// controls the pages under /library/ only. Online it always asks the server first; it keeps a copy of an answer only
// when the path is on the list below AND the server marked the answer for its reader; offline it answers from the
// copies of the last reader seen, or with a page saying the page was not kept.
"use strict";

// Read by tests/library/test_pwa.py: the list the worker keeps copies by.
const SETTINGS = /*settings*/{{ settings|safe }}/*end settings*/;
const READERS = SETTINGS.prefix + "reader-";
const ASSETS = SETTINGS.prefix + "assets";
const OFFLINE_TEXT = {{ offline_text|safe }};
const OFFLINE_TITLE = {{ offline_title|safe }};

function listed(patterns, path) {
  return patterns.some((pattern) => new RegExp(pattern).test(path));
}

async function forgetAll() {
  const names = await caches.keys();
  await Promise.all(names.filter((name) => name.startsWith(SETTINGS.prefix)).map((name) => caches.delete(name)));
}

async function readerCache() {
  const names = await caches.keys();
  const name = names.find((n) => n.startsWith(READERS));
  return name ? caches.open(name) : null;
}

async function keep(request, response, reader) {
  const name = READERS + reader;
  const names = await caches.keys();
  // Another reader's copies (or this reader's before a change of roles) go before anything is kept.
  await Promise.all(names.filter((n) => n.startsWith(READERS) && n !== name).map((n) => caches.delete(n)));
  const cache = await caches.open(name);
  await cache.put(request, response);
}

async function forget(request) {
  const cache = await readerCache();
  if (cache) {
    await cache.delete(request, { ignoreVary: true });
  }
}

function offlinePage() {
  // The texts are HTML-escaped by the server.
  const html =
    '<!doctype html><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">' +
    "<title>" + OFFLINE_TITLE + "</title><main><h1>" + OFFLINE_TITLE + "</h1><p>" + OFFLINE_TEXT + "</p></main>";
  return new Response(html, { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
}

function expired(response) {
  // A tip past its last day (or a list holding one) is never shown as in force, even offline.
  const until = Number(response.headers.get(SETTINGS.until));
  return until > 0 && Date.now() >= until * 1000;
}

async function fromCopies(request) {
  const cache = await readerCache();
  const kept = cache ? await cache.match(request, { ignoreVary: true }) : undefined;
  if (kept && !expired(kept)) {
    return kept;
  }
  if (kept) {
    await cache.delete(request, { ignoreVary: true });
  }
  if (request.mode === "navigate") {
    return offlinePage();
  }
  return Response.error();
}

async function readerAnswer(request) {
  let response;
  try {
    response = await fetch(request);
  } catch (error) {
    return fromCopies(request);
  }
  const path = new URL(response.url || request.url).pathname;
  if (response.type === "opaqueredirect" || response.status === 401 || (response.redirected && path === SETTINGS.login)) {
    // The session ended (a reader page sends only a logged-out browser elsewhere): nobody's copies stay.
    await forgetAll();
    return response;
  }
  const reader = response.headers.get(SETTINGS.header);
  if (response.status === 200 && !response.redirected && response.type === "basic" && reader) {
    await keep(request, response.clone(), reader);
  } else if (response.status === 403 || response.status === 404 || response.status === 410) {
    // Withdrawn, expired, or no longer for this reader: its copy goes too.
    await forget(request);
  }
  return response;
}

async function assetAnswer(request) {
  try {
    const response = await fetch(request);
    if (response.status === 200 && response.type === "basic") {
      const cache = await caches.open(ASSETS);
      await cache.put(request, response.clone());
    }
    return response;
  } catch (error) {
    const cache = await caches.open(ASSETS);
    return (await cache.match(request)) || Response.error();
  }
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    Promise.all(
      SETTINGS.precache.map((path) =>
        readerAnswer(new Request(path, { credentials: "same-origin" })).catch(() => undefined),
      ),
    ).then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(self.clients.claim());
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") {
    return; // never kept: straight to the network, as without a worker
  }
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  if (listed(SETTINGS.assets, url.pathname)) {
    event.respondWith(assetAnswer(request));
  } else if (listed(SETTINGS.paths, url.pathname)) {
    event.respondWith(readerAnswer(request));
  }
  // Anything else (a case, the queue, the notifications, another API, an editors' page) is left alone: never kept.
});
