// @ts-check
// Media processing from the Files screen: runs a task on a file of this device's space over the WebSocket
// (media_process; progress frames, then the result), shows the result readably (text with a copy button, QR codes,
// faces, EXIF, frames as thumbnails, transcript with timestamps), marks answers from the desktop's cache, and hands
// a compact text of the result to chat ("Ask in chat"). Everything is rendered with textContent, never innerHTML.

import { button, byId, el } from "/app-ui.js";
import { mediaProcessData } from "/wire.js";

/** @typedef {import('./wire.js').Frame} Frame */
/** @typedef {import('./wire.js').FileEntry} FileEntry */

/**
 * The result of a media task as the desktop sends it (media_result data.result; docs/atlas-protocol.md): one part per
 * task (ocr, transcript, description, context, image, recording, frames), read as it comes.
 * @typedef {Record<string, any>} MediaResult
 */

/**
 * What the panel needs from the Files screen.
 * @typedef {{ conn: import('./app-net.js').Connection, readBlob: (path: string) => Promise<Blob>,
 *   askInChat: (context: { title: string, text: string }) => void, onFilesChanged?: () => void }} MediaPanelOptions
 */

/** @param {string} id */
const $ = (id) => byId(id, HTMLElement);

/** Request ids of media jobs start with this, so the chat screen leaves their frames alone. */
export const MEDIA_ID_PREFIX = "media-";

/** The task that suits a file best, from its name (the desktop decides the real format from the bytes). */
/** @param {string} name */
export function suggestedTask(name) {
  const kind = kindOf(name);
  return kind === "image" ? "ocr" : kind === "audio" ? "transcribe" : kind === "video" ? "frames" : "context";
}

/** image, video, audio, text or other, from the file name. */
/** @param {string} name */
export function kindOf(name) {
  const ext = /** @type {string} */ (name.toLowerCase().split(".").pop());
  if (["jpg", "jpeg", "png", "gif", "webp", "bmp", "heic", "heif", "avif", "tif", "tiff"].includes(ext)) return "image";
  if (["mp4", "mov", "m4v", "webm", "mkv", "3gp", "avi", "ts"].includes(ext)) return "video";
  if (["mp3", "m4a", "aac", "wav", "ogg", "oga", "opus", "flac", "amr"].includes(ext)) return "audio";
  if (["txt", "md", "csv", "json", "log", "xml", "yaml", "yml", "ini", "html", "css", "js", "cs", "py", "sh"].includes(ext)) return "text";
  return "other";
}

/** @type {Record<string, string | undefined>} */
const TASK_LABELS = { ocr: "Text of", analyze: "Analysis of", frames: "Frames of", transcribe: "Transcript of", describe: "Description of", context: "Context of" };

/** @param {number | undefined} seconds */
function timestamp(seconds) {
  const s = Math.max(0, Math.round(seconds ?? 0));
  return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

/** @param {[string, unknown][]} rows */
function table(rows) {
  const t = document.createElement("table");
  for (const [key, value] of rows) {
    if (value == null || value === "") continue;
    const tr = document.createElement("tr");
    tr.append(el("th", key), el("td", String(value)));
    t.append(tr);
  }
  return t;
}

/** The text chat receives for a result: the context card when there is one, else the task's main text. */
/** @param {MediaResult} result */
export function resultText(result) {
  if (result.context?.text) return result.context.text;
  const lines = [];
  if (result.ocr) lines.push(result.ocr.text);
  if (result.transcript) {
    for (const s of result.transcript.segments ?? []) lines.push(`[${timestamp(s.start)}–${timestamp(s.end)}] ${s.text}`);
    if (!result.transcript.segments?.length) lines.push(result.transcript.text);
  }
  if (result.description) lines.push(result.description.text);
  if (result.image) {
    const i = result.image;
    lines.push(`${i.format} ${i.width}×${i.height}`);
    if (i.exif) lines.push(`EXIF: ${[i.exif.make, i.exif.model, i.exif.takenAt].filter(Boolean).join(", ")}`);
    for (const code of i.codes ?? []) lines.push(`${code.symbology}: ${code.text}`);
    if (i.faces) lines.push(`Faces: ${i.faces.length}`);
  }
  if (result.recording) lines.push(`${result.recording.container}, ${result.recording.durationSeconds?.toFixed(1)} s`);
  if (result.frames) {
    for (const f of result.frames.frames ?? []) lines.push(`${timestamp(f.seconds)}${f.ocr?.text ? ` ${f.ocr.text}` : ""}`);
  }
  return lines.filter(Boolean).join("\n");
}

/**
 * The media panel of the file viewer. options: conn (Connection), readBlob(path) → Blob, askInChat({title, text}),
 * onFilesChanged() (frames were written into the device's space).
 */
export class MediaPanel {
  /** @param {MediaPanelOptions} options */
  constructor(options) {
    this.options = options;
    /** @type {FileEntry | null} */
    this.entry = null;
    /** @type {{ id: string, task: string, entry: FileEntry } | null} */
    this.running = null; // { id, entry }
    /** @type {string[]} */
    this.objectUrls = [];
    options.conn.addEventListener("frame", (event) => this.onFrame(/** @type {CustomEvent<Frame>} */ (event).detail));
    options.conn.addEventListener("state", (event) => {
      if (/** @type {CustomEvent<string>} */ (event).detail !== "online" && this.running) this.fail({ message: "The connection to the desktop dropped. The desktop finishes the job; run it again to get the result (from its cache)." });
    });
    $("media-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.run(byId("media-task", HTMLSelectElement).value);
    });
    $("media-cancel").addEventListener("click", () => this.cancel());
  }

  /**
   * Shows the panel for a file (a new file clears the last result).
   * @param {FileEntry} entry
   * @param {string} [task]
   */
  show(entry, task) {
    if (this.running && this.running.entry.path !== entry.path) this.finish(); // stop waiting for the other file's job
    if (this.entry?.path !== entry.path) this.clear();
    this.entry = entry;
    byId("media-task", HTMLSelectElement).value = task ?? suggestedTask(entry.name);
  }

  clear() {
    for (const url of this.objectUrls) URL.revokeObjectURL(url);
    this.objectUrls = [];
    $("media-result").replaceChildren();
    if (!this.running) $("media-progress").hidden = true;
  }

  /** @param {string} task */
  run(task) {
    const { conn } = this.options;
    if (!this.entry || this.running) return;
    this.clear();
    const id = `${MEDIA_ID_PREFIX}${crypto.randomUUID?.() ?? Date.now()}`;
    if (!conn.send({ type: "media_process", id, data: mediaProcessData(task, this.entry.path) })) {
      this.showError({ message: "Processing needs the desktop: it is not reachable right now." });
      return;
    }
    this.running = { id, task, entry: this.entry };
    $("media-progress").hidden = false;
    $("media-bar").removeAttribute("value");
    $("media-stage").textContent = "Queued…";
    byId("media-run", HTMLButtonElement).disabled = true;
    $("media-cancel").hidden = false;
  }

  /** Stops waiting for the job. The desktop finishes it anyway and caches the result, so asking again is instant. */
  cancel() {
    if (!this.running) return;
    this.finish();
    $("media-result").replaceChildren(el("p", "Cancelled. The desktop may still finish this job; running it again then answers from its cache.", "note"));
  }

  finish() {
    this.running = null;
    $("media-progress").hidden = true;
    byId("media-run", HTMLButtonElement).disabled = false;
    $("media-cancel").hidden = true;
  }

  /** @param {{ code?: string, message: string }} error */
  fail(error) {
    this.finish();
    this.showError(error);
  }

  /** @param {{ code?: string, message: string }} error */
  showError(error) {
    const text = error.code ? `${error.message} (${error.code})` : error.message;
    $("media-result").replaceChildren(el("p", text, "media-error"));
  }

  /** @param {Frame} frame */
  onFrame(frame) {
    if (!this.running || frame.re !== this.running.id) return;
    if (frame.type === "error") {
      this.fail(frame.error ?? { message: "The desktop could not process this file." });
      return;
    }
    if (frame.type !== "media_result") return;
    const data = frame.data ?? {};
    if (!data.done) {
      const progress = data.progress ?? {};
      if (typeof progress.fraction === "number") byId("media-bar", HTMLProgressElement).value = progress.fraction;
      $("media-stage").textContent = progress.stage ? `${progress.stage}…` : "Working…";
      return;
    }
    const { task, entry } = this.running;
    this.finish();
    this.render(task, entry, data);
    if (data.files?.length) this.options.onFilesChanged?.();
  }

  /**
   * @param {string} task
   * @param {FileEntry} entry
   * @param {{ result?: MediaResult, fromCache?: boolean, files?: string[], filesError?: any }} data
   */
  render(task, entry, data) {
    /** @type {MediaResult} */
    const result = data.result ?? {};
    const box = $("media-result");
    const head = el("div", `${TASK_LABELS[task] ?? "Result of"} ${entry.name}`, "media-head");
    if (data.fromCache) head.append(el("span", "from cache", "badge from-cache"));
    /** @type {HTMLElement[]} */
    const parts = [head];
    const text = resultText(result);

    if (result.ocr) parts.push(el("pre", result.ocr.text || "(no text found)", "media-text"),
      el("div", `Confidence ${Math.round((result.ocr.meanConfidence ?? 0) * 100)} % · ${result.ocr.engine}`, "small-text"));
    if (result.transcript) parts.push(this.transcript(result.transcript));
    if (result.description) parts.push(el("pre", result.description.text, "media-text"));
    if (result.context) parts.push(el("pre", result.context.text, "media-text"));
    if (result.image) parts.push(...this.image(result.image));
    if (result.recording) parts.push(this.recording(result.recording));
    if (result.frames) parts.push(this.frames(result.frames, data.files ?? [], data.filesError));

    const actions = el("div", null, "row");
    if (text) {
      const copy = button("Copy text", "secondary small media-copy", async () => {
        try {
          await navigator.clipboard.writeText(text);
          copy.textContent = "Copied";
        } catch {
          copy.textContent = "Copy failed (select the text instead)";
        }
      });
      actions.append(copy, button("Ask in chat", "small media-ask",
        () => this.options.askInChat({ title: `${TASK_LABELS[task] ?? "Result of"} ${entry.name}`, text })));
    }
    parts.push(actions);
    box.replaceChildren(...parts);
  }

  /** @param {any} transcript */
  transcript(transcript) {
    const list = el("div", null, "transcript");
    for (const segment of transcript.segments ?? []) {
      list.append(el("div", `[${timestamp(segment.start)}–${timestamp(segment.end)}] ${segment.text}`));
    }
    if (!transcript.segments?.length) list.append(el("div", transcript.text || "(no speech recognized)"));
    list.append(el("div", `${transcript.engine}, ${transcript.language}, confidence ${Math.round((transcript.meanConfidence ?? 0) * 100)} % — automatic, may contain errors`, "small-text"));
    return list;
  }

  /** @param {any} image */
  image(image) {
    /** @type {HTMLElement[]} */
    const parts = [table([
      ["Format", `${image.format} ${image.width}×${image.height}`],
      ["Faces", image.faces == null ? "not checked (the face model is not installed)" : image.faces.length],
      ["Brightness", image.brightness?.toFixed(2)],
      ["Sharpness", image.sharpness?.toFixed(1)],
      ["Flags", [image.isDark && "dark", image.isOverexposed && "overexposed", image.isBlurry && "blurry"].filter(Boolean).join(", ")],
      ["Camera", [image.exif?.make, image.exif?.model].filter(Boolean).join(" ")],
      ["Taken", image.exif?.takenAt],
      ["Location", image.exif?.latitude != null ? `${image.exif.latitude.toFixed(5)}, ${image.exif.longitude.toFixed(5)}` : null],
      ["Exposure", [image.exif?.exposureTime, image.exif?.fNumber && `f/${image.exif.fNumber}`, image.exif?.iso && `ISO ${image.exif.iso}`].filter(Boolean).join(" · ")],
    ])];
    parts[0].classList.add("analysis");
    if (image.codes?.length) {
      const codes = el("ul", null, "codes");
      for (const code of image.codes) codes.append(el("li", `${code.symbology}: ${code.text}`));
      parts.push(el("div", "Codes"), codes);
    }
    if (image.colors?.length) {
      const colors = el("div", null, "colors small-text");
      for (const color of image.colors) {
        const swatch = el("span", null, "swatch");
        swatch.style.background = /^#[0-9a-f]{6}$/i.test(color.hex) ? color.hex : "transparent";
        colors.append(swatch, `${color.hex} ${Math.round(color.fraction * 100)} %  `);
      }
      parts.push(colors);
    }
    return parts;
  }

  /** @param {any} recording */
  recording(recording) {
    return table([
      ["Container", recording.container],
      ["Duration", `${recording.durationSeconds?.toFixed(1)} s`],
      ["Created", recording.createdAt],
      ["Location", recording.location],
      ["Streams", (recording.streams ?? []).map((/** @type {{ type: string }} */ s) => s.type).join(", ")],
    ]);
  }

  /**
   * @param {any} frames
   * @param {string[]} files
   * @param {any} [filesError] the desktop's error writing the frames (an error object, or a text)
   */
  frames(frames, files, filesError) {
    const grid = el("div", null, "frames");
    (frames.frames ?? []).forEach((/** @type {{ seconds: number, ocr?: { text?: string } }} */ frame, /** @type {number} */ index) => {
      const figure = document.createElement("figure");
      const img = document.createElement("img");
      img.alt = `Frame at ${timestamp(frame.seconds)}`;
      const path = files[index];
      if (path) {
        this.options.readBlob(path).then((/** @type {Blob} */ blob) => {
          const url = URL.createObjectURL(new Blob([blob], { type: "image/jpeg" }));
          this.objectUrls.push(url);
          img.src = url;
        }).catch(() => { img.alt = `Frame at ${timestamp(frame.seconds)} (could not be read)`; });
      }
      figure.append(img, el("figcaption", `${timestamp(frame.seconds)}${frame.ocr?.text ? ` — ${frame.ocr.text}` : ""}`));
      grid.append(figure);
    });
    if (filesError) grid.append(el("p", filesError.message ?? String(filesError), "media-error"));
    return grid;
  }
}
