// @ts-check
// IndexedDB for the chat screen: the outbox (messages typed offline or not yet acknowledged, sent in order on
// reconnect; the desktop deduplicates by request id, so a message is answered exactly once) and a cache of
// conversations and their messages so the app opens instantly and reads offline.
// File listings and the queue of file changes made offline live in a database of their own ("atlas-files"), so the
// chat schema keeps its version. The desktop's own chat keeps its databases apart ("atlas-desktop-…"): never a phone's
// outbox sent as the desktop.

import { AS_DESKTOP } from "/app-net.js";

/** One IndexedDB database, opened once; run(store, mode, work) runs one request in a transaction. */
function database(name, version, upgrade) {
  let opening;
  const open = () => {
    opening ??= new Promise((resolve, reject) => {
      const request = indexedDB.open(name, version);
      request.onupgradeneeded = (event) => upgrade(request.result, event.oldVersion);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    return opening;
  };
  return async (store, mode, work) => {
    const db = await open();
    return new Promise((resolve, reject) => {
      const tx = db.transaction(store, mode);
      const request = work(tx.objectStore(store));
      tx.oncomplete = () => resolve(request?.result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  };
}

const run = database(AS_DESKTOP ? "atlas-desktop-chat" : "atlas-chat", 1, (db) => {
  db.createObjectStore("outbox", { keyPath: "id" });
  db.createObjectStore("conversations", { keyPath: "id" });
  db.createObjectStore("messages", { keyPath: "conversationId" });
});

const files = database(AS_DESKTOP ? "atlas-desktop-files" : "atlas-files", 2, (db, oldVersion) => {
  if (oldVersion < 1) db.createObjectStore("listings", { keyPath: "path" });
  if (oldVersion < 2) db.createObjectStore("queue", { keyPath: "id" });
});

/** The last listing of each folder seen online, so the Files screen reads offline. */
export const listings = {
  get: (path) => files("listings", "readonly", (s) => s.get(path)),
  put: (path, entries, fetchedAt) => files("listings", "readwrite", (s) => s.put({ path, entries, fetchedAt })),
  remove: (path) => files("listings", "readwrite", (s) => s.delete(path)),
};

/** File changes (upload, rename/move, delete) waiting for the desktop, applied in order (seq) exactly once: each keeps
 * its request id, what the phone saw (ETag) and, for uploads, the file's bytes. */
export const fileQueue = {
  all: async () => (await files("queue", "readonly", (s) => s.getAll())).sort((a, b) => a.seq - b.seq),
  put: (item) => files("queue", "readwrite", (s) => s.put(item)),
  remove: (id) => files("queue", "readwrite", (s) => s.delete(id)),
  /** Swaps an item for its successor (a conflict resolved into a new request with a new id) in one transaction. */
  replace: (oldId, item) => files("queue", "readwrite", (s) => { s.delete(oldId); return s.put(item); }),
  clear: () => files("queue", "readwrite", (s) => s.clear()),
};

export const outbox = {
  all: async () => (await run("outbox", "readonly", (s) => s.getAll())).sort((a, b) => a.createdAt - b.createdAt),
  put: (item) => run("outbox", "readwrite", (s) => s.put(item)),
  remove: (id) => run("outbox", "readwrite", (s) => s.delete(id)),
  /** Empties the outbox (the device was revoked: nothing in it can be sent any more). */
  clear: () => run("outbox", "readwrite", (s) => s.clear()),
};

export const cache = {
  conversations: async () => (await run("conversations", "readonly", (s) => s.getAll())).sort((a, b) => b.updatedAt.localeCompare(a.updatedAt)),
  replaceConversations: (list) => run("conversations", "readwrite", (s) => { s.clear(); for (const c of list) s.put(c); }),
  putConversation: (conversation) => run("conversations", "readwrite", (s) => s.put(conversation)),
  removeConversation: async (id) => {
    await run("conversations", "readwrite", (s) => s.delete(id));
    await run("messages", "readwrite", (s) => s.delete(id));
  },
  messages: async (conversationId) => (await run("messages", "readonly", (s) => s.get(conversationId)))?.messages ?? [],
  putMessages: (conversationId, messages) => run("messages", "readwrite", (s) => s.put({ conversationId, messages })),
};
