// Runs the library's service worker (the file /library/sw.js serves, given as argv[2]) in a sandbox with a stub
// Cache Storage and a scripted network, plays the requests of tests/library/test_pwa.py, and prints what happened as
// JSON: for each request whether the worker answered it, with what status, and what every cache holds afterwards.
"use strict";
const fs = require("fs");
const vm = require("vm");

const ORIGIN = "https://rightsguard.example";
const source = fs.readFileSync(process.argv[2], "utf8");
const plays = JSON.parse(fs.readFileSync(process.argv[3], "utf8"));

const store = new Map();
const key = (request) => (typeof request === "string" ? new URL(request, ORIGIN).href : request.url);
const caches = {
  keys: async () => [...store.keys()],
  delete: async (name) => store.delete(name),
  open: async (name) => {
    if (!store.has(name)) store.set(name, new Map());
    const entries = store.get(name);
    return {
      put: async (request, response) => { entries.set(key(request), { body: await response.text(), headers: [...response.headers] }); },
      match: async (request) => {
        const kept = entries.get(key(request));
        return kept ? new Response(kept.body, { status: 200, headers: kept.headers }) : undefined;
      },
      delete: async (request) => entries.delete(key(request)),
    };
  },
};

let answer = null; // the network's answer to the current request: {status, header, body, redirect, offline}
async function network(request) {
  if (answer.offline) throw new TypeError("Failed to fetch");
  if (answer.redirect) {
    const response = new Response(null, { status: 200 });
    Object.defineProperty(response, "type", { value: "opaqueredirect" });
    Object.defineProperty(response, "status", { value: 0 });
    return response;
  }
  const headers = new Headers({ "Content-Type": "text/html" });
  if (answer.header) headers.set("X-RightsGuard-Offline", answer.header);
  if (answer.until) headers.set("X-RightsGuard-Offline-Until", String(answer.until));
  const response = new Response(answer.body || "page", { status: answer.status || 200, headers });
  Object.defineProperty(response, "type", { value: "basic" });
  return response;
}

const listeners = {};
const self = {
  location: new URL(ORIGIN + "/library/sw.js"),
  addEventListener: (type, listener) => { listeners[type] = listener; },
  skipWaiting: async () => undefined,
  clients: { claim: async () => undefined },
};
vm.runInNewContext(source, { self, caches, fetch: network, Request, Response, Headers, URL, console, Promise });

async function play(step) {
  answer = step.network;
  const init = { method: step.method || "GET" };
  const request = new Request(ORIGIN + step.path, init);
  if (step.navigate) Object.defineProperty(request, "mode", { value: "navigate" });
  let responded = null;
  listeners.fetch({ request, respondWith: (promise) => { responded = promise; }, waitUntil: () => undefined });
  if (responded === null) return { path: step.path, answered: false };
  const response = await responded;
  return { path: step.path, answered: true, status: response.status, body: response.status === 200 ? await response.text() : "" };
}

(async () => {
  const results = [];
  for (const step of plays) {
    const result = await play(step);
    const held = {};
    for (const [name, entries] of store) held[name] = [...entries.keys()].map((url) => url.slice(ORIGIN.length)).sort();
    results.push({ ...result, caches: held });
  }
  process.stdout.write(JSON.stringify(results));
})();
