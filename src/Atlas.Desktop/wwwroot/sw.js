// The service worker of the mobile web client: keeps the static app shell (HTML, JS, CSS) so the app opens without
// the desktop. Network first (a desktop update is picked up at once), the cached copy when the network fails. Only
// the shell is cached: API answers (files, chat, auth) never are; the app keeps its own data in IndexedDB.
// Browsers register a service worker only on a secure context with a certificate they trust, so with the desktop's
// default self-signed certificate this file never runs and the app needs the network to start.
const CACHE = "atlas-shell-v1";
const SHELL = ["/", "/app.js", "/app-net.js", "/app-db.js", "/app-files.js", "/app-media.js", "/app-ui.js", "/app.css", "/atlas.css"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((key) => key !== CACHE).map((key) => caches.delete(key))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin || !SHELL.includes(url.pathname)) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    try {
      const response = await fetch(event.request);
      if (response.ok) await cache.put(url.pathname, response.clone());
      return response;
    } catch (error) {
      const cached = await cache.match(url.pathname);
      if (cached) return cached;
      throw error;
    }
  })());
});
