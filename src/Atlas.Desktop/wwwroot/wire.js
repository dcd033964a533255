// @ts-check
// The web client's side of the wire (docs/atlas-protocol.md): every frame it sends is built here and every frame it
// receives is parsed here. The golden fixtures in tests/Fixtures/wire are the contract: the .NET golden tests and the
// browser test WireFixtureTests check both clients against the same files, so a wire change edits a fixture and both
// clients' tests follow.

/** The protocol version every frame carries. */
export const PROTOCOL_VERSION = 1;

/** The close codes the client acts on (AtlasProtocol.Close*). */
export const CLOSE = Object.freeze({ authFailed: 4001, revoked: 4003, sessionExpired: 4010 });

/**
 * A frame on the wire: `id` on a request, `re` on an answer, `data` or `error`.
 * @typedef {{ v?: number, type: string, id?: string, re?: string, data?: any, error?: WireError }} Frame
 */

/** @typedef {{ code: string, message: string, retryAfter?: number, retryable?: boolean }} WireError */

/**
 * A conversation in the list (conversation_request list and search); a search hit carries the matching excerpt.
 * @typedef {{ id: string, title?: string, updatedAt: string, preview?: string, match?: string }} Conversation
 */

/** @typedef {{ kind: string, path?: string, title?: string, text?: string }} Attachment */

/**
 * A tool call of an answer and, once it finished, its result.
 * @typedef {{ call: { id?: string, name?: string, tool?: string, server?: string, arguments?: unknown },
 *   result?: { ok: boolean, content?: string, error?: { message?: string } }, startedAt?: number, endedAt?: number }} ToolCall
 */

/**
 * A chat message as the desktop loads it (conversation_request load), with what the phone adds while showing it
 * (requestId and status "pending" or "failed" for an outbox message, lastSeq and waiting events of a streamed answer).
 * @typedef {{ id?: string, role: string, content: string, status: string, requestId?: string, conversationId?: string,
 *   tools: ToolCall[], attachments?: Attachment[], replaces?: string,
 *   error?: { code?: string, message: string, retryAfter?: number } | null, notice?: { message: string },
 *   usage?: { totalTokens?: number, cost?: number }, completedAt?: string, model?: string, finishReason?: string,
 *   failedAt?: number, lastSeq?: number, waiting?: Map<number, any> }} ChatMessage
 */

/**
 * An entry of a folder listing (GET /files).
 * @typedef {{ name: string, path: string, kind: string, size?: number, modified?: string, etag?: string }} FileEntry
 */

/** An Error carrying a wire error's stable code (and the HTTP status or retry hint when there is one). */
/** @typedef {Error & { code?: string, status?: number, retryAfter?: number }} CodedError */

/**
 * The text of a frame to send: the version first, then the fields as given.
 * @param {{ type: string, id?: string, re?: string, data?: any }} frame
 * @returns {string}
 */
export function encodeFrame(frame) {
  return JSON.stringify({ v: PROTOCOL_VERSION, ...frame });
}

/**
 * A received frame, or null when the text is not a JSON object with a type (such a frame is ignored).
 * @param {string} text
 * @returns {Frame | null}
 */
export function parseFrame(text) {
  let frame;
  try { frame = JSON.parse(text); } catch { return null; }
  return frame && typeof frame === "object" && typeof frame.type === "string" ? frame : null;
}

/**
 * The auth frame, sent first on every socket.
 * @param {string} id
 * @param {string} token the session token from POST /auth
 */
export function authFrame(id, token) {
  return { type: "auth", id, data: { token } };
}

/** @param {string} id */
export function pingFrame(id) {
  return { type: "ping", id };
}

/** @param {string} re the id of the ping answered */
export function pongFrame(re) {
  return { type: "pong", re };
}

/**
 * The data of a chat_message, in the server's field order; absent parts are left out.
 * @param {{ conversationId?: string, text: string, model?: string, attachments?: object[], replaces?: string }} message
 */
export function chatMessageData({ conversationId, text, model, attachments, replaces }) {
  /** @type {Record<string, any>} */
  const data = {};
  if (conversationId) data.conversationId = conversationId;
  data.text = text;
  if (model) data.model = model;
  if (attachments) data.attachments = attachments;
  if (replaces) data.replaces = replaces;
  return data;
}

/**
 * The data of a resume: the events after lastSeq are replayed.
 * @param {string} messageId
 * @param {number} lastSeq
 */
export function resumeData(messageId, lastSeq) {
  return { messageId, lastSeq };
}

/**
 * The data of a chat_cancel: stop the answer being generated.
 * @param {string} messageId the assistant message
 */
export function chatCancelData(messageId) {
  return { messageId };
}

/**
 * The data of a conversation_request: the op, then its fields.
 * @param {string} op list, load, rename, delete or search
 * @param {Record<string, any>} [fields]
 */
export function conversationData(op, fields = {}) {
  return { op, ...fields };
}

/**
 * The data of a media_process on a file in the device's space (the options of each task keep their defaults).
 * @param {string} task ocr, analyze, frames, transcribe, describe or context
 * @param {string} path the file, relative to the device's root
 */
export function mediaProcessData(task, path) {
  return { task, path };
}

/**
 * The error of an error frame as an Error carrying the stable code (and the retry hint when there is one).
 * @param {Frame} frame
 * @returns {CodedError}
 */
export function frameError(frame) {
  const error = frame.error ?? { code: "bad_frame", message: "The desktop sent an error without details." };
  return Object.assign(new Error(error.message), { code: error.code, retryAfter: error.retryAfter });
}
