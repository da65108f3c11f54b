// The service worker: keeps the app's built files so the app opens with no network at all
// after the first visit. Written in JavaScript because the browser starts a service worker
// as a script of its own; it holds no register data (that lives in IndexedDB).
const CACHE = 'continuity-app';
// Only the page and Trunk's files; never the sync socket, health or metrics.
const NOT_CACHED = ['/sync', '/healthz', '/metrics'];
// The register worker, which the page starts at once. Trunk names a worker's files after
// its binary, not its content, so these are checked with the network first.
const UNHASHED = ['/register-worker_loader.js', '/register-worker.js', '/register-worker_bg.wasm'];

// Fetches the current page and every file it names, and keeps exactly those.
async function refresh() {
  const page = await fetch('/', { cache: 'no-store' });
  if (!page.ok) return;
  const html = await page.clone().text();
  // A file may be named twice (preloaded and then loaded): addAll refuses duplicates.
  const files = [...new Set([...html.matchAll(/["'](\/[^"'?#]+\.(?:js|wasm|css|webmanifest|svg|png))["']/g)].map((m) => m[1]))];
  const cache = await caches.open(CACHE);
  await cache.addAll(files);
  for (const file of UNHASHED) {
    // Revalidated, not downloaded again: unchanged files come back as 304 from the relay.
    const response = await fetch(file, { cache: 'no-cache' });
    if (response.ok) await cache.put(file, response);
  }
  await cache.put('/', page);
  const keep = new Set(['/', ...files, ...UNHASHED].map((f) => new URL(f, self.location.origin).href));
  for (const request of await cache.keys()) {
    if (!keep.has(request.url)) await cache.delete(request);
  }
}

self.addEventListener('install', (event) => {
  event.waitUntil(refresh().then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (NOT_CACHED.some((p) => url.pathname.startsWith(p))) return;
  if (UNHASHED.includes(url.pathname)) {
    event.respondWith(
      fetch(event.request)
        .then((response) => (response.ok ? response : caches.match(url.pathname).then((c) => c || response)))
        .catch(async () => (await caches.match(url.pathname)) || Response.error()),
    );
    return;
  }
  if (event.request.mode === 'navigate') {
    // The page from the network when there is one, so a new version is picked up on the
    // next load (an open session keeps the files it already runs); otherwise the cached page.
    event.respondWith(
      fetch(event.request)
        .then((response) => {
          if (response.ok) event.waitUntil(refresh().catch(() => {}));
          return response;
        })
        .catch(async () => (await caches.match('/')) || Response.error()),
    );
    return;
  }
  // Trunk's files are named by their content: a cached copy is always right.
  event.respondWith(
    caches.match(event.request).then((cached) => cached || fetch(event.request)),
  );
});
