// DOM helpers. Every string from the API reaches the page through textContent / text nodes or a
// non-executable attribute (title, aria-label, data-*); nothing is parsed as HTML.

const SVG_NS = "http://www.w3.org/2000/svg";

export const byId = (id) => document.getElementById(id);

export function setAttrs(node, attrs) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "text") node.textContent = String(value);
    else if (name === "onclick") node.addEventListener("click", value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
}

export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  setAttrs(node, attrs);
  for (const child of children) {
    if (child !== null && child !== undefined && child !== false) node.append(child); // strings become text
  }
  return node;
}

// replaceChildren() would turn a skipped (null) child into the text "null".
export function fill(node, ...children) {
  node.replaceChildren(...children.filter((child) => child !== null && child !== undefined && child !== false));
}

export function svg(tag, attrs, parent) {
  const node = document.createElementNS(SVG_NS, tag);
  setAttrs(node, attrs);
  if (parent) parent.append(node);
  return node;
}

// A table cell that carries its column name, which the phone layout shows beside the value.
export function cell(label, attrs, ...children) {
  return el("td", { ...attrs, "data-label": label }, ...children);
}

// Redraws a view only when its data changed, keeping keyboard focus on the same control.
export class View {
  constructor() {
    this.signature = null;
  }

  reset() {
    this.signature = null;
  }

  draw(data, render) {
    const signature = JSON.stringify(data);
    if (this.signature === signature) return;
    this.signature = signature;
    const active = document.activeElement;
    const focusKey = active && active.dataset ? active.dataset.focusKey : undefined;
    render();
    if (focusKey && document.activeElement !== active) {
      for (const node of document.querySelectorAll("[data-focus-key]")) {
        if (node.dataset.focusKey === focusKey) {
          node.focus();
          break;
        }
      }
    }
  }
}
