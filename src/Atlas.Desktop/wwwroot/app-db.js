// IndexedDB for the chat screen: the outbox (messages typed offline or not yet acknowledged, sent in order on
// reconnect; the desktop deduplicates by request id, so a message is answered exactly once) and a cache of
// conversations and their messages so the app opens instantly and reads offline.
const NAME = "atlas-chat";
let opening;

function open() {
  opening ??= new Promise((resolve, reject) => {
    const request = indexedDB.open(NAME, 1);
    request.onupgradeneeded = () => {
      const db = request.result;
      db.createObjectStore("outbox", { keyPath: "id" });
      db.createObjectStore("conversations", { keyPath: "id" });
      db.createObjectStore("messages", { keyPath: "conversationId" });
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  return opening;
}

async function run(store, mode, work) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(store, mode);
    const request = work(tx.objectStore(store));
    tx.oncomplete = () => resolve(request?.result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

export const outbox = {
  all: async () => (await run("outbox", "readonly", (s) => s.getAll())).sort((a, b) => a.createdAt - b.createdAt),
  put: (item) => run("outbox", "readwrite", (s) => s.put(item)),
  remove: (id) => run("outbox", "readwrite", (s) => s.delete(id)),
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
