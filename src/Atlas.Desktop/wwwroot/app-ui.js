// @ts-check
// Small DOM helpers shared by the screens of the mobile web client. Text always goes in with textContent.

/**
 * An element with optional text and class.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {string | null} [text]
 * @param {string} [className]
 * @returns {HTMLElementTagNameMap[K]}
 */
export function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text != null) node.textContent = text;
  if (className) node.className = className;
  return node;
}

/**
 * A type=button button that runs onClick.
 * @param {string | null} text
 * @param {string | undefined} className
 * @param {(event: MouseEvent) => void} onClick
 */
export function button(text, className, onClick) {
  const node = el("button", text, className);
  node.type = "button";
  node.addEventListener("click", onClick);
  return node;
}

/**
 * The element with this id, of the expected type; a page whose markup lacks it is a bug, so this throws saying which.
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new (...args: any[]) => T} type
 * @returns {T}
 */
export function byId(id, type) {
  const node = document.getElementById(id);
  if (!(node instanceof type)) throw new Error(`The page has no ${type.name} #${id}.`);
  return node;
}
