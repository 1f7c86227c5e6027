// Building DOM nodes without HTML strings: every piece of text goes through textContent.

/**
 * Create an element.
 * @param {string} tag
 * @param {{className?: string, text?: string, data?: Record<string, string>,
 *          attrs?: Record<string, string>}} [options]
 * @param {Node[]} [children]
 */
export function h(tag, options = {}, children = []) {
  const node = document.createElement(tag);
  if (options.className) node.className = options.className;
  if (options.text !== undefined) node.textContent = options.text;
  for (const [key, value] of Object.entries(options.data ?? {})) node.dataset[key] = value;
  for (const [key, value] of Object.entries(options.attrs ?? {})) node.setAttribute(key, value);
  for (const child of children) node.append(child);
  return node;
}

/** The element of `root` marked data-role="<role>"; throws when the page lacks it. */
export function role(root, name) {
  const node = root.querySelector(`[data-role="${name}"]`);
  if (!node) throw new Error(`missing [data-role="${name}"]`);
  return node;
}

/** Whether a scrolling box is (nearly) scrolled to its end. */
export function atBottom(box, slack = 48) {
  return box.scrollHeight - box.scrollTop - box.clientHeight <= slack;
}
