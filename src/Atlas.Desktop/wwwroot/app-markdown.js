// @ts-check
// Markdown for answers: markdown-it (raw HTML off) renders, DOMPurify sanitizes, and only then does the DOM get it, so
// model output is never HTML of its own: <script>, event handlers, javascript:/data: links and remote images stay
// inert. Links open in a new tab without access to this page; code blocks get a Copy button.
//
// Streaming: an answer is re-rendered as its deltas arrive. Finished blocks (text before a blank line that is outside
// a code fence and followed by an unindented line) are rendered once and kept; only the open tail is rendered again,
// so a long answer costs the size of its last block per frame, and the kept part never flickers. When the answer ends
// it is rendered whole once (lists and references that span blocks come out exactly as markdown says).
import markdownit from "/vendor/markdown-it.js";
import DOMPurify from "/vendor/dompurify.js";
import { button } from "/app-ui.js";

const md = markdownit({ html: false, linkify: true, breaks: true });

// Images in model output would load a remote address chosen by the model (a way to leak the conversation through the
// URL): they become a link that the user may open.
/** @type {import('/vendor/markdown-it.js').RendererRule} */
md.renderer.rules.image = (tokens, index, options, env, self) => {
  const token = tokens[index];
  const alt = self.renderInlineAsText(token.children ?? [], options, env) || "image";
  return `<a href="${md.utils.escapeHtml(/** @type {string} */ (token.attrGet("src") ?? ""))}">🖼 ${md.utils.escapeHtml(alt)}</a>`;
};

const purify = DOMPurify(window);
purify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A") {
    if (node.hasAttribute("href")) {
      node.setAttribute("target", "_blank");
      node.setAttribute("rel", "noopener noreferrer nofollow");
    }
  }
});
/** @type {import('/vendor/dompurify.js').Config & { RETURN_DOM_FRAGMENT: true }} */
const SANITIZE = {
  RETURN_DOM_FRAGMENT: true,
  // Only web and mail links; anything else (javascript:, data:, relative paths into the desktop) loses its href.
  ALLOWED_URI_REGEXP: /^(?:https?:|mailto:)/i,
  FORBID_TAGS: ["img", "style", "form", "input", "button", "textarea", "select", "iframe", "svg", "math"],
  FORBID_ATTR: ["style", "id", "name"],
};

/**
 * Copies text to the clipboard (the async API where the page may use it, else a hidden textarea).
 * @param {string} text
 */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return;
  } catch {
    // Not a secure context, or no permission: the older way below.
  }
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.append(area);
  area.select();
  try {
    if (!document.execCommand("copy")) throw new Error("The browser refused to copy.");
  } finally {
    area.remove();
  }
}

/**
 * A button that copies what `text` returns and says so for a moment (also to screen readers).
 * @param {string} label
 * @param {() => string} text
 */
export function copyButton(label, text, className = "secondary small") {
  const copy = button("Copy", className, async () => {
    try {
      await copyText(text());
      copy.textContent = "Copied";
    } catch {
      copy.textContent = "Copy failed";
    }
    setTimeout(() => { copy.textContent = "Copy"; }, 1500);
  });
  copy.setAttribute("aria-label", label);
  copy.setAttribute("aria-live", "polite");
  return copy;
}

/**
 * The sanitized DOM of a piece of markdown, code blocks wrapped with their language and a Copy button.
 * @param {string} source
 */
function fragment(source) {
  const dom = purify.sanitize(md.render(source), SANITIZE);
  for (const pre of dom.querySelectorAll("pre")) {
    const code = pre.querySelector("code");
    const block = document.createElement("div");
    block.className = "code-block";
    const bar = document.createElement("div");
    bar.className = "code-bar";
    const language = /\blanguage-([\w+#.-]+)/.exec(code?.className ?? "")?.[1];
    const label = document.createElement("span");
    label.textContent = language ?? "code";
    bar.append(label, copyButton(`Copy ${language ?? ""} code`.replace("  ", " "), () => (code ?? pre).textContent, "secondary small copy-code"));
    pre.replaceWith(block);
    block.append(bar, pre);
  }
  return dom;
}

const FENCE = /^ {0,3}(`{3,}|~{3,})/;

/**
 * Where the finished blocks of `text` end, scanning from `from` (a cut made before, so outside any fence): just after
 * the last blank line outside a fence that is followed by an unindented line.
 * @param {string} text
 * @param {number} from
 */
function stableEnd(text, from) {
  let cut = from;
  /** @type {string | null} */
  let fence = null;
  let lineStart = from;
  let previousBlank = false;
  while (lineStart < text.length) {
    const newline = text.indexOf("\n", lineStart);
    if (newline < 0) break; // the last line may still grow
    const line = text.slice(lineStart, newline);
    const marker = FENCE.exec(line)?.[1];
    if (fence) {
      if (marker && marker[0] === fence[0] && marker.length >= fence.length && line.trim() === marker) fence = null;
    } else if (marker) {
      if (previousBlank || lineStart === from) cut = lineStart;
      fence = marker;
    } else if (previousBlank && line.length > 0 && !/^\s/.test(line)) {
      cut = lineStart;
    }
    previousBlank = !fence && line.trim() === "";
    lineStart = newline + 1;
  }
  return cut;
}

/**
 * What a container remembers of its last rendering: the final text, or while streaming the text of the kept blocks
 * and the elements of the kept blocks and of the tail.
 * @typedef {{ final: string, stable?: undefined, done?: undefined, tail?: undefined } | StreamingState} MarkdownState
 */

/** @typedef {{ final?: undefined, stable: string, done: HTMLElement, tail: HTMLElement }} StreamingState */

/**
 * Shows markdown in `container`. While `streaming`, the blocks already rendered are kept and only the rest is rendered
 * again; otherwise the whole text is rendered (once per distinct text).
 * @param {HTMLElement & { mdState?: MarkdownState }} container
 * @param {string} text
 * @param {boolean} streaming
 */
export function renderMarkdown(container, text, streaming) {
  let state = container.mdState;
  if (!streaming) {
    if (state?.final === text) return;
    container.replaceChildren(fragment(text));
    container.mdState = { final: text };
    return;
  }
  if (!state?.tail || !text.startsWith(state.stable)) {
    /** @type {StreamingState} */
    const fresh = { stable: "", done: document.createElement("div"), tail: document.createElement("div") };
    state = fresh;
    state.done.className = "md-done";
    state.tail.className = "md-tail";
    container.replaceChildren(state.done, state.tail);
    container.mdState = state;
  }
  const end = stableEnd(text, state.stable.length);
  if (end > state.stable.length) {
    state.done.append(fragment(text.slice(state.stable.length, end)));
    state.stable = text.slice(0, end);
  }
  state.tail.replaceChildren(fragment(text.slice(end)));
}
