// The Files screen of the mobile web client: browse this device's space on the desktop (folders, breadcrumbs),
// preview (images, text, audio, video) and download through authenticated fetches turned into blob: URLs (the token
// never goes into a URL), upload with progress (large files in resumable chunks that continue after a dropped
// connection), capture from the camera and microphone into captures/, new folder, rename/move, delete. The last
// listing of each folder is kept in IndexedDB and shown offline. All text goes in with textContent.
import { listings } from "/app-db.js";
import { MediaPanel, kindOf, suggestedTask } from "/app-media.js";
import { button, el } from "/app-ui.js";

const $ = (id) => document.getElementById(id);

/** Files larger than this go up in resumable chunks of this size; smaller ones in one multipart request. */
export const CHUNK_BYTES = 4 * 1024 * 1024;
const TEXT_PREVIEW_BYTES = 64 * 1024;
const MEDIA_PREVIEW_BYTES = 64 * 1024 * 1024;
const MAX_RESUME_ATTEMPTS = 8;
const CAPTURES = "captures";

const view = {
  path: "",
  entries: [],
  viewing: null,
  previewUrl: null,
  recorder: null,
};
let conn;
let media;

const join = (folder, name) => (folder ? `${folder}/${name}` : name);
const parentOf = (path) => path.split("/").slice(0, -1).join("/");
const query = (params) => new URLSearchParams(params).toString();

function setStatus(text, kind = "note") {
  const status = $("files-status");
  status.textContent = text;
  status.dataset.kind = text ? kind : "";
}

function formatSize(bytes) {
  if (bytes == null) return "";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** A name safe for the desktop's path rules (the phone's own file names can be anything). */
export function safeName(name, fallback = "file") {
  const cleaned = (name ?? "").normalize("NFC").replace(/[\u0000-\u001f/\\:*?"<>|]/g, "_").replace(/^\.+/, "").trim();
  return (cleaned || fallback).slice(-120);
}

/** An error from the desktop's answer: its own message and code, or what the HTTP status means. */
async function failure(response, action) {
  const json = await response.json().catch(() => ({}));
  const message = json?.error?.message ?? `HTTP ${response.status}`;
  return Object.assign(new Error(`${action}: ${message}`), { code: json?.error?.code, status: response.status });
}

/** An authenticated call answering JSON; a network failure is marked so callers can fall back or retry. */
async function call(path, options, action) {
  let response;
  try {
    response = await conn.api(path, options);
  } catch (error) {
    throw Object.assign(new Error(`${action}: the desktop is not reachable.`), { network: true, cause: error });
  }
  if (!response.ok) throw await failure(response, action);
  return response.status === 204 ? null : response.json();
}

/** Reads a file of this device's space as a Blob (Authorization header; optional byte range). */
export async function readBlob(path, range) {
  const headers = range ? { Range: `bytes=${range[0]}-${range[1]}` } : {};
  let response;
  try {
    response = await conn.api(`/files/read?${query({ path })}`, { headers });
  } catch (error) {
    throw Object.assign(new Error(`Reading ${path}: the desktop is not reachable.`), { network: true, cause: error });
  }
  if (!response.ok) throw await failure(response, `Reading ${path}`);
  return response.blob();
}

// ------------------------------------------------------------------------------------------------ listing

/** Lists a folder from the desktop; offline, or when the desktop is unreachable, from the last listing seen. */
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
  } catch (error) {
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
  } catch (error) {
    setStatus(error.message, "error");
  }
}

async function renameEntry(entry) {
  const to = prompt("New name, or a path to move it to (folders separated by /)", entry.path);
  if (!to || to === entry.path) return false;
  const target = to.includes("/") ? to.replace(/^\/+/, "") : join(parentOf(entry.path), to);
  try {
    await call(`/files/move?${query({ path: entry.path, to: target })}`, { method: "POST" }, `Renaming ${entry.name}`);
    await listings.remove(view.path).catch(() => {});
    await openFolder(view.path);
    setStatus(`Renamed to ${target}.`, "ok");
    return true;
  } catch (error) {
    setStatus(error.message, "error");
    return false;
  }
}

async function deleteEntry(entry) {
  const question = entry.kind === "directory"
    ? `Delete the folder "${entry.name}" and everything in it?`
    : `Delete "${entry.name}"?`;
  if (!confirm(question)) return false;
  try {
    await call(`/files/delete?${query({ path: entry.path, recursive: entry.kind === "directory" })}`, { method: "POST" }, `Deleting ${entry.name}`);
    await openFolder(view.path);
    setStatus(`Deleted ${entry.name}.`, "ok");
    return true;
  } catch (error) {
    setStatus(error.message, "error");
    return false;
  }
}

// ------------------------------------------------------------------------------------------------ uploads

/** One XMLHttpRequest (fetch cannot report upload progress) with the session token in its header. */
async function send(method, url, body, headers, onProgress) {
  const token = await conn.session();
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    xhr.setRequestHeader("Authorization", `Bearer ${token}`);
    for (const [key, value] of Object.entries(headers ?? {})) xhr.setRequestHeader(key, value);
    xhr.upload.onprogress = (event) => onProgress?.(event.loaded);
    xhr.onload = () => {
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
function pause(attempt) {
  return new Promise((resolve) => {
    const done = () => { window.removeEventListener("online", done); clearTimeout(timer); resolve(); };
    const timer = navigator.onLine ? setTimeout(done, Math.random() * Math.min(15000, 500 * 2 ** attempt)) : undefined;
    window.addEventListener("online", done);
  });
}

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
export async function uploadFile(file, path, overwrite = false) {
  const row = uploadRow(path);
  try {
    const entry = file.size > CHUNK_BYTES ? await uploadChunked(file, path, overwrite, row) : await uploadWhole(file, path, overwrite, row);
    row.done();
    return entry;
  } catch (error) {
    // An existing file is a question for the user (Replace?), not a failure: the row goes, the answer decides the status.
    if (error.code === "already_exists" && !overwrite) row.done();
    else row.failed(error.message);
    throw Object.assign(new Error(`Uploading ${path}: ${error.message}`), { code: error.code });
  }
}

async function uploadWhole(file, path, overwrite, row) {
  const form = new FormData();
  form.append("path", path); // before the file part: the desktop never uses the phone's file name as a path
  form.append("file", file, "upload");
  return send("POST", `/files/upload?${query({ overwrite })}`, form, {}, (loaded) => row.progress(loaded / Math.max(1, file.size)));
}

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
    } catch (error) {
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

async function uploadPicked(files, folder, afterUpload) {
  for (const file of files) {
    const path = join(folder, safeName(file.name));
    try {
      let entry;
      try {
        entry = await uploadFile(file, path);
      } catch (error) {
        if (error.code !== "already_exists") throw error;
        if (!confirm(`${path} already exists. Replace it?`)) {
          setStatus(`${path} already exists; it was not replaced.`, "note");
          continue;
        }
        entry = await uploadFile(file, path, true);
      }
      if (view.path === folder && !view.viewing) await openFolder(folder);
      setStatus(`Uploaded ${entry?.path ?? path}.`, "ok");
      await afterUpload?.(entry ?? { path, name: path.split("/").pop(), kind: "file", size: file.size });
    } catch (error) {
      setStatus(error.message, "error");
    }
  }
}

// ------------------------------------------------------------------------------------------------ capture

function captureName(prefix, file) {
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*$/, "");
  const ext = (file.name?.includes(".") ? file.name.split(".").pop() : file.type.split("/")[1]?.split(";")[0]) || "bin";
  return `${prefix}-${stamp}.${safeName(ext).toLowerCase()}`;
}

const CAPTURE_TASKS = { photo: "ocr", video: "frames", audio: "transcribe", voice: "transcribe" };

/** A capture goes into captures/ and opens in the viewer, ready for processing (the kind of capture picks the task:
 * a voice note is .webm like a video, but wants a transcript). */
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
  } catch (error) {
    setStatus(`The microphone is not available: ${error.message}`, "error");
    return;
  }
  const recorder = new MediaRecorder(stream);
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

const MIME = { image: "image/*", video: "video/mp4", audio: "audio/mpeg" };

/** Opens a file: preview by kind, actions, and the media panel with the task that suits it. */
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
      const blob = await readBlob(entry.path, entry.size > TEXT_PREVIEW_BYTES ? [0, TEXT_PREVIEW_BYTES - 1] : null);
      const pre = document.createElement("pre");
      pre.textContent = await blob.text();
      preview.replaceChildren(pre);
      if (entry.size > TEXT_PREVIEW_BYTES) preview.append(`(the first ${formatSize(TEXT_PREVIEW_BYTES)}; download for the rest)`);
    } else if (kind in MIME && (entry.size ?? 0) <= MEDIA_PREVIEW_BYTES) {
      const blob = await readBlob(entry.path);
      if (view.viewing !== entry) return;
      view.previewUrl = URL.createObjectURL(kind === "image" ? blob : new Blob([blob], { type: MIME[kind] }));
      const element = document.createElement(kind === "image" ? "img" : kind);
      element.src = view.previewUrl;
      if (kind === "image") element.alt = entry.name;
      else element.controls = true;
      preview.replaceChildren(element);
    } else {
      preview.textContent = "No preview for this file; use Download.";
    }
  } catch (error) {
    if (view.viewing === entry) preview.replaceChildren(Object.assign(document.createElement("p"), { className: "error", textContent: error.message }));
  }
}

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
  } catch (error) {
    setStatus(error.message, "error");
  }
}

// ------------------------------------------------------------------------------------------------ start

/** Wires the Files screen. options: connection, askInChat({title, text}). */
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
    button.addEventListener("click", () => $(button.dataset.input).click());
  }
  $("files-upload").addEventListener("change", async (event) => {
    const files = [...event.target.files];
    event.target.value = "";
    await uploadPicked(files, view.path);
  });
  for (const [id, prefix] of [["capture-photo", "photo"], ["capture-video", "video"], ["capture-audio", "audio"]]) {
    $(id).addEventListener("change", async (event) => {
      const file = event.target.files[0];
      event.target.value = "";
      if (file) await uploadCapture(file, prefix);
    });
  }
  if (navigator.mediaDevices?.getUserMedia && window.MediaRecorder) {
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
  conn.addEventListener("state", (event) => {
    if (event.detail === "online" && !$("files-view").hidden && !view.viewing) openFolder(view.path);
  });
  renderCrumbs();
}

/** The Files tab was opened: list the current folder again (it may have changed on the desktop). */
export function showFiles() {
  if (view.viewing) return;
  openFolder(view.path);
}
