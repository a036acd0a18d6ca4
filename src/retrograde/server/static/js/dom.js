// Building the page's elements. Every piece of data reaches the document as
// text (textContent, attribute values): nothing here parses a string as HTML,
// so a value such as `<img src=x onerror=...>` shows literally and runs nothing.

/**
 * Make an element: `h("a", {href: "#/log", class: "x"}, "text", child, ...)`.
 * Attributes starting with "on" take a function (an event listener), never a
 * string; children are nodes or strings (strings become text nodes).
 */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      node.addEventListener(name.slice(2), value);
    } else if (name === "dataset") {
      Object.assign(node.dataset, value);
    } else {
      node.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(node, children);
  return node;
}

/**
 * Append children (nodes, strings, arrays of them) to `node`, skipping null,
 * undefined and false (the DOM's own `append` would write them as text).
 */
export function append(node, ...children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Replace everything inside `node` with `children`. */
export function replace(node, ...children) {
  node.replaceChildren();
  return append(node, children);
}

/** A JSON value as one line of text ("***" for a masked secret stays as is). */
export function showValue(value) {
  if (value === undefined) return "";
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

/** One side of a diff: its value, or "—" when that side has none (`null`). */
export function showSide(value) {
  return value === null || value === undefined ? "—" : showValue(value);
}

/** A table with a header row and one row per entry of `rows` (arrays of cells). */
export function table(headers, rows, attrs = {}) {
  return h(
    "table",
    attrs,
    h("thead", {}, h("tr", {}, headers.map((title) => h("th", { scope: "col" }, title)))),
    h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((cell) => h("td", {}, cell))))),
  );
}

/** A link inside the page: `#/commit/7`. */
export function link(route, text, attrs = {}) {
  return h("a", { href: `#/${route}`, ...attrs }, text);
}

/** A timestamp of the API ("2026-11-25T15:35:56.123456Z") as "2026-11-25 15:35:56Z". */
export function showTime(timestamp) {
  if (!timestamp) return "";
  return timestamp.replace("T", " ").replace(/\.\d+Z$/, "Z");
}

/** A paragraph telling the user what went wrong, announced to screen readers. */
export function problem(message) {
  return h("p", { class: "problem", role: "alert" }, message);
}
