// @ts-check
// The service worker of the mobile web client: keeps the static app shell (page, modules, styles, icons, manifest) so
// the app opens without the desktop. Only the shell is cached: API answers (files, chat, auth) never are; the app keeps
// its own data in IndexedDB.
// The desktop fills in BUILD when it serves this file: the shell is every public file of wwwroot at its hashed URL
// (/app.js?v=<hash>), read from the embedded files, so a new module or vendor file is kept without editing a list, and
// the version changes with any file, so a new desktop build installs a new worker and drops the old cache.
// - Hashed URLs never change content: served from the cache, fetched once when missing.
// - The page (/) and unhashed files: the network first (a desktop update is seen at once), the cached copy when the
//   network fails or has not answered within NETWORK_WAIT_MS (the app then says "Offline" and keeps trying).
// Browsers register a service worker only on a secure context with a certificate they trust, so with the desktop's
// default self-signed certificate this file never runs and the app needs the network to start.
const BUILD = { "version": "dev", "shell": ["/"] }; // atlas:build
const CACHE = `atlas-shell-${BUILD.version}`;
const NETWORK_WAIT_MS = 3000;
/** This file runs as a service worker: its global scope has install/activate/fetch events, clients and skipWaiting. */
const worker = /** @type {ServiceWorkerGlobalScope} */ (/** @type {unknown} */ (self));
const SHELL_PATHS = new Set(BUILD.shell.map((url) => new URL(url, self.location.origin).pathname));

worker.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(BUILD.shell)).then(() => worker.skipWaiting()));
});

worker.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((key) => key.startsWith("atlas-shell-") && key !== CACHE).map((key) => caches.delete(key))))
    .then(() => worker.clients.claim()));
});

worker.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin || !SHELL_PATHS.has(url.pathname)) return;
  const key = url.pathname + url.search;
  event.respondWith(url.searchParams.has("v") ? cacheFirst(event.request, key) : networkFirst(event.request, key));
});

/**
 * @param {Request} request
 * @param {string} key the cache key (path and query)
 * @returns {Promise<Response>}
 */
async function cacheFirst(request, key) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(key);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) await cache.put(key, response.clone());
  return response;
}

/**
 * @param {Request} request
 * @param {string} key the cache key (path and query)
 * @returns {Promise<Response>}
 */
async function networkFirst(request, key) {
  const cache = await caches.open(CACHE);
  const network = fetch(request).then(async (response) => {
    if (response.ok) await cache.put(key, response.clone());
    return response;
  });
  network.catch(() => {}); // a late failure after the cached copy was answered is not an error
  let timer;
  const slow = new Promise((resolve) => { timer = setTimeout(resolve, NETWORK_WAIT_MS); });
  try {
    const first = await Promise.race([network, slow]);
    if (first) return first;
    const cached = await cache.match(key);
    return cached ?? await network;
  } catch (error) {
    const cached = await cache.match(key);
    if (cached) return cached;
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
