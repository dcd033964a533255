// @ts-check
// The Files screen of the mobile web client: browse this device's space on the desktop (folders, breadcrumbs),
// preview (images, text, audio, video) and download through authenticated fetches turned into blob: URLs (the token
// never goes into a URL), upload with progress (large files in resumable chunks that continue after a dropped
// connection), capture from the camera and microphone into captures/, new folder, rename/move, delete. The last
// listing of each folder is kept in IndexedDB and shown offline. Changes (upload, rename/move, delete) go through a
// persistent queue: made offline or while the desktop is unreachable they wait (listed, with Cancel) and are applied in
// order exactly once when it is back (each carries a request id and the ETag the phone saw, so a file changed on the
// desktop meanwhile is a conflict the user settles, never silently overwritten). All text goes in with textContent.
import { fileQueue, listings } from "/app-db.js";
import { MediaPanel, kindOf, suggestedTask } from "/app-media.js";
import { button, byId, el } from "/app-ui.js";

/** @typedef {import('./wire.js').FileEntry} FileEntry */
/** @typedef {import('./app-db.js').QueueItem} QueueItem */
/** @typedef {import('./app-net.js').Connection} Connection */

/**
 * A change to record (enqueue adds its id, order, state and time).
 * @typedef {Omit<QueueItem, "id" | "seq" | "state" | "createdAt">} Change
 */

/** @typedef {QueueItem & { size: number, blob: Blob }} QueuedUpload an upload in the queue (it has its bytes) */

/** The progress row of one upload. */
/** @typedef {{ progress: (fraction: number) => void, note: (text: string) => void, done: () => void, failed: (text: string) => void }} UploadRow */

/** @param {string} id */
const $ = (id) => byId(id, HTMLElement);

/** Files larger than this go up in resumable chunks of this size; smaller ones in one multipart request. */
export const CHUNK_BYTES = 4 * 1024 * 1024;
const TEXT_PREVIEW_BYTES = 64 * 1024;
const MEDIA_PREVIEW_BYTES = 64 * 1024 * 1024;
const MAX_RESUME_ATTEMPTS = 8;
const CAPTURES = "captures";

const view = {
  path: "",
  /** @type {FileEntry[]} */
  entries: [],
  /** @type {FileEntry | null} */
  viewing: null,
  /** @type {string | null} */
  previewUrl: null,
  /** @type {MediaRecorder | null} */
  recorder: null,
};
/** @type {Connection} */
let conn;
/** @type {MediaPanel} */
let media;

/** @type {(folder: string, name: string) => string} */
const join = (folder, name) => (folder ? `${folder}/${name}` : name);
/** @type {(path: string) => string} */
const parentOf = (path) => path.split("/").slice(0, -1).join("/");
/** @type {(params: Record<string, string | number | boolean>) => string} */
const query = (params) => new URLSearchParams(/** @type {Record<string, string>} */ (params)).toString();

/**
 * @param {string} text
 * @param {string} [kind]
 */
function setStatus(text, kind = "note") {
  const status = $("files-status");
  status.textContent = text;
  status.dataset.kind = text ? kind : "";
}

/** @param {number | null | undefined} bytes */
function formatSize(bytes) {
  if (bytes == null) return "";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** The desktop's limit for one name, in UTF-8 bytes (DevicePath.MaxSegmentBytes). */
const MAX_NAME_BYTES = 255;
const utf8 = new TextEncoder();

/** A name safe for the desktop's path rules (the phone's own file names can be anything). */
/**
 * @param {string | null | undefined} name
 * @param {string} [fallback]
 */
export function safeName(name, fallback = "file") {
  const cleaned = (name ?? "").normalize("NFC").replace(/[\u0000-\u001f/\\:*?"<>|]/g, "_").replace(/^\.+/, "").trim();
  return fitName(cleaned || fallback);
}

/**
 * A name within the desktop's limit in UTF-8 bytes (255, whatever the script: 85 characters of Japanese, fewer emoji),
 * shortened as file managers do: its start and its extension are kept, and only whole characters as people see them
 * (an emoji with its modifiers and joiners is one), so nothing is cut into U+FFFD.
 * @param {string} name
 */
function fitName(name) {
  if (utf8.encode(name).length <= MAX_NAME_BYTES) return name;
  const dot = name.lastIndexOf(".");
  const extension = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : "";
  let budget = MAX_NAME_BYTES - utf8.encode(extension).length;
  let base = "";
  for (const { segment } of new Intl.Segmenter(undefined, { granularity: "grapheme" }).segment(name.slice(0, name.length - extension.length))) {
    const size = utf8.encode(segment).length;
    if (size > budget) break;
    base += segment;
    budget -= size;
  }
  return base.trimEnd() + extension;
}

/** An error from the desktop's answer: its own message and code, or what the HTTP status means. */
/**
 * @param {Response} response
 * @param {string} action
 */
async function failure(response, action) {
  const json = await response.json().catch(() => ({}));
  const message = json?.error?.message ?? `HTTP ${response.status}`;
  return Object.assign(new Error(`${action}: ${message}`), { code: json?.error?.code, status: response.status });
}

/** An authenticated call answering JSON; a network failure is marked so callers can fall back or retry. */
/**
 * @param {string} path
 * @param {RequestInit & { headers?: Record<string, string> }} options
 * @param {string} action
 * @returns {Promise<any>}
 */
async function call(path, options, action) {
  let response;
  try {
    response = await conn.api(path, options);
  } catch (/** @type {any} */ error) {
    throw Object.assign(new Error(`${action}: the desktop is not reachable.`), { network: true, cause: error });
  }
  if (!response.ok) throw await failure(response, action);
  return response.status === 204 ? null : response.json();
}

/** Reads a file of this device's space as a Blob (Authorization header; optional byte range). */
/**
 * @param {string} path
 * @param {[number, number] | null} [range]
 * @returns {Promise<Blob>}
 */
export async function readBlob(path, range) {
  /** @type {Record<string, string>} */
  const headers = range ? { Range: `bytes=${range[0]}-${range[1]}` } : {};
  let response;
  try {
    response = await conn.api(`/files/read?${query({ path })}`, { headers });
  } catch (/** @type {any} */ error) {
    throw Object.assign(new Error(`Reading ${path}: the desktop is not reachable.`), { network: true, cause: error });
  }
  if (!response.ok) throw await failure(response, `Reading ${path}`);
  return response.blob();
}

// ------------------------------------------------------------------------------------------------ listing

/** Lists a folder from the desktop; offline, or when the desktop is unreachable, from the last listing seen. */
/** @param {string} path */
export async function openFolder(path) {
  view.path = path;
  closeViewer();
  renderCrumbs();
  try {
    const listing = await call(`/files/list?${query({ path })}`, {}, "Listing the folder");
    if (view.path !== path) return;
    view.entries = listing.entries ?? [];
    await listings.put(path, view.entries, new Date().toISOString()).catch(() => {});
    setStatus("");
  } catch (/** @type {any} */ error) {
    if (view.path !== path) return;
    const cached = error.network ? await listings.get(path).catch(() => null) : null;
    if (cached) {
      view.entries = cached.entries;
      setStatus(`Offline — the listing as of ${new Date(cached.fetchedAt).toLocaleString()}.`, "note");
    } else {
      view.entries = [];
      setStatus(error.network ? "Offline — this folder was not opened before, so there is no saved listing." : error.message, "error");
    }
  }
  renderList();
}

function renderCrumbs() {
  const crumbs = $("crumbs");
  const parts = view.path ? view.path.split("/") : [];
  crumbs.replaceChildren(button("My files", "", () => openFolder("")));
  parts.forEach((part, index) => {
    const target = parts.slice(0, index + 1).join("/");
    crumbs.append(el("span", "/"), button(part, "", () => openFolder(target)));
  });
}

function renderList() {
  const list = $("files");
  const sorted = [...view.entries].sort((a, b) =>
    (a.kind === b.kind ? 0 : a.kind === "directory" ? -1 : 1) || a.name.localeCompare(b.name));
  list.replaceChildren(...sorted.map((entry) => {
    const item = document.createElement("li");
    item.className = entry.kind;
    item.dataset.path = entry.path;
    item.append(
      button(`${entry.kind === "directory" ? "📁" : "📄"} ${entry.name}`, "open",
        () => (entry.kind === "directory" ? openFolder(entry.path) : openViewer(entry))),
      el("span", entry.kind === "directory" ? "" : formatSize(entry.size), "size"),
      ...pendingMarks(entry, item),
      button("Rename", "secondary small rename", () => renameEntry(entry)),
      button("Delete", "danger small delete", () => deleteEntry(entry)));
    return item;
  }));
  if (!sorted.length && !$("files-status").textContent) setStatus("This folder is empty.", "note");
}

// ------------------------------------------------------------------------------------------------ changes

async function makeFolder() {
  const name = prompt("Name of the new folder");
  if (!name) return;
  try {
    await call(`/files/mkdir?${query({ path: join(view.path, safeName(name, "folder")) })}`, { method: "POST" }, "Creating the folder");
    await openFolder(view.path);
  } catch (/** @type {any} */ error) {
    setStatus(error.message, "error");
  }
}

/** @param {FileEntry} entry */
async function renameEntry(entry) {
  const to = prompt("New name, or a path to move it to (folders separated by /)", entry.path);
  if (!to || to === entry.path) return false;
  const target = to.includes("/") ? to.replace(/^\/+/, "") : join(parentOf(entry.path), to);
  if (view.viewing === entry) closeViewer();
  await enqueue({ kind: "move", path: entry.path, to: target, name: entry.name, etag: entry.etag ?? null });
  return true;
}

/** @param {FileEntry} entry */
async function deleteEntry(entry) {
  const question = entry.kind === "directory"
    ? `Delete the folder "${entry.name}" and everything in it?`
    : `Delete "${entry.name}"?`;
  if (!confirm(question)) return false;
  if (view.viewing === entry) closeViewer();
  await enqueue({ kind: "delete", path: entry.path, name: entry.name, recursive: entry.kind === "directory", etag: entry.etag ?? null });
  return true;
}

// ------------------------------------------------------------------------------------------------ uploads

/** One XMLHttpRequest (fetch cannot report upload progress) with the session token in its header. */
/**
 * @param {string} method
 * @param {string} url
 * @param {XMLHttpRequestBodyInit | null} [body]
 * @param {Record<string, string>} [headers]
 * @param {(loaded: number) => void} [onProgress]
 * @returns {Promise<any>} the JSON of the answer (null when it is not JSON)
 */
async function send(method, url, body, headers, onProgress) {
  let token;
  try {
    token = await conn.session();
  } catch (/** @type {any} */ error) {
    throw error.code ? error : Object.assign(new Error("The desktop is not reachable."), { network: true, cause: error });
  }
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    xhr.setRequestHeader("Authorization", `Bearer ${token}`);
    for (const [key, value] of Object.entries(headers ?? {})) xhr.setRequestHeader(key, value);
    xhr.upload.onprogress = (event) => onProgress?.(event.loaded);
    xhr.onload = () => {
      /** @type {any} */
      let json = null;
      try { json = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      if (xhr.status >= 200 && xhr.status < 300) resolve(json);
      else reject(Object.assign(new Error(json?.error?.message ?? `HTTP ${xhr.status}`), { code: json?.error?.code, status: xhr.status }));
    };
    xhr.onerror = () => reject(Object.assign(new Error("The connection to the desktop dropped."), { network: true }));
    xhr.onabort = () => reject(Object.assign(new Error("Cancelled."), { aborted: true }));
    xhr.send(body ?? null);
  });
}

/** Waits before a retry: exponential backoff with jitter, or until the browser is back online. */
/**
 * @param {number} attempt
 * @returns {Promise<void>}
 */
function pause(attempt) {
  return new Promise((resolve) => {
    const done = () => { window.removeEventListener("online", done); clearTimeout(timer); resolve(); };
    const timer = navigator.onLine ? setTimeout(done, Math.random() * Math.min(15000, 500 * 2 ** attempt)) : undefined;
    window.addEventListener("online", done);
  });
}

/**
 * @param {string} name
 * @returns {UploadRow}
 */
function uploadRow(name) {
  const item = document.createElement("li");
  const label = document.createElement("span");
  label.textContent = name;
  const bar = document.createElement("progress");
  bar.max = 1;
  bar.value = 0;
  const note = document.createElement("span");
  note.className = "small-text";
  item.append(label, bar, note);
  $("uploads").append(item);
  return {
    progress: (fraction) => { bar.value = fraction; note.textContent = `${Math.round(fraction * 100)} %`; },
    note: (text) => { note.textContent = text; },
    done: () => item.remove(),
    failed: (text) => { item.className = "failed"; bar.remove(); note.textContent = text; setTimeout(() => item.remove(), 15000); },
  };
}

/** Uploads one file to path; large files in resumable chunks. Returns the stored entry. */
/**
 * @param {File} file
 * @param {string} path
 * @returns {Promise<FileEntry | null | undefined>}
 */
export async function uploadFile(file, path, overwrite = false) {
  const row = uploadRow(path);
  try {
    const entry = file.size > CHUNK_BYTES ? await uploadChunked(file, path, overwrite, row) : await uploadWhole(file, path, overwrite, row);
    row.done();
    return entry;
  } catch (/** @type {any} */ error) {
    // An existing file is a question for the user (Replace?), not a failure: the row goes, the answer decides the status.
    if (error.code === "already_exists" && !overwrite) row.done();
    else row.failed(error.message);
    throw Object.assign(new Error(`Uploading ${path}: ${error.message}`), { code: error.code, network: error.network });
  }
}

/**
 * @param {File} file
 * @param {string} path
 * @param {boolean} overwrite
 * @param {UploadRow} row
 */
async function uploadWhole(file, path, overwrite, row) {
  const form = new FormData();
  form.append("path", path); // before the file part: the desktop never uses the phone's file name as a path
  form.append("file", file, "upload");
  return send("POST", `/files/upload?${query({ overwrite })}`, form, {}, (loaded) => row.progress(loaded / Math.max(1, file.size)));
}

/**
 * @param {File} file
 * @param {string} path
 * @param {boolean} overwrite
 * @param {UploadRow} row
 */
async function uploadChunked(file, path, overwrite, row) {
  const created = await send("POST", "/files/upload/sessions", JSON.stringify({ path, size: file.size, overwrite }), { "Content-Type": "application/json" });
  let status = created;
  let attempt = 0;
  let lookup = false;
  while (true) {
    try {
      if (lookup) {
        status = await send("GET", `/files/upload/sessions/${encodeURIComponent(created.uploadId)}`);
        lookup = false;
        row.note(`Resuming at ${formatSize(status.received)}…`);
      }
      if (status.completed) return status.entry;
      const from = status.received;
      const to = Math.min(from + CHUNK_BYTES, file.size) - 1;
      status = await send("PUT", `/files/upload/sessions/${encodeURIComponent(created.uploadId)}`, file.slice(from, to + 1),
        { "Content-Range": `bytes ${from}-${to}/${file.size}`, "Content-Type": "application/octet-stream" },
        (loaded) => row.progress((from + loaded) / file.size));
      row.progress(status.received / file.size);
      attempt = 0;
    } catch (/** @type {any} */ error) {
      // A dropped connection or a chunk the desktop did not take whole: ask where to continue, then go on from there.
      const resumable = error.network || error.code === "conflict" || error.status === 401;
      if (!resumable || ++attempt > MAX_RESUME_ATTEMPTS) throw error;
      if (error.status === 401) conn.token = null;
      row.note(navigator.onLine ? "Connection dropped — resuming…" : "Offline — the upload continues when the network is back.");
      lookup = true;
      await pause(attempt);
    }
  }
}

/**
 * @param {File[]} files
 * @param {string} folder
 * @param {(entry: FileEntry) => Promise<void>} [afterUpload]
 */
async function uploadPicked(files, folder, afterUpload) {
  for (const file of files) {
    const path = join(folder, safeName(file.name));
    if (conn.state !== "online") {
      await queueUpload(file, path, folder);
      continue;
    }
    try {
      let entry;
      try {
        entry = await uploadFile(file, path);
      } catch (/** @type {any} */ error) {
        if (error.code !== "already_exists") throw error;
        if (!confirm(`${path} already exists. Replace it?`)) {
          setStatus(`${path} already exists; it was not replaced.`, "note");
          continue;
        }
        entry = await uploadFile(file, path, true);
      }
      if (view.path === folder && !view.viewing) await openFolder(folder);
      setStatus(`Uploaded ${entry?.path ?? path}.`, "ok");
      await afterUpload?.(entry ?? { path, name: /** @type {string} */ (path.split("/").pop()), kind: "file", size: file.size });
    } catch (/** @type {any} */ error) {
      if (error.network) await queueUpload(file, path, folder);
      else setStatus(error.message, "error");
    }
  }
}

// ------------------------------------------------------------------------------------------------ offline queue

/** Answers that need the user: the desktop's file changed, the target exists, or the file is gone. */
const CONFLICTS = new Set(["already_exists", "precondition_failed", "not_found"]);
const queue = {
  /** @type {QueueItem[]} */
  items: [],
  draining: false,
  again: false,
  /** @type {string | null} */
  applying: null,
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  retryTimer: undefined,
  attempt: 0,
  seq: 0,
  unreachable: false,
};

const nextSeq = () => (queue.seq = Math.max(Date.now(), queue.seq + 1));
const newId = () => `fop-${crypto.randomUUID()}`;

/** Headers of a queued change: its request id (a retry after a lost answer is not applied twice) and what the phone saw. */
/**
 * @param {QueueItem} item
 * @returns {Record<string, string>}
 */
function changeHeaders(item, key = item.id) {
  /** @type {Record<string, string>} */
  const headers = { "Idempotency-Key": key };
  if (item.etag) headers["If-Match"] = item.etag;
  return headers;
}

/** @param {QueueItem} item */
function describe(item) {
  if (item.kind === "move") return `Rename ${item.path} → ${item.to}`;
  if (item.kind === "delete") return `Delete ${item.path}`;
  return `Upload ${item.path} (${formatSize(item.size)})`;
}

/** Records a change and applies it now when the desktop is reachable (the queue keeps the order). */
/** @param {Change} change */
async function enqueue(change) {
  /** @type {QueueItem} */
  const item = { ...change, id: newId(), seq: nextSeq(), state: "pending", createdAt: new Date().toISOString() };
  try {
    await fileQueue.put(item);
  } catch (/** @type {any} */ error) {
    setStatus(`This phone could not keep the change (${error?.message ?? error}); nothing was changed.`, "error");
    return;
  }
  await renderQueue();
  if (conn.state === "online") await drain();
  else setStatus(`Offline — "${describe(item)}" waits and is applied when the desktop is back.`, "note");
}

/** An upload made offline keeps the file's bytes in IndexedDB until the desktop has them (checked against the quota). */
/**
 * @param {File} file
 * @param {string} path
 * @param {string} folder
 */
async function queueUpload(file, path, folder) {
  const estimate = await navigator.storage?.estimate?.().catch(() => null);
  if (estimate?.quota && estimate.quota - /** @type {number} */ (estimate.usage) < file.size + 1024 * 1024) {
    setStatus(`Not enough room on this phone to keep ${file.name} (${formatSize(file.size)}) until the desktop is back: `
      + `${formatSize(Math.max(0, estimate.quota - /** @type {number} */ (estimate.usage)))} free.`, "error");
    return;
  }
  navigator.storage?.persist?.().catch(() => {});
  const known = (view.path === folder ? view.entries : (await listings.get(folder).catch(() => null))?.entries ?? [])
    .find((entry) => entry.path === path);
  let overwrite = false;
  if (known) {
    if (!confirm(`${path} already exists on the desktop (as last seen). Replace it when the desktop is back?`)) {
      setStatus(`${path} already exists; it was not replaced.`, "note");
      return;
    }
    overwrite = Boolean(known.etag); // without an ETag the desktop decides: an existing file is then a conflict to settle
  }
  const blob = new Blob([file], { type: file.type });
  await enqueue({ kind: "upload", path, name: path.split("/").pop(), size: file.size, blob, overwrite, etag: overwrite ? known?.etag : null });
}

/** Applies the waiting changes in order; stops at the first that needs the user (later ones may depend on it).
 * Answers whether it refreshed the Files screen. */
async function drain() {
  if (queue.draining) {
    queue.again = true;
    return false;
  }
  queue.draining = true;
  clearTimeout(queue.retryTimer);
  /** @type {[string, string] | null} */
  let note = null;
  try {
    do {
      queue.again = false;
      for (const item of await fileQueue.all()) {
        if (item.state !== "pending" || conn.state !== "online") break;
        queue.applying = item.id;
        await renderQueue();
        try {
          note = [await apply(item), "ok"];
          await fileQueue.remove(item.id);
          queue.attempt = 0;
          queue.unreachable = false;
        } catch (/** @type {any} */ error) {
          if (error.network) {
            // Not reachable after all (or the answer was lost): the same request id goes again later.
            queue.unreachable = true;
            queue.retryTimer = setTimeout(drain, Math.random() * Math.min(15000, 500 * 2 ** ++queue.attempt));
            note = ["The desktop is not reachable — the changes wait and go again shortly.", "note"];
            break;
          }
          await fileQueue.put({ ...item, state: CONFLICTS.has(error.code) ? "conflict" : "failed", error: { code: error.code, message: error.message } });
          note = [`${describe(item)}: needs your decision below.`, "error"];
          break;
        }
      }
    } while (queue.again);
  } finally {
    queue.draining = false;
    queue.applying = null;
    await renderQueue();
  }
  const refresh = Boolean(note) && !$("files-view").hidden && !view.viewing;
  if (refresh) await openFolder(view.path);
  if (note) setStatus(...note);
  return refresh;
}

/** The desktop's refusal in the user's terms (the desktop's own message stays available to screen readers' context). */
/** @param {QueueItem} item */
function conflictText(item) {
  const { code, message } = item.error ?? {};
  const target = item.kind === "move" ? item.to : item.path;
  if (code === "already_exists") return `${target} already exists on the desktop (it was created after this change was made).`;
  if (code === "precondition_failed" && /no longer exists/.test(message ?? "")) return `${target} no longer exists on the desktop.`;
  if (code === "precondition_failed" && /exists on the desktop/.test(message ?? "")) return `${target} already exists on the desktop (it was created after this change was made).`;
  if (code === "precondition_failed") return `${target} changed on the desktop after this phone saw it.`;
  if (code === "not_found") return `${item.path} no longer exists on the desktop.`;
  return message ?? "";
}

/**
 * @param {QueueItem} item
 * @returns {Promise<string>}
 */
async function apply(item) {
  if (item.kind === "move") {
    try {
      await call(`/files/move?${query({ path: item.path, to: /** @type {string} */ (item.to), overwrite: Boolean(item.overwrite) })}`,
        { method: "POST", headers: changeHeaders(item) }, `Renaming ${item.path}`);
    } catch (/** @type {any} */ error) {
      // Applied before, its answer lost and no longer kept by the desktop: the renamed file is there as the phone saw it.
      if (!(error.code === "duplicate_request" || (error.code === "not_found" && item.etag && (await etagOf(/** @type {string} */ (item.to))) === item.etag))) throw error;
    }
    await listings.remove(parentOf(/** @type {string} */ (item.to))).catch(() => {});
    return `Renamed to ${item.to}.`;
  }
  if (item.kind === "delete") {
    try {
      await call(`/files/delete?${query({ path: item.path, recursive: Boolean(item.recursive) })}`,
        { method: "POST", headers: changeHeaders(item) }, `Deleting ${item.path}`);
    } catch (/** @type {any} */ error) {
      if (error.code === "not_found" && !item.etag) return `${item.name} was already gone.`;
      if (error.code !== "duplicate_request") throw error;
    }
    return `Deleted ${item.name}.`;
  }
  const entry = await uploadQueued(/** @type {QueuedUpload} */ (item));
  return `Uploaded ${entry?.path ?? item.path}.`;
}

/** A queued upload: whole, or through an upload session whose id is kept in the item so a reload continues it. */
/** @param {QueuedUpload} item */
async function uploadQueued(item) {
  const row = uploadRow(item.path);
  try {
    const entry = await (item.size > CHUNK_BYTES ? uploadSession(item, row) : uploadQueuedWhole(item, row));
    row.done();
    return entry;
  } catch (/** @type {any} */ error) {
    row.done();
    throw Object.assign(new Error(`Uploading ${item.path}: ${error.message}`), { code: error.code, network: error.network });
  }
}

/**
 * @param {QueuedUpload} item
 * @param {UploadRow} row
 */
async function uploadQueuedWhole(item, row) {
  const form = new FormData();
  form.append("path", item.path);
  form.append("file", item.blob, "upload");
  try {
    return await send("POST", `/files/upload?${query({ overwrite: Boolean(item.overwrite) })}`, form, changeHeaders(item),
      (loaded) => row.progress(loaded / Math.max(1, item.size)));
  } catch (/** @type {any} */ error) {
    if (error.code === "duplicate_request") return null;
    throw error;
  }
}

/**
 * @param {QueuedUpload} item
 * @param {UploadRow} row
 */
async function uploadSession(item, row) {
  for (;;) {
    const generation = item.generation ?? 0;
    if (!item.uploadId) {
      const created = await send("POST", "/files/upload/sessions", JSON.stringify({ path: item.path, size: item.size, overwrite: Boolean(item.overwrite) }),
        { "Content-Type": "application/json", ...changeHeaders(item, `${item.id}:s${generation}`) });
      if (created.completed) return created.entry;
      item.uploadId = created.uploadId;
      await fileQueue.put(item);
    }
    const url = `/files/upload/sessions/${encodeURIComponent(/** @type {string} */ (item.uploadId))}`;
    try {
      let status = await send("GET", url);
      while (!status.completed) {
        const from = status.received;
        const to = Math.min(from + CHUNK_BYTES, item.size) - 1;
        status = await send("PUT", url, item.blob.slice(from, to + 1),
          { "Content-Range": `bytes ${from}-${to}/${item.size}`, "Content-Type": "application/octet-stream", ...changeHeaders(item, `${item.id}:s${generation}:${from}`) },
          (loaded) => row.progress((from + loaded) / item.size));
      }
      return status.entry;
    } catch (/** @type {any} */ error) {
      if (error.code !== "not_found") throw error;
      // The session expired (or the desktop forgot it): start a new one, with a new request id.
      Object.assign(item, { uploadId: null, generation: generation + 1 });
      await fileQueue.put(item);
    }
  }
}

/**
 * @param {string} path
 * @returns {Promise<string | null>}
 */
async function etagOf(path) {
  try {
    return (await call(`/files/stat?${query({ path })}`, {}, `Checking ${path}`)).etag ?? null;
  } catch (/** @type {any} */ error) {
    if (error.code === "not_found") return null;
    throw error;
  }
}

/** "name (2).ext", "name (3).ext"… the first that the folder on the desktop does not have. */
/** @param {string} path */
async function freeName(path) {
  const folder = parentOf(path);
  const listing = await call(`/files/list?${query({ path: folder })}`, {}, "Listing the folder");
  const taken = new Set((listing.entries ?? []).map((/** @type {FileEntry} */ entry) => entry.name));
  const name = /** @type {string} */ (path.split("/").pop());
  const dot = name.lastIndexOf(".");
  const [base, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ""];
  for (let n = 2; ; n++) {
    const candidate = `${base} (${n})${ext}`;
    if (!taken.has(candidate)) return join(folder, candidate);
  }
}

/** The choices for a change the desktop refused. */
/**
 * @param {QueueItem} item
 * @returns {[string, string][]}
 */
function choices(item) {
  if (item.state === "failed") return [["Retry", "retry"], ["Discard", "discard"]];
  const code = item.error?.code;
  if (code === "not_found") return [["Discard", "discard"]];
  if (item.kind === "upload") return [["Keep both", "both"], ["Replace", "replace"], ["Discard", "discard"]];
  if (item.kind === "move" && code === "already_exists") return [["Keep both", "both"], ["Replace", "replace"], ["Discard", "discard"]];
  return [[item.kind === "move" ? "Rename anyway" : "Delete anyway", "anyway"], ["Discard", "discard"]];
}

/** Settles a conflict: the change goes again as a new request (new id), or is dropped. */
/**
 * @param {QueueItem} item
 * @param {string} choice
 */
async function resolve(item, choice) {
  try {
    if (choice === "discard") {
      await fileQueue.remove(item.id);
      setStatus(`Discarded: ${describe(item)}. Nothing was changed on the desktop.`, "note");
    } else {
      /** @type {QueueItem} */
      const next = { ...item, id: newId(), state: "pending", error: null, uploadId: null, generation: 0 };
      if (choice === "both") {
        if (item.kind === "move") next.to = await freeName(/** @type {string} */ (item.to));
        else Object.assign(next, { path: await freeName(item.path), overwrite: false, etag: null });
        next.name = /** @type {string} */ (next.kind === "move" ? next.to : next.path).split("/").pop();
      } else if (choice === "replace" && item.kind === "move") {
        next.overwrite = true;
      } else if (choice === "replace" || choice === "anyway") {
        // The user saw the conflict and chose: the change applies to the desktop's current version, and only to it.
        next.etag = await etagOf(item.path);
        if (item.kind === "upload") next.overwrite = Boolean(next.etag);
      }
      await fileQueue.replace(item.id, next);
    }
  } catch (/** @type {any} */ error) {
    setStatus(error.message, "error");
    return;
  }
  await renderQueue();
  if (conn.state === "online") await drain();
}

/** The list of waiting changes, with the bytes kept on the phone, Cancel on each, and the choices of a conflict. */
async function renderQueue() {
  queue.items = await fileQueue.all().catch(() => []);
  let box = document.getElementById("file-queue-box");
  if (!box) {
    box = document.createElement("section");
    box.id = "file-queue-box";
    box.setAttribute("aria-labelledby", "file-queue-title");
    const head = el("div", "", "row");
    const title = el("h2", "Waiting for the desktop");
    title.id = "file-queue-title";
    const summary = el("span", "", "small-text");
    summary.id = "file-queue-summary";
    const sendNow = button("Send now", "secondary small", () => drain());
    sendNow.id = "file-queue-send";
    head.append(title, summary, sendNow);
    const list = document.createElement("ul");
    list.id = "file-queue";
    box.append(head, list);
    $("uploads").before(box);
  }
  box.hidden = queue.items.length === 0;
  const bytes = queue.items.reduce((sum, item) => sum + (item.kind === "upload" ? /** @type {number} */ (item.size) : 0), 0);
  $("file-queue-summary").textContent = `${queue.items.length} ${queue.items.length === 1 ? "change" : "changes"}`
    + (bytes ? ` · ${formatSize(bytes)} kept on this phone` : "");
  $("file-queue-send").hidden = conn.state !== "online" || queue.items[0]?.state !== "pending";
  let blocked = false;
  $("file-queue").replaceChildren(...queue.items.map((item) => {
    const row = document.createElement("li");
    row.dataset.state = item.state;
    row.dataset.kind = item.kind;
    const text = el("div", describe(item), "what");
    const state = el("div", "", "small-text state");
    row.append(text, state);
    if (item.state === "pending") {
      state.textContent = queue.applying === item.id ? "Sending…"
        : blocked ? "Waits for the decision above."
          : conn.state !== "online" ? "Waiting — offline."
            : queue.unreachable ? "Waiting — the desktop is not reachable." : "Waiting to send.";
      const cancel = button("Cancel", "secondary small cancel", async () => {
        await fileQueue.remove(item.id);
        // A started upload session would hold its reservation until it expires: give it back now.
        if (item.uploadId) send("DELETE", `/files/upload/sessions/${encodeURIComponent(item.uploadId)}`).catch(() => {});
        setStatus(`Cancelled: ${describe(item)}.`, "note");
        await renderQueue();
      });
      cancel.setAttribute("aria-label", `Cancel: ${describe(item)}`);
      cancel.disabled = queue.applying === item.id;
      row.append(cancel);
    } else {
      blocked = true;
      state.textContent = item.state === "conflict"
        ? `Conflict: ${conflictText(item)} Nothing was changed; choose what to do.`
        : `Failed: ${item.error?.message ?? ""}`;
      state.setAttribute("role", "alert");
      const actions = el("div", "", "row choices");
      for (const [label, choice] of choices(item)) {
        const action = button(label, `${choice === "discard" ? "danger" : "secondary"} small choice-${choice}`, () => resolve(item, choice));
        action.setAttribute("aria-label", `${label}: ${describe(item)}`);
        actions.append(action);
      }
      row.append(actions);
    }
    return row;
  }));
  if (!view.viewing && !$("files-view").hidden) renderList();
}

/** Marks a listed entry that has a change waiting ("rename waiting", "delete waiting"). */
/**
 * @param {FileEntry} entry
 * @param {HTMLElement} item
 */
function pendingMarks(entry, item) {
  const waiting = queue.items.filter((change) => change.kind !== "upload" && change.path === entry.path);
  if (!waiting.length) return [];
  item.classList.add("pending");
  return [el("span", waiting.map((change) => `${change.kind === "move" ? "rename" : "delete"} ${change.state === "pending" ? "waiting" : "needs a decision"}`).join(", "), "pending-note")];
}

// ------------------------------------------------------------------------------------------------ capture

/**
 * @param {string} prefix
 * @param {File} file
 */
function captureName(prefix, file) {
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*$/, "");
  const ext = (file.name?.includes(".") ? file.name.split(".").pop() : file.type.split("/")[1]?.split(";")[0]) || "bin";
  return `${prefix}-${stamp}.${safeName(ext).toLowerCase()}`;
}

/** @type {Record<string, string | undefined>} */
const CAPTURE_TASKS = { photo: "ocr", video: "frames", audio: "transcribe", voice: "transcribe" };

/** A capture goes into captures/ and opens in the viewer, ready for processing (the kind of capture picks the task:
 * a voice note is .webm like a video, but wants a transcript). */
/**
 * @param {File} file
 * @param {string} prefix
 */
async function uploadCapture(file, prefix) {
  const named = new File([file], captureName(prefix, file), { type: file.type });
  await uploadPicked([named], CAPTURES, async (entry) => {
    await openViewer(entry, CAPTURE_TASKS[prefix]);
    setStatus(`Saved to ${entry.path}. Choose a task and Process.`, "ok");
  });
}

async function toggleRecording() {
  const button = $("record");
  if (view.recorder) {
    view.recorder.stop();
    return;
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (/** @type {any} */ error) {
    setStatus(`The microphone is not available: ${error.message}`, "error");
    return;
  }
  const recorder = new MediaRecorder(stream);
  /** @type {Blob[]} */
  const chunks = [];
  recorder.ondataavailable = (event) => { if (event.data.size) chunks.push(event.data); };
  recorder.onstop = async () => {
    for (const track of stream.getTracks()) track.stop();
    view.recorder = null;
    button.textContent = "● Voice note";
    const type = recorder.mimeType || "audio/webm";
    const ext = type.includes("ogg") ? "ogg" : type.includes("mp4") ? "m4a" : "webm";
    await uploadCapture(new File([new Blob(chunks, { type })], `voice.${ext}`, { type }), "voice");
  };
  recorder.start();
  view.recorder = recorder;
  button.textContent = "■ Stop recording";
}

// ------------------------------------------------------------------------------------------------ viewer

function closeViewer() {
  view.viewing = null;
  $("viewer").hidden = true;
  $("files").hidden = false;
  if (view.previewUrl) URL.revokeObjectURL(view.previewUrl);
  view.previewUrl = null;
  $("preview").replaceChildren();
}

/** @type {Record<string, string>} */
const MIME = { image: "image/*", video: "video/mp4", audio: "audio/mpeg" };

/** Opens a file: preview by kind, actions, and the media panel with the task that suits it. */
/**
 * @param {FileEntry} entry
 * @param {string} [task]
 */
export async function openViewer(entry, task) {
  closeViewer();
  view.viewing = entry;
  view.path = parentOf(entry.path);
  renderCrumbs();
  $("files").hidden = true;
  $("viewer").hidden = false;
  $("viewer-name").textContent = entry.name;
  $("viewer-meta").textContent = [formatSize(entry.size), entry.modified && new Date(entry.modified).toLocaleString(), entry.path].filter(Boolean).join(" · ");
  media.show(entry, task ?? suggestedTask(entry.name));
  const preview = $("preview");
  const kind = kindOf(entry.name);
  try {
    if (kind === "text") {
      const blob = await readBlob(entry.path, (entry.size ?? 0) > TEXT_PREVIEW_BYTES ? [0, TEXT_PREVIEW_BYTES - 1] : null);
      const pre = document.createElement("pre");
      pre.textContent = await blob.text();
      preview.replaceChildren(pre);
      if ((entry.size ?? 0) > TEXT_PREVIEW_BYTES) preview.append(`(the first ${formatSize(TEXT_PREVIEW_BYTES)}; download for the rest)`);
    } else if (kind in MIME && (entry.size ?? 0) <= MEDIA_PREVIEW_BYTES) {
      const blob = await readBlob(entry.path);
      if (view.viewing !== entry) return;
      view.previewUrl = URL.createObjectURL(kind === "image" ? blob : new Blob([blob], { type: MIME[kind] }));
      const element = /** @type {HTMLImageElement & HTMLMediaElement} */ (document.createElement(kind === "image" ? "img" : kind));
      element.src = view.previewUrl;
      if (kind === "image") element.alt = entry.name;
      else element.controls = true;
      preview.replaceChildren(element);
    } else {
      preview.textContent = "No preview for this file; use Download.";
    }
  } catch (/** @type {any} */ error) {
    if (view.viewing === entry) preview.replaceChildren(Object.assign(document.createElement("p"), { className: "error", textContent: error.message }));
  }
}

/** @param {FileEntry} entry */
async function download(entry) {
  try {
    const blob = await readBlob(entry.path);
    const url = URL.createObjectURL(blob);
    const link = document.createElement("a");
    link.href = url;
    link.download = entry.name;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  } catch (/** @type {any} */ error) {
    setStatus(error.message, "error");
  }
}

// ------------------------------------------------------------------------------------------------ start

/**
 * Wires the Files screen. options: connection, askInChat({title, text}).
 * @param {Connection} connection
 * @param {{ askInChat: (context: { title: string, text: string }) => void }} options
 */
export function initFiles(connection, options) {
  conn = connection;
  media = new MediaPanel({
    conn,
    readBlob,
    askInChat: options.askInChat,
    onFilesChanged: () => listings.remove(view.path).catch(() => {}),
  });
  $("mkdir").addEventListener("click", makeFolder);
  // Real buttons (focusable, named, Enter/Space) open the hidden file inputs they stand for.
  for (const button of document.querySelectorAll("#files-toolbar button[data-input]")) {
    button.addEventListener("click", () => $(/** @type {string} */ (/** @type {HTMLElement} */ (button).dataset.input)).click());
  }
  $("files-upload").addEventListener("change", async (event) => {
    const input = /** @type {HTMLInputElement} */ (event.target);
    const files = [.../** @type {FileList} */ (input.files)];
    input.value = "";
    await uploadPicked(files, view.path);
  });
  for (const [id, prefix] of [["capture-photo", "photo"], ["capture-video", "video"], ["capture-audio", "audio"]]) {
    $(id).addEventListener("change", async (event) => {
      const input = /** @type {HTMLInputElement} */ (event.target);
      const file = /** @type {FileList} */ (input.files)[0];
      input.value = "";
      if (file) await uploadCapture(file, prefix);
    });
  }
  // Feature checks: older browsers have neither (the types say both always exist).
  if (/** @type {unknown} */ (navigator.mediaDevices?.getUserMedia) && /** @type {unknown} */ (window.MediaRecorder)) {
    $("record").hidden = false;
    $("record").addEventListener("click", toggleRecording);
  }
  $("viewer-close").addEventListener("click", () => openFolder(view.viewing ? parentOf(view.viewing.path) : view.path));
  $("viewer-download").addEventListener("click", () => view.viewing && download(view.viewing));
  $("viewer-rename").addEventListener("click", async () => {
    const entry = view.viewing;
    if (entry && await renameEntry(entry)) closeViewer();
  });
  $("viewer-delete").addEventListener("click", async () => {
    const entry = view.viewing;
    if (entry && await deleteEntry(entry)) closeViewer();
  });
  conn.addEventListener("state", async (stateEvent) => {
    const event = /** @type {CustomEvent<string>} */ (stateEvent);
    if (event.detail === "revoked") {
      // Nothing in the queue can reach the desktop any more; say what was dropped.
      const dropped = (await fileQueue.all().catch(() => [])).length;
      await fileQueue.clear().catch(() => {});
      await renderQueue();
      if (dropped) setStatus(`This phone is no longer paired: ${dropped} file ${dropped === 1 ? "change" : "changes"} that had not reached the desktop were dropped.`, "error");
      return;
    }
    if (event.detail === "online") {
      if (!await drain() && !$("files-view").hidden && !view.viewing) openFolder(view.path);
    } else {
      await renderQueue();
    }
  });
  renderCrumbs();
  renderQueue().then(() => conn.state === "online" && drain());
}

/** The Files tab was opened: list the current folder again (it may have changed on the desktop). */
export function showFiles() {
  if (view.viewing) return;
  openFolder(view.path);
}
