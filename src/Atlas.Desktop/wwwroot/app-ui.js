// @ts-check
// Small DOM helpers shared by the screens of the mobile web client. Text always goes in with textContent.

/** An element with optional text and class. */
export function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text != null) node.textContent = text;
  if (className) node.className = className;
  return node;
}

/** A type=button button that runs onClick. */
export function button(text, className, onClick) {
  const node = el("button", text, className);
  node.type = "button";
  node.addEventListener("click", onClick);
  return node;
}
