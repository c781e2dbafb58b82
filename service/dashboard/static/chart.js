// What every chart shares: drawing at the width it is shown (so 12 px text stays 12 px on a
// phone), a tooltip that hover and keyboard focus both open, and a text alternative.
import { el, svg } from "./dom.js";

export const MIN_WIDTH = 280;
export const NARROW = 560; // below this, labels go above their marks instead of beside them

// Rounded down: drawn one pixel narrow at most, never scaled below its 1:1 size.
export function widthOf(wrap) {
  return Math.max(MIN_WIDTH, Math.floor(wrap.getBoundingClientRect().width) || 640);
}

// Calls redraw() when the wrap's width changes (rotation, resize), not on every pixel of height.
export function onWidthChange(wrap, redraw) {
  let width = widthOf(wrap);
  const observer = new ResizeObserver(() => {
    if (widthOf(wrap) === width) return;
    width = widthOf(wrap);
    redraw();
  });
  observer.observe(wrap);
  return observer;
}

export function niceScale(lo, hi, count) {
  if (!(hi > lo)) {
    const pad = Math.abs(lo) * 0.1 || 1;
    lo -= pad;
    hi += pad;
  }
  const raw = (hi - lo) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / magnitude;
  const step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * magnitude;
  const start = Math.floor(lo / step) * step;
  const end = Math.ceil(hi / step) * step;
  const ticks = [];
  for (let v = start; v <= end + step / 2; v += step) ticks.push(Number(v.toPrecision(12)));
  return { lo: start, hi: end, ticks };
}

// A label anchored so that it stays inside [left, right] however long it is.
export function anchorFor(x, left, right, room = 60) {
  if (x - left < room) return "start";
  if (right - x < room) return "end";
  return "middle";
}

// An <svg> a screen reader announces by its title and reads in full from the description
// (a visually hidden table next to it); its marks are reachable with the keyboard.
export function chartRoot(id, width, height, title, describedBy) {
  const root = svg("svg", {
    id,
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: "group",
    "aria-labelledby": `${id}-title`,
    "aria-describedby": describedBy || null,
  });
  svg("title", { id: `${id}-title`, text: title }, root);
  return root;
}

// One tooltip per chart: the exact value, interval and date of the mark under the pointer or
// the keyboard focus (the same text is the mark's accessible name).
export class Tooltip {
  constructor(wrap) {
    this.wrap = wrap;
    this.node = el("div", { class: "chart-tip", role: "tooltip", hidden: true });
  }

  attach(container) {
    container.append(this.node);
  }

  bind(mark, text) {
    mark.setAttribute("tabindex", "0");
    mark.setAttribute("role", "img");
    mark.setAttribute("aria-label", text);
    const show = () => this.show(mark, text);
    const hide = () => this.hide();
    mark.addEventListener("pointerenter", show);
    mark.addEventListener("focus", show);
    mark.addEventListener("pointerleave", hide);
    mark.addEventListener("blur", hide);
  }

  show(mark, text) {
    const tip = this.node;
    tip.textContent = text;
    tip.hidden = false;
    const box = this.wrap.getBoundingClientRect();
    const at = mark.getBoundingClientRect();
    const width = tip.offsetWidth;
    // CSSOM positions are allowed by the style-src 'self' policy (no inline style attribute).
    const left = Math.min(Math.max(0, at.left - box.left + at.width / 2 - width / 2), Math.max(0, box.width - width));
    tip.style.left = `${left}px`;
    tip.style.top = `${at.bottom - box.top + 6}px`;
  }

  hide() {
    this.node.hidden = true;
  }
}

// The chart's data as a table, hidden from view but read by screen readers (and by anyone who
// opens it: "Show the figures").
export function dataTable(id, caption, columns, rows) {
  return el(
    "details",
    { class: "data-table" },
    el("summary", {}, "Show the figures"),
    el(
      "div",
      { class: "table-wrap" },
      el(
        "table",
        { id, class: "cards" },
        el("caption", {}, caption),
        el("thead", {}, el("tr", {}, ...columns.map((column) => el("th", { scope: "col" }, column)))),
        el(
          "tbody",
          {},
          ...rows.map((row) => el("tr", {}, ...row.map((value, index) => el("td", { "data-label": columns[index] }, value)))),
        ),
      ),
    ),
  );
}
