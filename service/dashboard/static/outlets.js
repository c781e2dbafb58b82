// Outlets: current reliability of each outlet, as a chart and a table; selecting one opens its history.
import { mapLimit } from "./api.js";
import { gradeBadge } from "./badges.js";
import { NARROW, Tooltip, chartRoot, dataTable, onWidthChange, widthOf } from "./chart.js";
import { View, byId, cell, el, svg } from "./dom.js";
import { gradeKey, interval, pct, trackRecordText, when } from "./format.js";

const MAX_OUTLETS = 100; // outlets shown (first page of the registry)
const RELIABILITY_PER_POLL = 25; // reliabilities revalidated per refresh (round robin)
const CONCURRENCY = 4;

export class OutletsPanel {
  constructor({ names, onSelect }) {
    this.names = names;
    this.onSelect = onSelect;
    this.table = new View();
    this.chart = new View();
    this.reset();
    onWidthChange(byId("reliability-chart-wrap"), () => {
      this.chart.reset();
      this.render();
    });
  }

  reset() {
    this.outlets = [];
    this.more = false;
    this.reliability = new Map(); // slug -> ReliabilityRead
    this.cursor = 0;
    this.selected = null;
    this.table.reset();
    this.chart.reset();
    byId("outlets-table").querySelector("tbody").replaceChildren();
    byId("reliability-chart-wrap").replaceChildren();
  }

  select(slug) {
    this.selected = slug;
    this.table.reset();
    this.chart.reset();
    this.render();
  }

  // Returns the slugs whose reliability changed (their history may have a new entry).
  async refresh(api, { slugs } = {}) {
    const { data } = await api.get(`v1/outlets?limit=${MAX_OUTLETS}`);
    if (api.closed) return [];
    this.outlets = data.items;
    this.more = Boolean(data.next_cursor);
    for (const outlet of this.outlets) this.names.learn(outlet.slug, outlet.name);
    const all = this.outlets.map((outlet) => outlet.slug);
    const unseen = all.filter((slug) => !this.reliability.has(slug));
    const known = all.filter((slug) => this.reliability.has(slug));
    const due = new Set(unseen);
    if (slugs) {
      // A live message named the outlets that changed: those, and nothing else.
      for (const slug of slugs) if (all.includes(slug)) due.add(slug);
    } else {
      for (let i = 0; i < Math.min(RELIABILITY_PER_POLL, known.length); i += 1) {
        due.add(known[(this.cursor + i) % known.length]);
      }
      this.cursor = known.length ? (this.cursor + RELIABILITY_PER_POLL) % known.length : 0;
    }
    if (this.selected && all.includes(this.selected)) due.add(this.selected);
    const changed = [];
    await mapLimit([...due], CONCURRENCY, async (slug) => {
      const { data: reliability, changed: fresh } = await api.get(
        `v1/outlets/${encodeURIComponent(slug)}/reliability`,
        { conditional: true },
      );
      if (api.closed) return;
      this.reliability.set(slug, reliability);
      if (fresh) changed.push(slug);
    });
    if (api.closed) return [];
    this.render();
    return changed;
  }

  rows() {
    return this.outlets.map((outlet) => ({ outlet, reliability: this.reliability.get(outlet.slug) || null }));
  }

  render() {
    const rows = this.rows();
    this.table.draw({ rows, selected: this.selected, more: this.more }, () => this.drawTable(rows));
    const wrap = byId("reliability-chart-wrap");
    const rated = rows.filter((row) => row.reliability);
    this.chart.draw({ rated, selected: this.selected, width: widthOf(wrap) }, () => this.drawChart(wrap, rated));
  }

  drawTable(rows) {
    byId("outlets-table").querySelector("tbody").replaceChildren(
      ...rows.map(({ outlet, reliability: r }) => {
        const selected = outlet.slug === this.selected;
        const button = el(
          "button",
          {
            type: "button",
            class: "link",
            "aria-pressed": selected ? "true" : "false",
            "data-focus-key": `outlet:${outlet.slug}`,
            onclick: () => this.onSelect(outlet.slug),
          },
          outlet.name,
        );
        return el(
          "tr",
          { class: selected ? "selected" : null, "data-slug": outlet.slug },
          cell("Outlet", { class: "title-cell" }, button),
          cell("Kind", {}, outlet.kind.replaceAll("_", " ")),
          cell("Reliability", { class: "num" }, r ? pct(r.probability) : "…"),
          cell("90% interval", { class: "num" }, r ? interval(r.interval.low, r.interval.high) : "…"),
          cell("Grade", { class: "grade-cell" }, r ? gradeBadge(r.grade, r.grade_meaning) : "…"),
          cell("Track record", { class: "track-record" }, r ? trackRecordText(r) : "…"),
        );
      }),
    );
    const note = byId("outlets-note");
    note.hidden = !this.more;
    note.textContent = this.more ? `Showing the first ${MAX_OUTLETS} outlets.` : "";
  }

  drawChart(wrap, rows) {
    if (!rows.length) {
      wrap.replaceChildren(el("p", { class: "empty" }, this.outlets.length ? "Loading…" : "No outlets yet."));
      return;
    }
    const width = widthOf(wrap);
    const narrow = width < NARROW;
    // Wide: name | bar | grade on one line. Narrow: the name on a line of its own above the bar.
    const left = narrow ? 8 : Math.min(230, Math.round(width * 0.28));
    const right = 64; // room for the grade column, "unrated" the widest
    const rowHeight = narrow ? 48 : 28;
    const top = 26;
    const height = top + rows.length * rowHeight + 8;
    const x = (value) => left + value * (width - left - right);
    const tooltip = new Tooltip(wrap);
    const root = chartRoot("reliability-chart", width, height, `Reliability of ${rows.length} outlets`, "reliability-data");
    const axis = svg("g", { class: "axis", "aria-hidden": "true" }, root);
    for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
      svg("line", { class: "gridline", x1: x(tick), x2: x(tick), y1: top - 4, y2: height - 4 }, axis);
      const anchor = tick === 0 ? "start" : tick === 1 ? "end" : "middle";
      svg("text", { x: x(tick), y: top - 10, "text-anchor": anchor, text: pct(tick) }, axis);
    }
    svg("text", { x: width - 4, y: top - 10, "text-anchor": "end", text: "grade" }, axis);
    rows.forEach(({ outlet, reliability: r }, index) => {
      const y = top + index * rowHeight;
      const middle = narrow ? y + rowHeight - 14 : y + rowHeight / 2;
      const grade = gradeKey(r.grade);
      const mark = svg(
        "g",
        {
          class: `reliability-mark${r.rated ? "" : " unrated"}${outlet.slug === this.selected ? " selected" : ""}`,
          "data-slug": outlet.slug,
        },
        root,
      );
      mark.addEventListener("click", () => this.onSelect(outlet.slug));
      mark.addEventListener("keydown", (event) => {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          this.onSelect(outlet.slug);
        }
      });
      tooltip.bind(
        mark,
        `${outlet.name}: ${pct(r.probability)}, 90% interval ${interval(r.interval.low, r.interval.high)}, ` +
          `grade ${r.grade}; ${trackRecordText(r)}; as of ${when(r.as_of)}`,
      );
      svg("rect", { class: "row-hit", x: 0, y, width, height: rowHeight, rx: 3 }, mark);
      if (narrow) svg("text", { class: "mark-label", x: left, y: y + 15, text: outlet.name }, mark);
      else svg("text", { class: "mark-label", x: left - 10, y: middle + 4, "text-anchor": "end", text: outlet.name }, mark);
      svg("rect", { class: "bar", x: x(0), y: middle - 6, width: Math.max(0, x(r.probability) - x(0)), height: 12, rx: 2 }, mark);
      const low = x(r.interval.low);
      const high = x(r.interval.high);
      svg("line", { class: "whisker", x1: low, x2: high, y1: middle, y2: middle }, mark);
      svg("line", { class: "whisker", x1: low, x2: low, y1: middle - 5, y2: middle + 5 }, mark);
      svg("line", { class: "whisker", x1: high, x2: high, y1: middle - 5, y2: middle + 5 }, mark);
      svg("circle", { class: `mean-dot fill-${grade}`, cx: x(r.probability), cy: middle, r: 5.5 }, mark);
      svg("text", { class: `fill-${grade}`, x: width - 4, y: middle + 4, "text-anchor": "end", "font-weight": 700, text: r.grade }, mark);
    });
    fitLabels(root, narrow ? width - 8 : left - 14);
    const table = dataTable(
      "reliability-data",
      "Reliability of each outlet",
      ["Outlet", "Reliability", "90% interval", "Grade", "Track record"],
      rows.map(({ outlet, reliability: r }) => [outlet.name, pct(r.probability), interval(r.interval.low, r.interval.high), r.grade, trackRecordText(r)]),
    );
    wrap.replaceChildren(root, table);
    tooltip.attach(wrap);
  }
}

// A name longer than its room is shortened with an ellipsis (the full name is in the mark's
// accessible name, its tooltip and the table), measured after layout, not guessed from length.
export function fitLabels(root, room) {
  requestAnimationFrame(() => {
    for (const label of root.querySelectorAll(".mark-label")) {
      const full = label.textContent;
      let text = full;
      while (text.length > 4 && label.getComputedTextLength() > room) {
        text = text.slice(0, -2);
        label.textContent = `${text}…`;
      }
    }
  });
}
