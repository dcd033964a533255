// @ts-check
// IndexedDB for the chat screen: the outbox (messages typed offline or not yet acknowledged, sent in order on
// reconnect; the desktop deduplicates by request id, so a message is answered exactly once) and a cache of
// conversations and their messages so the app opens instantly and reads offline.
// File listings and the queue of file changes made offline live in a database of their own ("atlas-files"), so the
// chat schema keeps its version. The desktop's own chat keeps its databases apart ("atlas-desktop-…"): never a phone's
// outbox sent as the desktop.

import { AS_DESKTOP } from "/app-net.js";

/** @typedef {import('./wire.js').Conversation} Conversation */
/** @typedef {import('./wire.js').ChatMessage} ChatMessage */
/** @typedef {import('./wire.js').FileEntry} FileEntry */

/**
 * A message in the outbox: what was typed, for which conversation ("local:…" until the desktop created it), and the
 * chat_message data fixed at its first send.
 * @typedef {{ id: string, conversationId: string, text: string, createdAt: number, model?: string,
 *   attachments?: import('./wire.js').Attachment[], replaces?: string, data?: Record<string, any> }} OutboxItem
 */

/**
 * A file change waiting for the desktop: an upload (with its bytes), a move (path → to) or a delete.
 * @typedef {{ id: string, seq: number, kind: "upload" | "move" | "delete", path: string, state: string,
 *   createdAt: string, to?: string, size?: number, blob?: Blob, name?: string, etag?: string | null,
 *   overwrite?: boolean, recursive?: boolean, uploadId?: string | null, generation?: number,
 *   error?: import('./wire.js').WireError | null }} QueueItem
 */

/** @typedef {{ path: string, entries: FileEntry[], fetchedAt: string }} Listing */

/**
 * Runs one request in a transaction of a store and resolves to the request's result.
 * @typedef {(store: string, mode: IDBTransactionMode, work: (store: IDBObjectStore) => IDBRequest | void) => Promise<any>} Run
 */

/**
 * One IndexedDB database, opened once; run(store, mode, work) runs one request in a transaction.
 * @param {string} name
 * @param {number} version
 * @param {(db: IDBDatabase, oldVersion: number) => void} upgrade
 * @returns {Run}
 */
function database(name, version, upgrade) {
  /** @type {Promise<IDBDatabase> | undefined} */
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
      const request = /** @type {IDBRequest | undefined} */ (work(tx.objectStore(store)));
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
  /** @type {(path: string) => Promise<Listing | undefined>} */
  get: (path) => files("listings", "readonly", (s) => s.get(path)),
  /** @type {(path: string, entries: FileEntry[], fetchedAt: string) => Promise<unknown>} */
  put: (path, entries, fetchedAt) => files("listings", "readwrite", (s) => s.put({ path, entries, fetchedAt })),
  /** @type {(path: string) => Promise<unknown>} */
  remove: (path) => files("listings", "readwrite", (s) => s.delete(path)),
};

/** File changes (upload, rename/move, delete) waiting for the desktop, applied in order (seq) exactly once: each keeps
 * its request id, what the phone saw (ETag) and, for uploads, the file's bytes. */
export const fileQueue = {
  /** @type {() => Promise<QueueItem[]>} */
  all: async () => (await files("queue", "readonly", (s) => s.getAll())).sort((/** @type {QueueItem} */ a, /** @type {QueueItem} */ b) => a.seq - b.seq),
  /** @type {(item: QueueItem) => Promise<unknown>} */
  put: (item) => files("queue", "readwrite", (s) => s.put(item)),
  /** @type {(id: string) => Promise<unknown>} */
  remove: (id) => files("queue", "readwrite", (s) => s.delete(id)),
  /** Swaps an item for its successor (a conflict resolved into a new request with a new id) in one transaction. */
  /** @type {(oldId: string, item: QueueItem) => Promise<unknown>} */
  replace: (oldId, item) => files("queue", "readwrite", (s) => { s.delete(oldId); return s.put(item); }),
  /** @type {() => Promise<unknown>} */
  clear: () => files("queue", "readwrite", (s) => s.clear()),
};

export const outbox = {
  /** @type {() => Promise<OutboxItem[]>} */
  all: async () => (await run("outbox", "readonly", (s) => s.getAll())).sort((/** @type {OutboxItem} */ a, /** @type {OutboxItem} */ b) => a.createdAt - b.createdAt),
  /** @type {(item: OutboxItem) => Promise<unknown>} */
  put: (item) => run("outbox", "readwrite", (s) => s.put(item)),
  /** @type {(id: string) => Promise<unknown>} */
  remove: (id) => run("outbox", "readwrite", (s) => s.delete(id)),
  /** Empties the outbox (the device was revoked: nothing in it can be sent any more). */
  /** @type {() => Promise<unknown>} */
  clear: () => run("outbox", "readwrite", (s) => s.clear()),
};

/** The desktop's order: most recently updated first, then by id. The times are compared as instants, not as text: the
 * desktop writes a whole second without a fraction ("…:07+00:00"), which text comparison puts after "…:07.5+00:00". */
/** @type {(a: Conversation, b: Conversation) => number} */
const newestFirst = (a, b) => Date.parse(b.updatedAt) - Date.parse(a.updatedAt) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export const cache = {
  /** @type {() => Promise<Conversation[]>} */
  conversations: async () => (await run("conversations", "readonly", (s) => s.getAll())).sort(newestFirst),
  /** @type {(list: Conversation[]) => Promise<unknown>} */
  replaceConversations: (list) => run("conversations", "readwrite", (s) => { s.clear(); for (const c of list) s.put(c); }),
  /** @type {(conversation: Conversation) => Promise<unknown>} */
  putConversation: (conversation) => run("conversations", "readwrite", (s) => s.put(conversation)),
  /** @type {(id: string) => Promise<void>} */
  removeConversation: async (id) => {
    await run("conversations", "readwrite", (s) => s.delete(id));
    await run("messages", "readwrite", (s) => s.delete(id));
  },
  /** @type {(conversationId: string) => Promise<ChatMessage[]>} */
  messages: async (conversationId) => (await run("messages", "readonly", (s) => s.get(conversationId)))?.messages ?? [],
  /** @type {(conversationId: string, messages: ChatMessage[]) => Promise<unknown>} */
  putMessages: (conversationId, messages) => run("messages", "readwrite", (s) => s.put({ conversationId, messages })),
};
