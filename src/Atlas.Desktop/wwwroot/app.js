// @ts-check
// The chat screen of the mobile web client. A message is written to the IndexedDB outbox first, then sent with its
// request id; the desktop's start event removes it from the outbox. Offline, messages wait there and go out in order
// on reconnect; a resend after a drop uses the same id, which the desktop never answers twice. Answers are generated
// on the desktop: on reconnect, on coming back to the foreground and when the network returns, every answer still
// streaming is resumed from the last seq received. Events are applied strictly in seq order: at or below what the
// message has they are ignored, after a gap they wait and the message is resumed from what it has; a snapshot replaces
// the text. A message resent after a reconnect is shown once, whichever of the outbox, the desktop's load and its
// start event comes first.
import { Connection, desktopDevice } from "/app-net.js";
import { outbox, cache } from "/app-db.js";
import { initFiles, showFiles } from "/app-files.js";
import { MEDIA_ID_PREFIX } from "/app-media.js";
import { button, byId, el } from "/app-ui.js";
import { fillMessage as fillMessageParts } from "/app-messages.js";
import { chatCancelData, chatMessageData, conversationData, frameError, resumeData } from "/wire.js";

/** @typedef {import('./wire.js').Frame} Frame */
/** @typedef {import('./wire.js').Conversation} Conversation */
/** @typedef {import('./wire.js').ChatMessage} ChatMessage */
/** @typedef {import('./wire.js').Attachment} Attachment */
/** @typedef {import('./app-db.js').OutboxItem} OutboxItem */
/** @typedef {import('./app-messages.js').MessageElement} MessageElement */

/** @typedef {{ defaultModel?: string, models: { id: string, name: string, vision?: boolean, tools?: boolean }[] }} Models */

/**
 * The chat screen's state (see the comments on each field below).
 * @typedef {{ conversations: Conversation[], current: string | null, messages: ChatMessage[],
 *   streams: Map<string | undefined, ChatMessage>,
 *   requests: Map<string, { resolve: (data: any) => void, reject: (error: Error) => void }>,
 *   acks: Map<string, (outcome: { error?: import('./wire.js').WireError } | null) => void>,
 *   sending: Map<string, OutboxItem>, local: Map<string, string>, elements: Map<string | undefined, MessageElement>,
 *   models: Models | null, flushing: boolean, lastCreated: number, attachment: File | null, contexts: Attachment[],
 *   search: { query: string, results: Conversation[], next: string | null, busy: boolean, local: boolean, generation: number },
 *   wasOnline?: boolean, startWaited?: boolean }} ChatState
 */

/** @param {string} id */
const $ = (id) => byId(id, HTMLElement);
/** @type {import('./app-net.js').Device | null} */
const device = desktopDevice() ?? JSON.parse(localStorage.getItem("atlas.device") ?? "null");
/** @type {ChatState} */
const state = {
  conversations: [],
  current: null, // a conversation id, "local:<request id>" for one not created yet, or null for a new chat
  messages: [],
  streams: new Map(), // messageId -> assistant message still being generated
  requests: new Map(), // request id -> { resolve, reject } (conversation requests, cancel)
  acks: new Map(), // outbox id -> resolve, while the flush waits for the desktop to take it
  sending: new Map(), // outbox id -> item, sent and not yet taken
  local: new Map(), // "local:…" -> the conversation id the desktop created
  elements: new Map(), // message key -> element
  models: null,
  flushing: false,
  lastCreated: 0, // outbox order: strictly increasing even within one millisecond
  attachment: null, // a photo picked for the next message
  contexts: [], // media results attached to the next message ({ kind: "context", title, text })
  search: { query: "", results: [], next: null, busy: false, local: false, generation: 0 },
};
/** The desktop refuses longer context attachments (Atlas:Chat:MaxContextChars); the phone trims first. */
const MAX_CONTEXT_CHARS = 40000;
/** @type {Set<string>} */
const TERMINAL = new Set(["done", "error", "cancelled"]);
/** @type {Connection} */
let conn;

function newId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The conversation id the desktop created for a "local:…" one, once known (any other id as it is).
 * @overload
 * @param {string} id
 * @returns {string}
 */
/**
 * @overload
 * @param {string | null | undefined} id
 * @returns {string | null | undefined}
 */
/** @param {string | null | undefined} id */
function resolveConversation(id) {
  return id?.startsWith("local:") ? state.local.get(id) ?? id : id;
}

// ---------------------------------------------------------------------------------------------------- rendering

/**
 * @param {string} text
 * @param {string} kind
 */
function setStatus(text, kind) {
  const el = $("status");
  el.textContent = text;
  el.dataset.state = kind;
}

/** Relative time for the conversation list: "just now", "5 min ago", "3 h ago" (today), "Yesterday", the weekday within
 * a week, then the date (with the year when it is another year). */
/** @param {string} iso */
function relativeTime(iso, now = Date.now()) {
  const then = new Date(iso);
  const minutes = Math.floor((now - then.getTime()) / 60000);
  if (minutes < 1) return "just now";
  if (minutes < 60) return `${minutes} min ago`;
  const today = new Date(now);
  today.setHours(0, 0, 0, 0);
  if (then >= today) return `${Math.floor(minutes / 60)} h ago`;
  const day = (/** @type {number} */ offset) => new Date(today.getFullYear(), today.getMonth(), today.getDate() + offset);
  if (then >= day(-1)) return "Yesterday";
  if (then >= day(-6)) return then.toLocaleDateString(undefined, { weekday: "long" });
  /** @type {Intl.DateTimeFormatOptions} */
  const year = then.getFullYear() === today.getFullYear() ? {} : { year: "numeric" };
  return then.toLocaleDateString(undefined, { day: "numeric", month: "short", ...year });
}

/** One entry of the conversation list: a button (its name is the title, the last message or the search match, and
 * when it was last used) with Rename and Delete beside it. */
/** @param {Conversation} conversation */
function conversationItem(conversation) {
  const item = document.createElement("li");
  const current = conversation.id === resolveConversation(state.current);
  item.className = current ? "current" : "";
  const openButton = button(null, "open", () => { closeDrawer(); open(conversation.id); });
  if (current) openButton.setAttribute("aria-current", "page");
  const when = el("time", relativeTime(conversation.updatedAt), "when");
  when.dateTime = conversation.updatedAt;
  when.title = new Date(conversation.updatedAt).toLocaleString();
  const line = el("span", null, "line");
  line.append(el("span", conversation.title, "title"), " ", when);
  const text = conversation.match ?? conversation.preview;
  openButton.append(line);
  if (text) openButton.append(el("span", text, "preview"));
  const rename = button("Rename", "secondary small", () => renameConversation(conversation));
  rename.setAttribute("aria-label", `Rename “${conversation.title}”`);
  const remove = button("Delete", "danger small", () => deleteConversation(conversation));
  remove.setAttribute("aria-label", `Delete “${conversation.title}”`);
  item.append(openButton, rename, remove);
  return item;
}

/** The conversation list, or the search results while a search is typed, with a helpful line when there is none. */
function renderConversations() {
  const search = state.search;
  const searching = search.query !== "";
  const shown = searching ? search.results : state.conversations;
  $("conversations").replaceChildren(...shown.map(conversationItem));
  const empty = $("conversations-empty");
  const clear = $("search-clear");
  clear.hidden = !searching;
  if (searching && search.busy && shown.length === 0) empty.textContent = "Searching…";
  else if (searching && shown.length === 0) empty.textContent = `No conversations match “${search.query}”. Try other words, or clear the search.`;
  else if (!searching && shown.length === 0) {
    empty.textContent = "No conversations yet. Write a message below and send it to start one; your conversations are listed here.";
  } else empty.textContent = searching && search.local ? "The desktop is not reachable: these are the matches among the chats saved on this phone." : "";
  $("search-more").hidden = !searching || !search.next;
  const title = state.conversations.find((c) => c.id === resolveConversation(state.current))?.title;
  document.title = title ? `${title} — Atlas` : "Atlas";
}

function renderMessages() {
  const box = $("messages");
  box.replaceChildren();
  state.elements.clear();
  for (const message of state.messages) box.append(messageElement(message));
  box.scrollTop = box.scrollHeight;
  updateComposer();
}

/** @param {ChatMessage} message */
function keyOf(message) {
  return message.role === "user" ? `u:${message.requestId ?? message.id}` : message.id;
}

/** @param {ChatMessage} message */
function messageElement(message) {
  /** @type {MessageElement} */
  const el = document.createElement("div");
  state.elements.set(keyOf(message), el);
  fillMessage(el, message);
  outageNote(el, message);
  return el;
}

/** An answer being generated while the desktop cannot be reached: it goes on there (a generation belongs to the
 * desktop), so say that instead of "Answering…"; it resumes in place once the desktop is back. */
/**
 * @param {HTMLElement} element
 * @param {ChatMessage} message
 */
function outageNote(element, message) {
  const unreachable = message.status === "streaming" && conn != null && conn.state !== "online";
  element.classList.toggle("unreachable", unreachable);
  const meta = element.querySelector(".meta");
  if (unreachable && meta) meta.textContent = OUTAGE_NOTE;
}

const OUTAGE_NOTE = "The desktop cannot be reached. The answer continues there and appears here when it is back.";

/**
 * What a message's buttons do (app-messages.js draws them).
 * @type {import('./app-messages.js').MessageActions}
 */
const messageActions = {
  online: () => conn?.state === "online",
  isLastAnswer: (message) => state.messages.at(-1) === message,
  canRegenerate: (message) => Boolean(userBefore(message)?.id),
  regenerate: (message) => {
    const user = userBefore(message);
    if (user?.id) send(user.content, user.attachments, user.id);
  },
  edit: (message, text) => send(text, message.attachments, message.id),
  sendAgain: (message) => {
    state.messages = state.messages.filter((m) => m !== message);
    renderMessages();
    send(message.content, message.attachments, message.replaces);
  },
};

/** A message was added after the answer that was the last one: it loses its Regenerate / Retry button. */
/** @param {ChatMessage | undefined} previous */
function lastAnswerChanged(previous) {
  if (previous?.role === "assistant" && previous.status !== "streaming") draw(previous);
}

/** The user message an answer answers (the one before it). */
/** @param {ChatMessage} message */
function userBefore(message) {
  const index = state.messages.indexOf(message);
  return index > 0 ? state.messages.slice(0, index).findLast((m) => m.role === "user") : undefined;
}

/**
 * @param {MessageElement} el
 * @param {ChatMessage} message
 */
function fillMessage(el, message) {
  fillMessageParts(el, message, messageActions);
}

// Deltas arrive faster than a screen draws: a streaming answer is drawn at most once per frame.
/** @type {Set<ChatMessage>} */
const dirty = new Set();
let frame = 0;

function drawDirty() {
  frame = 0;
  for (const message of dirty) draw(message);
  dirty.clear();
}

/** @param {ChatMessage} message */
function update(message) {
  if (message.status === "streaming" && document.visibilityState === "visible") {
    dirty.add(message);
    frame ||= requestAnimationFrame(drawDirty);
    return;
  }
  dirty.delete(message);
  draw(message);
}

/** @param {ChatMessage} message */
function draw(message) {
  const box = $("messages");
  const following = box.scrollHeight - box.scrollTop - box.clientHeight < 120;
  const el = state.elements.get(keyOf(message));
  if (el) {
    fillMessage(el, message);
    outageNote(el, message);
  }
  if (following) box.scrollTop = box.scrollHeight;
  updateComposer();
}

function updateComposer() {
  const stop = byId("stop", HTMLButtonElement);
  stop.hidden = !state.messages.some((m) => m.role === "assistant" && m.status === "streaming");
  // Stop needs the desktop: while it cannot be reached the button is off and says why (the answer goes on there).
  const reachable = conn?.state === "online";
  stop.disabled = !reachable;
  stop.title = reachable ? "Stop the answer" : "Stop works once the desktop is reachable again";
}

// ------------------------------------------------------------------------------------------------ conversations

/**
 * A request answered by a frame with its id (conversation requests, cancel).
 * @param {string} type
 * @param {Record<string, any>} data
 * @returns {Promise<any>}
 */
async function request(type, data) {
  const id = newId();
  const reply = new Promise((resolve, reject) => state.requests.set(id, { resolve, reject }));
  if (!conn.send({ type, id, data })) {
    state.requests.delete(id);
    throw new Error("Not connected to the desktop.");
  }
  const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error("The desktop did not answer.")), 30000));
  try {
    return await Promise.race([reply, timeout]);
  } finally {
    state.requests.delete(id);
  }
}

async function refreshConversations() {
  const reply = await request("conversation_request", conversationData("list"));
  state.conversations = reply.conversations ?? [];
  await cache.replaceConversations(state.conversations);
  renderConversations();
}

/** The outbox messages of a conversation that the desktop has not shown to have taken (messages it loaded). */
/**
 * @param {string | null} conversationId
 * @param {ChatMessage[]} [loaded]
 * @returns {Promise<ChatMessage[]>}
 */
async function pendingFor(conversationId, loaded = []) {
  const taken = new Set(loaded.filter((m) => m.role === "user" && m.requestId).map((m) => m.requestId));
  return (await outbox.all())
    .filter((item) => resolveConversation(item.conversationId) === conversationId && !taken.has(item.id))
    .map((item) => ({ role: "user", requestId: item.id, content: item.text, status: "pending", tools: [], replaces: item.replaces }));
}

/** @param {string | null} conversationId */
async function load(conversationId) {
  // Loading the conversation on screen again (after a reconnect, or when the desktop had already answered a resent
  // message) keeps the screen until the desktop answers: the cache is older than what is shown, and rendering it
  // would take away the message just sent and the answer being followed (and show the previous answer as the last).
  const again = conversationId != null && resolveConversation(state.current) === conversationId;
  state.current = conversationId;
  remember();
  renderConversations();
  if (!again) {
    state.messages = [...(conversationId ? await cache.messages(conversationId) : []), ...await pendingFor(conversationId)];
    renderMessages();
  }
  if (!conversationId || conversationId.startsWith("local:") || conn.state !== "online") return;
  try {
    const reply = await request("conversation_request", conversationData("load", { conversationId }));
    if (resolveConversation(state.current) !== conversationId) return;
    /** @type {ChatMessage[]} */
    const messages = reply.messages.map((/** @type {ChatMessage} */ m) => ({ ...m, tools: m.tools ?? [] }));
    await cache.putMessages(conversationId, messages.filter((m) => m.status !== "streaming"));
    state.messages = [...messages, ...await pendingFor(conversationId, messages)];
    for (const message of messages) {
      if (message.role === "assistant" && message.status === "streaming") follow(message);
    }
    renderMessages();
  } catch (/** @type {any} */ error) {
    if (error.code === "not_found" && resolveConversation(state.current) === conversationId) return missing(conversationId);
    setStatus(error.message, "error");
  }
}

/** The address named a conversation the desktop does not have (deleted, or never this device's): say so and show a
 * new chat in its place. */
/** @param {string} conversationId */
async function missing(conversationId) {
  if (localStorage.getItem(LAST_CONVERSATION) === conversationId) localStorage.removeItem(LAST_CONVERSATION);
  state.conversations = state.conversations.filter((c) => c.id !== conversationId);
  await cache.removeConversation(conversationId);
  await load(null);
  $("conversations-empty").textContent = "That conversation is not on the desktop any more; here is a new chat.";
  setStatus("That conversation was not found on the desktop (deleted?).", "error");
}

/** Follows an answer still being generated: resume from its last seq (the desktop replays only what is missing). */
/** @param {ChatMessage} message */
function follow(message) {
  const known = state.streams.get(message.id);
  if (known && known !== message && (known.lastSeq ?? 0) > (message.lastSeq ?? 0)) {
    Object.assign(message, { content: known.content, tools: known.tools, lastSeq: known.lastSeq });
  }
  state.streams.set(message.id, message);
  resume(message);
}

/** Asks for the events after what the message has; what was waiting after a gap is dropped (the replay has it). */
/** @param {ChatMessage} message */
function resume(message) {
  message.waiting = new Map();
  conn.send({ type: "resume", id: newId(), data: resumeData(/** @type {string} */ (message.id), message.lastSeq ?? 0) });
}

function resumeAll() {
  for (const message of state.streams.values()) follow(message);
}

/** @param {Conversation} conversation */
async function renameConversation(conversation) {
  const title = prompt("New title", conversation.title);
  if (!title) return;
  try {
    const reply = await request("conversation_request", conversationData("rename", { conversationId: conversation.id, title }));
    for (const same of [...state.conversations, ...state.search.results].filter((c) => c.id === conversation.id)) Object.assign(same, reply.conversation);
    Object.assign(conversation, reply.conversation);
    await cache.putConversation(state.conversations.find((c) => c.id === conversation.id) ?? conversation);
    renderConversations();
  } catch (/** @type {any} */ error) {
    setStatus(error.message, "error");
  }
}

/** @param {Conversation} conversation */
async function deleteConversation(conversation) {
  if (!confirm(`Delete "${conversation.title}"?`)) return;
  try {
    await request("conversation_request", conversationData("delete", { conversationId: conversation.id }));
    await forgetConversation(conversation.id);
  } catch (/** @type {any} */ error) {
    setStatus(error.message, "error");
  }
}

/** @param {string} id */
async function forgetConversation(id) {
  state.conversations = state.conversations.filter((c) => c.id !== id);
  state.search.results = state.search.results.filter((c) => c.id !== id);
  if (localStorage.getItem(LAST_CONVERSATION) === id) localStorage.removeItem(LAST_CONVERSATION);
  await cache.removeConversation(id);
  if (resolveConversation(state.current) === id) await load(null);
  renderConversations();
}

// ------------------------------------------------------------------------------------------------ addresses

/** The conversation last shown, reopened when the app starts without an address (from the home screen). */
const LAST_CONVERSATION = "atlas.lastConversation";

/** The address of a conversation (#/c/<id>; a "local:…" id until the desktop has created it), or #/new. */
/** @param {string | null | undefined} conversationId */
function routeOf(conversationId) {
  return conversationId ? `#/c/${encodeURIComponent(conversationId)}` : "#/new";
}

/** The conversation an address names: its id, null for #/new, undefined for no address or one that is not ours. */
/**
 * @param {string} hash
 * @returns {string | null | undefined}
 */
function fromRoute(hash) {
  if (hash === "#/new") return null;
  const match = /^#\/c\/([^/?#]{1,200})$/.exec(hash);
  if (!match) return undefined;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return undefined;
  }
}

/** Opens a conversation (null: a new chat) as a new history entry, so Back returns to the one before. */
/** @param {string | null} conversationId */
function open(conversationId) {
  const route = routeOf(conversationId);
  if (location.hash !== route) history.pushState(null, "", route);
  return load(conversationId);
}

/** Keeps the address (replacing, not adding, a history entry) and the remembered conversation in step with the
 * conversation on screen; a new chat's address becomes the conversation's once the desktop has created it. */
function remember() {
  const route = routeOf(resolveConversation(state.current));
  if (location.hash !== route) history.replaceState(null, "", route);
  if (state.current) localStorage.setItem(LAST_CONVERSATION, resolveConversation(state.current));
}

/** Back, Forward, or an address typed or opened from a link: show the conversation it names. */
function onRoute() {
  const target = fromRoute(location.hash);
  if (target === undefined || (target ?? null) === (resolveConversation(state.current) ?? null)) return;
  closeDrawer();
  load(target);
}

// ------------------------------------------------------------------------------------------------ search

const SEARCH_PAGE = 20;
/** @type {ReturnType<typeof setTimeout> | undefined} */
let searchTimer;

/** A search typed in the drawer: the desktop searches every conversation (titles and message text, a page at a
 * time); without the desktop the chats saved on this phone are searched. Answers to an older query are dropped. */
function onSearchInput() {
  clearTimeout(searchTimer);
  const query = byId("search", HTMLInputElement).value.trim();
  const search = state.search;
  search.generation++;
  Object.assign(search, { query, results: [], next: null, busy: query !== "", local: false });
  renderConversations();
  if (query) searchTimer = setTimeout(() => runSearch(query, null, search.generation), 250);
}

/**
 * @param {string} query
 * @param {string | null} cursor
 * @param {number} generation
 */
async function runSearch(query, cursor, generation) {
  const search = state.search;
  /** @type {{ results: Conversation[], next: string | null, local: boolean }} */
  let page;
  try {
    if (conn.state !== "online") throw new Error("offline");
    const reply = await request("conversation_request", conversationData("search", { query, limit: SEARCH_PAGE, ...(cursor ? { cursor } : {}) }));
    page = { results: reply.conversations ?? [], next: reply.next ?? null, local: false };
  } catch (/** @type {any} */ error) {
    if (error.code) {
      if (generation === search.generation) setStatus(error.message, "error");
      page = { results: [], next: null, local: false };
    } else {
      page = { results: await searchSaved(query), next: null, local: true };
    }
  }
  if (generation !== search.generation) return;
  Object.assign(search, { results: cursor ? [...search.results, ...page.results] : page.results, next: page.next, busy: false, local: page.local });
  renderConversations();
}

/** Searches the conversations saved on this phone (titles and the messages in its cache). */
/** @param {string} query */
async function searchSaved(query) {
  const needle = query.toLocaleLowerCase();
  /** @type {Conversation[]} */
  const found = [];
  for (const conversation of state.conversations) {
    const messages = await cache.messages(conversation.id).catch(() => []);
    const hit = messages.findLast((m) => m.content?.toLocaleLowerCase().includes(needle));
    if (hit || /** @type {string} */ (conversation.title).toLocaleLowerCase().includes(needle)) {
      found.push({ ...conversation, match: hit ? hit.content.replace(/\s+/g, " ").slice(0, 160) : undefined });
    }
  }
  return found;
}

function clearSearch() {
  byId("search", HTMLInputElement).value = "";
  onSearchInput();
  $("search").focus();
}

// ------------------------------------------------------------------------------------------------ sending

/** Puts the picked photo into this device's files (chat/…) and returns the attachment that names it. */
/**
 * @param {File} file
 * @returns {Promise<Attachment>}
 */
async function uploadAttachment(file) {
  const name = file.name.replace(/[^A-Za-z0-9._-]/g, "_").slice(-80) || "photo";
  const path = `chat/${Date.now()}-${name}`;
  const response = await conn.api(`/files/write?path=${encodeURIComponent(path)}`, { method: "POST", body: file });
  if (!response.ok) {
    const json = await response.json().catch(() => ({}));
    throw new Error(json?.error?.message ?? `The photo could not be stored (HTTP ${response.status}).`);
  }
  return { kind: "image", path };
}

/** Sends a message through the outbox. `replaces` (edit, regenerate, retry) names the user message it takes the place of:
 * that message and everything after it leave the screen now, and the desktop deletes them when it takes this one. */
/**
 * @param {string} text
 * @param {Attachment[] | undefined} attachments
 * @param {string} [replaces]
 */
async function send(text, attachments, replaces) {
  const id = newId();
  const createdAt = Math.max(Date.now(), state.lastCreated + 1);
  state.lastCreated = createdAt;
  if (!state.current) {
    state.current = `local:${id}`;
    remember();
    renderConversations();
  }
  const model = byId("model", HTMLSelectElement).value;
  /** @type {OutboxItem} */
  const item = { id, conversationId: state.current, text, createdAt };
  if (model && model !== state.models?.defaultModel) item.model = model;
  if (attachments?.length) item.attachments = attachments;
  if (replaces) item.replaces = replaces;
  await outbox.put(item);
  if (replaces) dropFrom(replaces);
  /** @type {ChatMessage} */
  const message = { role: "user", requestId: id, content: text, status: "pending", tools: [], attachments, replaces };
  const previous = state.messages.at(-1);
  state.messages.push(message);
  $("messages").append(messageElement(message));
  lastAnswerChanged(previous);
  $("messages").scrollTop = $("messages").scrollHeight;
  flush();
}

/** Takes a replaced user message and everything after it off the screen (and stops following those answers). */
/** @param {string} userMessageId */
function dropFrom(userMessageId) {
  const index = state.messages.findIndex((m) => m.role === "user" && m.id === userMessageId);
  if (index < 0) return;
  for (const message of state.messages.slice(index)) {
    if (message.id) state.streams.delete(message.id);
    dirty.delete(message);
  }
  state.messages = state.messages.slice(0, index);
  renderMessages();
}

/** Sends the outbox in order, one message at a time; each stays there until the desktop takes it (its start event). */
async function flush() {
  if (state.flushing || conn.state !== "online") return;
  state.flushing = true;
  try {
    for (const item of await outbox.all()) {
      if (conn.state !== "online") break;
      if (!item.data) {
        // Fixed at the first send and kept: a resend must be the same request, or the desktop refuses it as a
        // different message under a reused id.
        const conversationId = resolveConversation(item.conversationId);
        item.data = chatMessageData({
          conversationId: conversationId && !conversationId.startsWith("local:") ? conversationId : undefined,
          text: item.text,
          model: item.model,
          attachments: item.attachments,
          replaces: item.replaces,
        });
        await outbox.put(item);
      }
      const data = item.data;
      /** @type {Promise<{ error?: import('./wire.js').WireError } | null>} */
      const taken = new Promise((resolve) => state.acks.set(item.id, resolve));
      state.sending.set(item.id, item);
      if (!conn.send({ type: "chat_message", id: item.id, data })) break;
      const outcome = await Promise.race([taken, new Promise((/** @type {(value: null) => void} */ resolve) => setTimeout(() => resolve(null), 30000))]);
      state.acks.delete(item.id);
      if (outcome === null) break; // no answer: it stays in the outbox and goes again (same id) after a reconnect
      if (outcome.error) await failed(item, outcome.error);
    }
  } finally {
    state.flushing = false;
  }
}

/**
 * @param {OutboxItem} item
 * @param {import('./wire.js').WireError} error
 */
async function failed(item, error) {
  await outbox.remove(item.id);
  const message = state.messages.find((m) => m.role === "user" && m.requestId === item.id);
  if (message) {
    message.status = "failed";
    message.error = error;
    update(message);
  }
}

/** The desktop took an outbox message: the first event answering it (start, or a snapshot when it already ran). */
/**
 * @param {OutboxItem} item
 * @param {any} event the chat_response event (data of the frame)
 */
function taken(item, event) {
  state.sending.delete(item.id);
  if (item.conversationId?.startsWith("local:")) {
    state.local.set(item.conversationId, event.conversationId);
    if (state.current === item.conversationId) state.current = event.conversationId;
    if (resolveConversation(state.current) === event.conversationId) remember();
  }
  outbox.remove(item.id).then(async () => {
    state.acks.get(item.id)?.(event);
    if (event.kind === "snapshot" && resolveConversation(state.current) === event.conversationId) await load(event.conversationId);
  });
}

// ------------------------------------------------------------------------------------------------ events

/** @param {Frame} frame */
function onChatEvent(frame) {
  const event = frame.data;
  const item = frame.re ? state.sending.get(frame.re) : undefined;
  if (item) taken(item, event);
  const message = state.streams.get(event.messageId) ?? state.messages.find((m) => m.id === event.messageId);
  if (event.kind === "start" && !message) {
    started(event);
    return;
  }
  if (!message) return;
  if (event.kind === "start") shownOnce(event.userMessage);
  if (event.kind === "snapshot") {
    message.waiting = new Map();
    apply(message, event);
    return;
  }
  if (event.seq <= (message.lastSeq ?? 0)) return; // already have it
  if (event.seq > (message.lastSeq ?? 0) + 1) {
    // A gap (the desktop never sends one to a socket, but a client must not apply past it): keep the event and ask
    // for what is missing once.
    const gapped = !message.waiting?.size;
    message.waiting ??= new Map();
    message.waiting.set(event.seq, event);
    if (gapped) conn.send({ type: "resume", id: newId(), data: resumeData(/** @type {string} */ (message.id), message.lastSeq ?? 0) });
    return;
  }
  apply(message, event);
  while (message.waiting?.size) {
    const lastSeq = /** @type {number} */ (message.lastSeq); // apply set it
    for (const seq of message.waiting.keys()) if (seq <= lastSeq) message.waiting.delete(seq);
    const next = message.waiting.get(lastSeq + 1);
    if (!next) break;
    apply(message, next);
  }
}

/**
 * Applies one event in order (or a snapshot) to the message and shows it.
 * @param {ChatMessage} message
 * @param {any} event a chat_response event (docs/atlas-protocol.md)
 */
function apply(message, event) {
  message.lastSeq = event.kind === "snapshot" ? event.seq : Math.max(message.lastSeq ?? 0, event.seq);
  switch (event.kind) {
    case "delta":
      message.content += event.delta;
      break;
    case "tool_call":
      message.tools.push({ call: event.toolCall, startedAt: Date.now() });
      break;
    case "tool_result": {
      const tool = message.tools.find((t) => t.call.id === event.toolResult.id);
      if (tool) Object.assign(tool, { result: event.toolResult, endedAt: Date.now() });
      else message.tools.push({ call: { id: event.toolResult.id, name: event.toolResult.name }, result: event.toolResult });
      break;
    }
    case "done":
      Object.assign(message, { status: "done", usage: event.usage, notice: event.notice, finishReason: event.finishReason });
      break;
    case "error":
      Object.assign(message, { status: event.error?.code === "interrupted" ? "interrupted" : "error", error: event.error, usage: event.usage });
      break;
    case "cancelled":
      message.status = "cancelled";
      break;
    case "snapshot":
      Object.assign(message, { content: event.content ?? "", tools: event.tools ?? [], status: event.status, error: event.error, usage: event.usage });
      break;
  }
  update(message);
  if (TERMINAL.has(event.kind) || (event.kind === "snapshot" && event.status !== "streaming")) {
    state.streams.delete(message.id);
    delete message.waiting;
    const conversationId = resolveConversation(state.current);
    if (conversationId && !conversationId.startsWith("local:") && state.messages.includes(message)) {
      cache.putMessages(conversationId, state.messages.filter((m) => m.status !== "pending" && m.status !== "streaming"));
    }
  }
}

/** The user's message as the desktop took it: one bubble for its request id, however many paths showed it. */
/** @param {ChatMessage | undefined} userMessage */
function shownOnce(userMessage) {
  if (!userMessage?.requestId) return;
  const same = state.messages.filter((m) => m.role === "user" && m.requestId === userMessage.requestId);
  if (same.length === 0) return;
  Object.assign(same[0], { id: userMessage.id, status: "done" });
  if (same.length > 1) {
    state.messages = state.messages.filter((m) => !same.slice(1).includes(m));
    renderMessages();
  } else {
    update(same[0]);
  }
}

/** @param {any} event the start event of an answer */
function started(event) {
  /** @type {ChatMessage} */
  const assistant = { id: event.messageId, role: "assistant", content: "", status: "streaming", lastSeq: event.seq, tools: [], model: event.model };
  state.streams.set(event.messageId, assistant);
  if (resolveConversation(state.current) !== event.conversationId) {
    refreshConversations().catch(() => {});
    return; // another conversation (or another session's new one): the list shows it
  }
  if (event.replaces) dropFrom(event.replaces); // an edit, regenerate or retry (here or in another session)
  if (state.messages.some((m) => m.role === "user" && m.requestId === event.userMessage?.requestId)) {
    shownOnce(event.userMessage);
  } else {
    const shown = { ...event.userMessage, tools: [] };
    const previous = state.messages.at(-1);
    state.messages.push(shown);
    $("messages").append(messageElement(shown));
    lastAnswerChanged(previous);
  }
  if (!state.messages.some((m) => m.id === event.messageId)) {
    state.messages.push(assistant);
    $("messages").append(messageElement(assistant));
  }
  renderConversationsSoon();
  updateComposer();
}

/** @type {ReturnType<typeof setTimeout> | undefined} */
let listTimer;
function renderConversationsSoon() {
  clearTimeout(listTimer);
  listTimer = setTimeout(() => refreshConversations().catch(() => {}), 300);
}

/** @param {Event} event */
function onFrame(event) {
  const frame = /** @type {CustomEvent<Frame>} */ (event).detail;
  if (frame.type === "chat_response") {
    if (frame.re && state.requests.has(frame.re)) {
      state.requests.get(frame.re)?.resolve(frame.data);
      return;
    }
    onChatEvent(frame);
  } else if (frame.type === "conversation_response") {
    if (frame.re && state.requests.has(frame.re)) {
      state.requests.get(frame.re)?.resolve(frame.data);
    } else if (frame.data?.op === "deleted") {
      forgetConversation(frame.data.conversationId);
    } else if (frame.data?.op === "changed") {
      refreshConversations().catch(() => {});
    }
  } else if (frame.type === "error" && frame.re?.startsWith(MEDIA_ID_PREFIX)) {
    // A media job's error: the Files screen shows it.
  } else if (frame.type === "error" && frame.re) {
    if (state.requests.has(frame.re)) state.requests.get(frame.re)?.reject(frameError(frame));
    else if (state.acks.has(frame.re)) {
      state.sending.delete(frame.re);
      state.acks.get(frame.re)?.({ error: frame.error });
    }
    else setStatus(/** @type {import('./wire.js').WireError} */ (frame.error).message, "error");
  } else if (frame.type === "status_update" && frame.data?.llm) {
    // A notice in the chat screen, not the connection state: files and media work without an LLM.
    $("notice").textContent = frame.data.llm.configured ? "" : "Chat is not set up on the desktop yet (no LLM configured).";
    $("notice").hidden = frame.data.llm.configured;
  }
}

async function loadModels() {
  try {
    const response = await conn.api("/models");
    if (!response.ok) return;
    /** @type {Models} */
    const models = await response.json();
    state.models = models;
    const select = $("model");
    const chosen = localStorage.getItem("atlas.model") ?? models.defaultModel;
    select.replaceChildren(...models.models.map((m) => {
      const option = document.createElement("option");
      option.value = m.id;
      option.textContent = `${m.name}${m.vision ? " 👁" : ""}${m.tools ? " 🔧" : ""}`;
      option.selected = m.id === chosen;
      return option;
    }));
  } catch {
    // The picker keeps the desktop's default.
  }
}

async function onOpen() {
  setStatus("Online", "online");
  try {
    await refreshConversations();
  } catch {
    // Shown from the cache.
  }
  const current = resolveConversation(state.current);
  if (current && !current.startsWith("local:")) await load(current);
  resumeAll();
  flush();
  if (!state.models) loadModels();
}

function closeDrawer() {
  $("drawer").classList.remove("open");
  $("menu").setAttribute("aria-expanded", "false");
}

// ------------------------------------------------------------------------------------------------ tabs, attachments

/** @param {string | undefined} name */
function showView(name) {
  for (const tab of document.querySelectorAll("#tabs button")) /** @type {HTMLElement} */ (tab).setAttribute("aria-selected", String(/** @type {HTMLElement} */ (tab).dataset.view === name));
  $("chat-view").hidden = name !== "chat";
  $("files-view").hidden = name !== "files";
  $("model").hidden = name !== "chat";
  closeDrawer();
  if (name === "files") showFiles();
}

function renderAttachments() {
  const box = $("attachment");
  /** @type {HTMLElement[]} */
  const chips = [];
  /** @type {(label: string, remove: () => void) => void} */
  const chip = (label, remove) => {
    const item = document.createElement("span");
    item.className = "chip";
    const drop = button("×", "secondary small", remove);
    drop.setAttribute("aria-label", `Remove ${label}`);
    item.append(`📎 ${label} `, drop);
    chips.push(item);
  };
  if (state.attachment) chip(state.attachment.name, () => { state.attachment = null; /** @type {HTMLInputElement} */ ($("attach-input")).value = ""; renderAttachments(); });
  for (const context of state.contexts) chip(/** @type {string} */ (context.title), () => { state.contexts = state.contexts.filter((c) => c !== context); renderAttachments(); });
  box.replaceChildren(...chips);
  box.hidden = chips.length === 0;
}

/**
 * A media result from the Files screen becomes context for the next chat message.
 * @param {{ title: string, text: string }} context
 */
function askInChat({ title, text }) {
  const trimmed = text.length > MAX_CONTEXT_CHARS ? `${text.slice(0, MAX_CONTEXT_CHARS)}\n[…trimmed]` : text;
  state.contexts.push({ kind: "context", title, text: trimmed });
  renderAttachments();
  showView("chat");
  $("input").focus();
}

/** The offline app shell needs a service worker, which browsers allow only with a certificate they trust. */
async function registerShell() {
  const note = $("shell-note");
  if (device?.desktop) return; // the desktop's own chat runs where the desktop is: nothing to keep for offline use
  if (!("serviceWorker" in navigator) || !window.isSecureContext) {
    note.textContent = "This browser cannot keep the app for offline use here; starting it needs the desktop.";
    return;
  }
  try {
    await navigator.serviceWorker.register("/sw.js");
    note.className = "ok small-text";
    note.textContent = "This app also opens offline: conversations and folder listings you saw stay readable.";
  } catch {
    note.textContent = "The app cannot be kept for offline use: this browser does not trust the desktop's certificate "
      + "(the default self-signed one), so starting the app needs the desktop. Conversations and folder listings "
      + "already loaded stay readable while the app is open.";
  }
}

// ------------------------------------------------------------------------------------------------ revoked

/** The controls that send anything to the desktop; all of them are off once the device is revoked. */
const SENDING_CONTROLS = ["input", "send", "attach", "attach-input", "stop", "model", "files-upload-button", "files-upload",
  "capture-photo-button", "capture-photo", "capture-video-button", "capture-video", "capture-audio-button", "capture-audio",
  "record", "mkdir"];

/** The desktop revoked this device (as `atlas connect` does with exit 7): turn off everything that sends, drop the
 * outbox (nothing in it can be sent) and say how much was dropped, forget the dead credential, and offer pairing
 * again (scan a new code, or paste a pairing link). */
/** @param {[string, string]} status */
async function onRevoked([text, kind]) {
  setStatus(text, kind);
  for (const id of SENDING_CONTROLS) {
    const control = /** @type {HTMLButtonElement | HTMLInputElement | null} */ (document.getElementById(id));
    if (control) control.disabled = true;
  }
  localStorage.removeItem("atlas.device");
  for (const resolve of state.acks.values()) resolve(null);
  state.sending.clear();
  let dropped = 0;
  try {
    dropped = (await outbox.all()).length;
    await outbox.clear();
  } catch {
    // The outbox is unreadable: nothing to count; the note below still explains the state.
  }
  for (const message of state.messages.filter((m) => m.status === "pending")) {
    message.status = "dropped";
    message.error = { message: "Not sent: this phone was removed on the desktop" };
    update(message);
  }
  $("revoked-note").textContent = dropped === 0
    ? "This phone was removed on the desktop. It can no longer send messages or files."
    : `This phone was removed on the desktop. ${dropped} unsent ${dropped === 1 ? "message was" : "messages were"} `
      + "dropped; nothing more can be sent from here.";
  $("pair-again").hidden = false;
  $("pair-link").focus();
}

/** A pasted pairing link (https://…/pair#…) opens the pairing page; anything else is refused with a hint. */
function initPairAgain() {
  $("pair-again-form").addEventListener("submit", (event) => {
    event.preventDefault();
    let url;
    try {
      url = new URL(byId("pair-link", HTMLInputElement).value.trim());
    } catch {
      url = null;
    }
    if (!url || url.protocol !== "https:" || url.pathname !== "/pair" || !url.hash) {
      $("pair-link-error").textContent = "That is not a pairing link. It looks like https://…/pair#… (run atlas pair on the desktop).";
      return;
    }
    location.assign(url.href);
  });
}

// ------------------------------------------------------------------------------------------------ start

/** How long an app opened without the desktop says "Connecting…" before it says it shows the saved chats. */
const OFFLINE_START_MS = 2000;
/** @type {[string, string]} */
const OFFLINE_START = ["Offline — showing saved chats", "offline"];
/** @type {[string, string]} */
const LOST = ["Desktop unreachable — trying again…", "connecting"];

async function main() {
  if (!device?.deviceCredential && !device?.desktop) {
    $("unpaired").hidden = false;
    $("app").hidden = true;
    return;
  }
  $("desktop").textContent = device?.desktopName ?? "Atlas";
  initPairAgain();
  conn = new Connection(/** @type {import('./app-net.js').Device} */ (device));
  conn.addEventListener("frame", onFrame);
  conn.addEventListener("open", onOpen);
  conn.addEventListener("state", (stateEvent) => {
    const event = /** @type {CustomEvent<string>} */ (stateEvent);
    /** @type {Record<string, [string, string]>} */
    const labels = {
      online: ["Online", "online"],
      connecting: ["Connecting…", "connecting"],
      offline: ["Offline — messages are kept and sent when the desktop is reachable", "offline"],
      revoked: ["This device was removed on the desktop; pair it again.", "revoked"],
    };
    if (event.detail === "revoked") return onRevoked(labels.revoked);
    if (event.detail === "online") state.wasOnline = true;
    // Never online since the app opened and the desktop still unreachable: say so and show what is saved, while the
    // connection keeps trying in the background.
    const unreachable = !state.wasOnline && (event.detail === "offline" || (event.detail === "connecting" && state.startWaited));
    // Online before and now reconnecting: the desktop went away (stopped, asleep, or off this network).
    const lost = state.wasOnline && event.detail === "connecting";
    setStatus(...(unreachable ? OFFLINE_START : lost ? LOST : labels[event.detail]));
    if (event.detail !== "online") {
      // The socket is gone: stop waiting for acknowledgements now; the next connection sends the same ids again.
      for (const resolve of state.acks.values()) resolve(null);
      state.sending.clear();
    }
    for (const message of state.messages.filter((m) => m.status === "pending" || m.status === "streaming")) update(message);
    updateComposer();
  });
  window.addEventListener("online", () => conn.now());
  window.addEventListener("offline", () => conn.drop());
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState !== "visible") return;
    if (conn.state === "online") resumeAll();
    else conn.now();
  });
  $("attach").addEventListener("click", () => $("attach-input").click());
  $("attach-input").addEventListener("change", () => {
    state.attachment = /** @type {FileList} */ (byId("attach-input", HTMLInputElement).files)[0] ?? null;
    renderAttachments();
  });
  $("composer").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = byId("input", HTMLTextAreaElement).value.trim();
    const photo = state.attachment;
    if (!text && !photo && !state.contexts.length) return;
    let attachments = state.contexts.length ? [...state.contexts] : undefined;
    if (photo) {
      if (conn.state !== "online") {
        setStatus("Attaching a photo needs the desktop to be reachable; the text alone can wait in the outbox.", "error");
        return;
      }
      try {
        attachments = [...(attachments ?? []), await uploadAttachment(photo)];
      } catch (/** @type {any} */ error) {
        setStatus(error.message, "error");
        return;
      }
      state.attachment = null;
      byId("attach-input", HTMLInputElement).value = "";
    }
    state.contexts = [];
    renderAttachments();
    byId("input", HTMLTextAreaElement).value = "";
    send(text, attachments);
  });
  $("input").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      byId("composer", HTMLFormElement).requestSubmit();
    }
  });
  $("stop").addEventListener("click", async () => {
    const streaming = state.messages.filter((m) => m.role === "assistant" && m.status === "streaming").at(-1);
    if (!streaming) return;
    try {
      await request("chat_cancel", chatCancelData(/** @type {string} */ (streaming.id)));
    } catch (/** @type {any} */ error) {
      setStatus(error.message, "error");
    }
  });
  byId("model", HTMLSelectElement).addEventListener("change", () => localStorage.setItem("atlas.model", byId("model", HTMLSelectElement).value));
  $("new").addEventListener("click", () => { closeDrawer(); open(null); });
  $("menu").addEventListener("click", () => {
    const opened = $("drawer").classList.toggle("open");
    $("menu").setAttribute("aria-expanded", String(opened));
    if (opened) renderConversations(); // relative times ("5 min ago") as of now
  });
  $("search").addEventListener("input", onSearchInput);
  $("search-form").addEventListener("submit", (event) => event.preventDefault());
  $("search-clear").addEventListener("click", clearSearch);
  $("search-more").addEventListener("click", () => {
    const search = state.search;
    search.busy = true;
    runSearch(search.query, search.next, search.generation);
  });
  // Escape closes the conversation list and gives the focus back to the button that opened it.
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || !$("drawer").classList.contains("open")) return;
    closeDrawer();
    $("menu").focus();
  });
  for (const tab of document.querySelectorAll("#tabs button")) tab.addEventListener("click", () => showView(/** @type {HTMLElement} */ (tab).dataset.view));
  initFiles(conn, { askInChat });
  registerShell();
  state.lastCreated = Math.max(0, ...(await outbox.all()).map((item) => item.createdAt));
  state.conversations = await cache.conversations();
  renderConversations();
  // The address names the conversation (a reload, a bookmark, Back); without one the last conversation reopens.
  const routed = fromRoute(location.hash);
  await load(routed !== undefined ? routed : localStorage.getItem(LAST_CONVERSATION));
  window.addEventListener("popstate", onRoute);
  window.addEventListener("hashchange", onRoute);
  conn.start();
  setTimeout(() => {
    state.startWaited = true;
    if (!state.wasOnline && conn.state === "connecting") setStatus(...OFFLINE_START);
  }, OFFLINE_START_MS);
}

main();
