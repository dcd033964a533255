// @ts-check
// How one chat message looks and what can be done with it: the answer as sanitized markdown (app-markdown.js), tool
// calls as collapsible cards (inputs, a running spinner with the elapsed time, the result or the tool's own error), the
// status line (a provider rate limit with its wait counting down), and the actions: Copy and Regenerate (or Retry, after
// a failure) on the last answer, Edit on a sent message (the conversation continues from the edited message; later
// messages are removed), Send again on a message the desktop refused. The actions themselves (what goes to the
// desktop) come from app.js.
import { renderMarkdown, copyButton } from "/app-markdown.js";
import { button, el } from "/app-ui.js";

/** @typedef {import('./wire.js').ChatMessage} ChatMessage */
/** @typedef {import('./wire.js').ToolCall} ToolCall */

/**
 * What app.js lets a message do.
 * @typedef {{ online: () => boolean, isLastAnswer: (message: ChatMessage) => boolean,
 *   canRegenerate: (message: ChatMessage) => boolean, regenerate: (message: ChatMessage) => void,
 *   edit: (message: ChatMessage, text: string) => void, sendAgain: (message: ChatMessage) => void }} MessageActions
 */

/** @typedef {{ stopTicking?: (() => void) | null }} Ticking */
/** @typedef {HTMLDetailsElement & Ticking} ToolCard */

/**
 * A message's element and what it keeps between fillings: its text part, the editor while one is open, its tool cards
 * by call id, and how to stop its ticking.
 * @typedef {HTMLElement & Ticking & { textPart?: HTMLElement & { mdState?: import('./app-markdown.js').MarkdownState }, editor?: HTMLElement | null,
 *   toolCards?: Map<string, ToolCard> }} MessageElement
 */

// ------------------------------------------------------------------------------------------------ a shared clock

/** Elements that show a time counting (a running tool's elapsed seconds, a rate limit's wait): one timer for all. */
/** @type {Set<() => void>} */
const ticking = new Set();
/** @type {ReturnType<typeof setInterval> | null} */
let ticker = null;

function tick() {
  for (const update of ticking) update();
  if (ticking.size === 0) {
    clearInterval(ticker ?? undefined);
    ticker = null;
  }
}

/**
 * @param {() => void} update
 * @returns {() => boolean} stops the ticking
 */
function startTicking(update) {
  ticking.add(update);
  update();
  ticker ??= setInterval(tick, 1000);
  return () => ticking.delete(update);
}

/**
 * Ticks while the node is on screen: a node taken off (the list was drawn again) stops its ticking.
 * @param {Node} node
 * @param {() => void} update
 */
function whileShown(node, update) {
  let shown = false;
  const stop = startTicking(() => {
    if (node.isConnected) shown = true;
    else if (shown) return stop();
    update();
  });
  return stop;
}

// ------------------------------------------------------------------------------------------------ tool cards

/** @param {ToolCall} tool */
function toolName(tool) {
  return tool.call.tool ? `${tool.call.tool} (${tool.call.server})` : tool.call.name ?? "tool";
}

/**
 * @param {unknown} args
 * @returns {string | null}
 */
function inputsText(args) {
  if (args === undefined || args === null) return null;
  if (typeof args === "object" && !Array.isArray(args)) {
    const entries = Object.entries(args);
    if (entries.length === 0) return "none";
    return entries.map(([key, value]) => `${key} = ${typeof value === "string" ? value : JSON.stringify(value)}`).join("\n");
  }
  return typeof args === "string" ? args : JSON.stringify(args, null, 2);
}

/**
 * Seconds as "3 s" or "1 min 5 s".
 * @param {number} seconds
 */
export function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

/**
 * A tool call as a card (a details element the user opens and closes; its state survives updates): the summary says
 * which tool and its state (running with a spinner and the elapsed time, done, failed), the body shows the inputs the
 * model gave it and the result or the tool's own error message, as text. A failed call opens by itself.
 * @param {ToolCard} card
 * @param {ToolCall} tool
 * @param {boolean} streaming
 */
function updateToolCard(card, tool, streaming) {
  const result = tool.result;
  const state = result ? (result.ok ? "ok" : "failed") : streaming ? "running" : "unfinished";
  if (card.dataset.state === state && card.dataset.filled === "1") return;
  card.className = `tool ${state}`;
  card.dataset.state = state;
  card.dataset.filled = "1";
  card.stopTicking?.();
  card.stopTicking = null;

  const summary = el("summary");
  const icon = el("span", null, state === "running" ? "spinner" : "tool-icon");
  icon.setAttribute("aria-hidden", "true");
  if (state !== "running") icon.textContent = state === "ok" ? "✓" : state === "failed" ? "⚠" : "🔧";
  const label = el("span", `Tool ${toolName(tool)}`, "tool-name");
  const status = el("span", null, "tool-state");
  summary.append(icon, label, " ", status);
  if (state === "running") {
    const started = tool.startedAt ?? Date.now();
    card.stopTicking = whileShown(card, () => {
      status.textContent = `running… ${duration((Date.now() - started) / 1000)}`;
    });
  } else {
    const took = tool.startedAt && tool.endedAt ? ` in ${duration((tool.endedAt - tool.startedAt) / 1000)}` : "";
    status.textContent = state === "ok" ? `done${took}` : state === "failed" ? `failed${took}` : "did not finish";
  }

  const body = el("div", null, "tool-body");
  const inputs = inputsText(tool.call.arguments);
  if (inputs !== null) {
    body.append(el("div", "Inputs", "tool-label"), el("pre", inputs, "tool-inputs"));
  }
  if (result) {
    body.append(el("div", result.ok ? "Result" : "Error", "tool-label"),
      el("pre", result.ok ? result.content ?? "done" : result.error?.message ?? "failed", result.ok ? "tool-result" : "tool-error"));
  }
  card.replaceChildren(summary, body);
  if (state === "failed" && !card.dataset.toggled) card.open = true;
}

/**
 * @param {MessageElement} el
 * @param {ChatMessage} message
 */
function toolCards(el, message) {
  el.toolCards ??= new Map();
  const cards = [];
  for (const [index, tool] of (message.tools ?? []).entries()) {
    const key = tool.call.id ?? `#${index}`;
    let card = el.toolCards.get(key);
    if (!card) {
      /** @type {ToolCard} */
      const created = document.createElement("details");
      card = created;
      created.addEventListener("toggle", () => { created.dataset.toggled = "1"; });
      el.toolCards.set(key, card);
    }
    updateToolCard(card, tool, message.status === "streaming");
    cards.push(card);
  }
  return cards;
}

// ------------------------------------------------------------------------------------------------ status line

/** @type {Set<string | undefined>} */
const RATE_LIMITED = new Set(["llm_rate_limited", "rate_limited"]);

/**
 * When a rate-limited answer may be retried (ms since the epoch), or 0 when it may be now.
 * @param {ChatMessage} message
 */
function retryAt(message) {
  if (!RATE_LIMITED.has(message.error?.code) || !message.error?.retryAfter) return 0;
  message.failedAt ??= Date.parse(message.completedAt ?? "") || Date.now();
  return message.failedAt + message.error.retryAfter * 1000;
}

/**
 * @param {ChatMessage} message
 * @param {boolean} online
 */
function statusText(message, online) {
  if (message.status === "pending") return online ? "Sending…" : "Waiting to send (offline)";
  if (message.status === "streaming") return "Answering…";
  if (message.status === "cancelled") return "Stopped";
  if (message.error) return message.error.message;
  if (message.notice) return message.notice.message;
  if (message.usage?.cost != null) return `${message.usage.totalTokens} tokens, ${message.usage.cost} credits`;
  return "";
}

// ------------------------------------------------------------------------------------------------ the message

/**
 * Fills (or refills, as events arrive) a message's element. `actions` comes from app.js: online(), isLastAnswer(m),
 * canRegenerate(m), regenerate(m), edit(m, text), sendAgain(m).
 * @param {MessageElement} element
 * @param {ChatMessage} message
 * @param {MessageActions} actions
 */
export function fillMessage(element, message, actions) {
  element.className = `msg ${message.role} ${message.status}`;
  element.dataset.id = message.id ?? "";
  element.stopTicking?.();
  element.stopTicking = null;

  element.textPart ??= el("div", null, "text");
  const text = element.textPart;
  if (message.role === "assistant") {
    renderMarkdown(text, message.content ?? "", message.status === "streaming");
  } else {
    text.textContent = message.content; // the user's own words, as typed
    for (const attachment of message.attachments ?? []) {
      text.append(document.createElement("br"), `📎 ${attachment.path ?? attachment.title ?? "attachment"}`);
    }
  }
  const parts = [element.editor ?? text, ...toolCards(element, message)];

  const meta = el("div", null, "meta");
  meta.setAttribute("role", message.error ? "alert" : "status");
  parts.push(meta);
  const row = el("div", null, "actions");
  let retry = null;
  if (message.role === "assistant" && message.status !== "streaming") {
    if (message.content) row.append(copyButton("Copy answer", () => message.content));
    if (actions.isLastAnswer(message) && actions.canRegenerate(message)) {
      const failed = message.status === "error" || message.status === "interrupted";
      retry = button(failed ? "Retry" : "Regenerate", failed ? "small" : "secondary small", () => actions.regenerate(message));
      retry.setAttribute("aria-label", failed ? "Retry this answer" : "Regenerate this answer");
      row.append(retry);
    }
  } else if (message.role === "user" && message.status === "failed") {
    row.append(button("Send again", "secondary small", () => actions.sendAgain(message)));
  } else if (message.role === "user" && message.status === "done" && message.id && !element.editor) {
    const edit = button("Edit", "secondary small", () => openEditor(element, message, actions));
    edit.setAttribute("aria-label", "Edit and resend this message");
    row.append(edit);
  }
  if (row.childElementCount) parts.push(row);

  const until = retryAt(message);
  if (until > Date.now()) {
    // A rate limit: said once, with its wait counting down; Retry is enabled when the wait is over.
    element.stopTicking = whileShown(element, () => {
      const left = Math.ceil((until - Date.now()) / 1000);
      if (left > 0) {
        meta.textContent = `Rate limited by the provider — try again in ${duration(left)}`;
        if (retry) retry.disabled = true;
      } else {
        meta.textContent = "Rate limited by the provider — you can retry now";
        if (retry) retry.disabled = false;
        element.stopTicking?.();
      }
    });
  } else if (until) {
    meta.textContent = "Rate limited by the provider — you can retry now";
  } else {
    meta.textContent = statusText(message, actions.online());
  }
  element.replaceChildren(...parts);
}

/**
 * Edit-and-resend in place: the text in a field, then Send (the conversation continues from here) or Cancel.
 * @param {MessageElement} element
 * @param {ChatMessage} message
 * @param {MessageActions} actions
 */
function openEditor(element, message, actions) {
  const form = el("form", null, "editor");
  const field = document.createElement("textarea");
  field.value = message.content;
  field.rows = Math.min(8, Math.max(2, message.content.split("\n").length));
  field.setAttribute("aria-label", "Edit your message");
  const note = el("div", "Sending replaces this message and removes everything after it.", "small-text");
  const save = el("button", "Send", "small");
  save.type = "submit";
  const cancel = button("Cancel", "secondary small", () => close());
  const close = () => {
    element.editor = null;
    fillMessage(element, message, actions);
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = field.value.trim();
    if (!text) return;
    element.editor = null;
    actions.edit(message, text);
  });
  field.addEventListener("keydown", (event) => {
    if (event.key === "Escape") close();
  });
  const row = el("div", null, "actions");
  row.append(save, cancel);
  form.append(field, note, row);
  element.editor = form;
  fillMessage(element, message, actions);
  field.focus();
}
