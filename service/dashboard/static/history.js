// Reliability history of the selected outlet: each change with its cause, plotted against the
// date of the evidence behind it (a 2015-17 record imported today belongs in 2015-17).
import { gradeBadge } from "./badges.js";
import { NARROW, Tooltip, chartRoot, dataTable, onWidthChange, widthOf } from "./chart.js";
import { View, byId, el, svg } from "./dom.js";
import { CAUSE_TEXT, causeText, day, interval, pct, when } from "./format.js";

const HISTORY_LIMIT = 500; // the newest entries, read newest first: never the whole table
const HISTORY_REFRESH_MS = 60000;

const evidenceTime = (item) => item.evidence_at || item.as_of;

export class HistoryPanel {
  constructor({ names }) {
    this.names = names;
    this.view = new View();
    this.reset();
    onWidthChange(byId("history-chart-wrap"), () => {
      this.view.reset();
      this.render();
    });
  }

  reset() {
    this.slug = null;
    this.history = null;
    this.fetchedAt = 0;
    this.dirty = false;
    this.view.reset();
    byId("history-chart-wrap").replaceChildren();
    byId("history-heading").textContent = "Reliability history";
    const empty = byId("history-empty");
    empty.textContent = "Select an outlet above.";
    empty.hidden = false;
  }

  select(slug) {
    this.slug = slug;
    this.dirty = true;
    const empty = byId("history-empty");
    empty.textContent = "Loading…";
    empty.hidden = false;
  }

  markChanged(slugs) {
    if (this.slug && slugs.includes(this.slug)) this.dirty = true;
  }

  async refresh(api) {
    const slug = this.slug;
    if (!slug) return;
    const fresh = Date.now() - this.fetchedAt < HISTORY_REFRESH_MS;
    if (this.history && this.history.slug === slug && !this.dirty && fresh) return;
    const { data } = await api.get(
      `v1/outlets/${encodeURIComponent(slug)}/reliability/history?order=desc&limit=${HISTORY_LIMIT}`,
    );
    if (api.closed || slug !== this.slug) return;
    this.history = { slug, items: data.items.slice().reverse(), more: Boolean(data.next_cursor) };
    this.fetchedAt = Date.now();
    this.dirty = false;
    this.render();
  }

  render() {
    const history = this.history;
    const wrap = byId("history-chart-wrap");
    this.view.draw({ history, width: widthOf(wrap) }, () => {
      const empty = byId("history-empty");
      const name = history ? this.names.name(history.slug) : "";
      byId("history-heading").textContent = history ? `Reliability history: ${name}` : "Reliability history";
      if (!history || !history.items.length) {
        wrap.replaceChildren();
        empty.textContent = history ? "No stored reliability for this outlet yet." : "Select an outlet above.";
        empty.hidden = false;
        return;
      }
      empty.hidden = true;
      drawHistory(wrap, name, history);
    });
  }
}

function pointText(item) {
  return (
    `${day(evidenceTime(item))}: ${pct(item.probability)}, 90% interval ${interval(item.interval.low, item.interval.high)}, ` +
    `grade ${item.grade}; changed by ${causeText(item.cause, item.trigger)} (computed ${when(item.computed_at)})`
  );
}

function timeLabels(t0, t1, count) {
  const span = t1 - t0;
  return Array.from({ length: count + 1 }, (_, i) => {
    const t = t0 + (span * i) / count;
    const iso = new Date(t).toISOString();
    let label = iso.slice(0, 10);
    if (span < 600000) label = iso.slice(11, 19);
    else if (span < 2 * 86400000) label = `${iso.slice(5, 10)} ${iso.slice(11, 16)}`;
    else if (span > 3 * 365 * 86400000) label = iso.slice(0, 7);
    return { t, label };
  });
}

function drawHistory(wrap, name, history) {
  const points = history.items
    .map((item) => ({ item, t: new Date(evidenceTime(item)).getTime() }))
    .filter((point) => !Number.isNaN(point.t))
    .sort((a, b) => a.t - b.t || a.item.id - b.item.id);
  const width = widthOf(wrap);
  const narrow = width < NARROW;
  const height = narrow ? 220 : 260;
  const margin = { left: 44, right: 16, top: 16, bottom: 40 };
  // A little room either side; entries whose evidence is from one moment still spread.
  const first = points[0].t;
  const lastT = points[points.length - 1].t;
  const pad = lastT > first ? (lastT - first) * 0.04 : 86400000;
  const t0 = first - pad;
  const t1 = lastT + pad;
  const x = (t) => margin.left + ((t - t0) / (t1 - t0)) * (width - margin.left - margin.right);
  const y = (value) => margin.top + (1 - value) * (height - margin.top - margin.bottom);
  const last = points[points.length - 1].item;
  const root = chartRoot(
    "history-chart",
    width,
    height,
    `Reliability of ${name} by the date of its evidence: ${points.length} changes from ${day(evidenceTime(points[0].item))} ` +
      `to ${day(evidenceTime(last))}; latest ${pct(last.probability)} (90% interval ${interval(last.interval.low, last.interval.high)}), ` +
      `grade ${last.grade}, changed by ${causeText(last.cause, last.trigger)}`,
    "history-data",
  );
  const axis = svg("g", { class: "axis", "aria-hidden": "true" }, root);
  for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
    svg("line", { class: "gridline", x1: margin.left, x2: width - margin.right, y1: y(tick), y2: y(tick) }, axis);
    svg("text", { x: margin.left - 6, y: y(tick) + 4, "text-anchor": "end", text: pct(tick) }, axis);
  }
  const labels = timeLabels(t0, t1, narrow ? 2 : 4);
  labels.forEach(({ t, label }, i) => {
    const anchor = i === 0 ? "start" : i === labels.length - 1 ? "end" : "middle";
    svg("text", { x: x(t), y: height - 20, "text-anchor": anchor, text: label }, axis);
  });
  svg("text", { x: width - margin.right, y: height - 4, "text-anchor": "end", text: "date of the evidence (UTC)" }, axis);
  if (points.length > 1) {
    const upper = points.map((p) => `${x(p.t).toFixed(1)},${y(p.item.interval.high).toFixed(1)}`);
    const lower = points.map((p) => `${x(p.t).toFixed(1)},${y(p.item.interval.low).toFixed(1)}`).reverse();
    svg("path", { class: "band", d: `M${upper.join("L")}L${lower.join("L")}Z`, "aria-hidden": "true" }, root);
    const line = points.map((p) => `${x(p.t).toFixed(1)},${y(p.item.probability).toFixed(1)}`);
    svg("path", { class: "line", d: `M${line.join("L")}`, "aria-hidden": "true" }, root);
  } else {
    const p = points[0];
    const top = y(p.item.interval.high);
    svg("rect", { class: "band", x: x(p.t) - 6, y: top, width: 12, height: Math.max(1, y(p.item.interval.low) - top), "aria-hidden": "true" }, root);
  }
  const tooltip = new Tooltip(wrap);
  for (const p of points) {
    const cause = p.item.cause || "other";
    const dot = svg(
      "circle",
      { class: `point history-point cause-${cause}`, "data-cause": cause, cx: x(p.t), cy: y(p.item.probability), r: 5 },
      root,
    );
    tooltip.bind(dot, pointText(p.item));
  }
  const causes = [...new Set(points.map((p) => p.item.cause).filter(Boolean))];
  const legend = el(
    "ul",
    { class: "legend-list", "aria-hidden": "true" },
    ...causes.map((cause) => el("li", {}, el("span", { class: `swatch cause-${cause}` }), CAUSE_TEXT[cause] || cause)),
  );
  const recent = points.slice().reverse();
  const table = dataTable(
    "history-data",
    `Reliability history of ${name}, newest evidence first${history.more ? ` (the latest ${points.length} changes)` : ""}`,
    ["Evidence date", "Reliability", "90% interval", "Grade", "What changed", "Computed"],
    recent.map(({ item }) => [
      day(evidenceTime(item)),
      pct(item.probability),
      interval(item.interval.low, item.interval.high),
      gradeBadge(item.grade, item.grade_meaning),
      causeText(item.cause, item.trigger),
      when(item.computed_at),
    ]),
  );
  wrap.replaceChildren(root, legend, table);
  tooltip.attach(wrap);
}
