// Consensus of the selected event: each claim with its text, its outlet's name, its Admiralty
// code and how much it counted; a contested event shows its competing figures, not one estimate.
import { staleBadge, statusBadge } from "./badges.js";
import { Tooltip, anchorFor, chartRoot, niceScale, onWidthChange, widthOf } from "./chart.js";
import { View, byId, cell, el, fill, svg } from "./dom.js";
import { num, pct, plural, when } from "./format.js";

export class ConsensusPanel {
  constructor({ names, outletsOf }) {
    this.names = names;
    this.outletsOf = outletsOf; // () => the outlets the outlets panel knows (for parties)
    this.view = new View();
    this.reset();
    onWidthChange(byId("consensus-chart-wrap"), () => {
      this.view.reset();
      this.render();
    });
  }

  reset() {
    this.selected = null;
    this.consensus = null;
    this.detail = null;
    this.view.reset();
    byId("consensus-chart-wrap").replaceChildren();
    byId("sources-table").querySelector("tbody").replaceChildren();
    byId("consensus-claims-table").querySelector("tbody").replaceChildren();
    const empty = byId("consensus-empty");
    empty.textContent = "Select an event.";
    empty.hidden = false;
    byId("consensus-detail").hidden = true;
  }

  select(id) {
    this.selected = id;
    this.consensus = null;
    this.detail = null;
    const empty = byId("consensus-empty");
    empty.textContent = "Loading…";
    empty.hidden = false;
    byId("consensus-detail").hidden = true;
  }

  async refresh(api) {
    const id = this.selected;
    if (!id) return;
    const { data, changed } = await api.get(`v1/events/${id}/consensus`, { conditional: true });
    if (api.closed || id !== this.selected) return;
    let detail = this.detail;
    if (changed || !detail || detail.id !== id) {
      detail = (await api.get(`v1/events/${id}`)).data;
      if (api.closed || id !== this.selected) return;
    }
    for (const source of data.sources) this.names.learn(source.outlet_slug, source.outlet_name);
    const slugs = [
      ...data.claims.map((claim) => claim.outlet_slug),
      ...data.claims.map((claim) => claim.depends_on),
      ...(data.competing_figures || []).flatMap((figure) => figure.outlet_slugs),
      ...(data.supporting_outlets || []),
      ...(detail.claims || []).map((claim) => claim.outlet_slug),
    ].filter(Boolean);
    await this.names.resolve(api, slugs);
    if (api.closed || id !== this.selected) return;
    this.consensus = data;
    this.detail = detail;
    this.render();
  }

  render() {
    const { consensus, detail } = this;
    if (!consensus) return;
    const wrap = byId("consensus-chart-wrap");
    this.view.draw({ consensus, detail, width: widthOf(wrap), names: [...this.names.names] }, () => {
      byId("consensus-empty").hidden = true;
      byId("consensus-detail").hidden = false;
      const unit = detail && detail.unit ? ` ${detail.unit}` : "";
      byId("consensus-title").textContent = detail ? detail.title : `Event ${consensus.event_id}`;
      fill(
        byId("consensus-status"),
        statusBadge(consensus.status),
        " ",
        el("span", { class: "status-meaning" }, consensus.status_meaning),
        consensus.stale ? staleBadge("recomputing", "A recomputation is queued.") : null,
      );
      this.drawFacts(consensus, unit);
      const explanation = consensus.explanation;
      byId("consensus-explanation").textContent = explanation ? this.names.replaceIn(explanation.summary) : "";
      const rows = this.rows();
      drawChart(wrap, consensus, rows, unit, this.names);
      this.drawClaims(rows, unit);
      this.drawSources(consensus);
    });
  }

  competing(figure, unit) {
    return `${num(figure.estimate)}${unit}: ${figure.outlet_slugs.map((slug) => this.names.name(slug)).join(", ")} (support ${pct(figure.support)})`;
  }

  drawFacts(consensus, unit) {
    const contested = consensus.status === "contested";
    const names = (slugs) => slugs.map((slug) => this.names.name(slug)).join(", ") || "–";
    const range = consensus.interval ? `${num(consensus.interval.low)}–${num(consensus.interval.high)}${unit}` : "–";
    const facts = contested
      ? [
          [
            "Competing figures",
            el("ul", { class: "competing-list" }, ...consensus.competing_figures.map((figure) => el("li", {}, this.competing(figure, unit)))),
          ],
          ["Span of the figures", range],
          ["Leading figure's support", pct(consensus.confidence)],
          ["Independent sources", String(consensus.independent_reports)],
        ]
      : [
          ["Estimate", consensus.estimate === null ? "–" : `${num(consensus.estimate)}${unit}`],
          ["Credible range", range],
          ["Confidence", pct(consensus.confidence)],
          ["Independent sources", String(consensus.independent_reports)],
          ["Supported by", names(consensus.supporting_outlets || [])],
        ];
    facts.push(["Computed", when(consensus.computed_at)]);
    byId("consensus-facts").replaceChildren(...facts.flatMap(([term, value]) => [el("dt", {}, term), el("dd", {}, value)]));
  }

  // The reconciled claims, or (before the first computation) the raw figures that came in.
  rows() {
    const { consensus, detail } = this;
    const claims = new Map(((detail && detail.claims) || []).map((claim) => [claim.id, claim]));
    if (consensus.claims.length) {
      return consensus.claims.map((row) => ({ ...row, claim: claims.get(row.claim_id) || null, reconciled: true }));
    }
    const conflict = detail && detail.conflict;
    const parties = new Set(
      this.outletsOf()
        .filter((outlet) => conflict && outlet.conflict_parties.includes(conflict))
        .map((outlet) => outlet.slug),
    );
    return [...claims.values()]
      .filter((claim) => claim.figure)
      .map((claim) => ({
        claim_id: claim.id,
        outlet_slug: claim.outlet_slug,
        value: claim.figure.value,
        low: claim.figure.low,
        high: claim.figure.high,
        party: parties.has(claim.outlet_slug),
        claim,
        reconciled: false,
      }));
  }

  // How the claim counted, in words: superseded, a copy, likely copying, party to the conflict.
  counted(row) {
    if (!row.reconciled) return ["not yet reconciled"];
    const said = [];
    if (row.superseded) said.push("superseded by a later figure from the same outlet: not counted");
    if (row.copy_group && row.copy_group.startsWith("copy:")) said.push(`a copy of claim ${row.copy_group.slice(5)}: shares one vote with it`);
    else if (row.copy_group && row.copy_group.startsWith("owner:")) said.push(`same owner (${row.copy_group.slice(6)}) as other outlets here: they share one vote`);
    if (row.depends_on && row.own_share < 1) {
      said.push(`discounted copy: counted ${pct(row.own_share)}, likely copies ${this.names.name(row.depends_on)}`);
    }
    if (row.party) said.push("party to the conflict");
    for (const reason of row.discounts || []) {
      const text = this.names.replaceIn(reason);
      if (!said.some((item) => item.toLowerCase().includes(text.toLowerCase().slice(0, 12)))) said.push(text);
    }
    return said.length ? said : ["independent: a full vote"];
  }

  drawClaims(rows, unit) {
    byId("consensus-claims-table").querySelector("tbody").replaceChildren(
      ...rows.map((row) => {
        const classes = [row.superseded ? "superseded" : null, row.reconciled && (row.own_share < 1 || row.copy_group) ? "discounted" : null]
          .filter(Boolean)
          .join(" ");
        const admiralty = row.admiralty;
        return el(
          "tr",
          { class: classes || null, "data-claim-id": row.claim_id, "data-outlet-slug": row.outlet_slug },
          cell("Outlet", { class: "title-cell" }, this.names.name(row.outlet_slug)),
          cell(
            "Claim",
            { class: "claim-text" },
            row.claim ? row.claim.text : `Claim ${row.claim_id}`,
            row.claim ? el("div", { class: "note" }, `published ${when(row.claim.published_at)}`) : null,
          ),
          cell("Figure", { class: "num" }, `${figureText(row)}${unit}`),
          cell(
            "Admiralty",
            {},
            admiralty ? el("span", { class: "admiralty", title: admiralty.meaning }, admiralty.code) : "–",
            admiralty ? el("div", { class: "note" }, admiralty.meaning) : null,
          ),
          cell("How it counted", { class: "counted" }, el("ul", {}, ...this.counted(row).map((text) => el("li", {}, text)))),
        );
      }),
    );
  }

  drawSources(consensus) {
    const body = byId("sources-table").querySelector("tbody");
    if (!consensus.sources.length) {
      body.replaceChildren(el("tr", {}, el("td", { colspan: 3, class: "empty" }, "No weights until the consensus is computed.")));
      return;
    }
    const max = Math.max(...consensus.sources.map((source) => source.weight), 1e-9);
    body.replaceChildren(
      ...consensus.sources.map((source) =>
        el(
          "tr",
          { "data-outlet-slug": source.outlet_slug },
          cell("Outlet", { class: "title-cell" }, source.outlet_name),
          cell("Weight", {}, el("span", { class: "weight-cell" }, weightBar(source.weight / max, source.party), num(source.weight))),
          cell("Party to the conflict", {}, source.party ? el("span", { class: "badge party" }, "party") : "no"),
        ),
      ),
    );
  }
}

export function figureText(row) {
  if (typeof row.low === "number" && typeof row.high === "number") {
    const value = typeof row.value === "number" ? `${num(row.value)} ` : "";
    return `${value}(${num(row.low)}–${num(row.high)})`;
  }
  return num(row.value);
}

function weightBar(share, party) {
  const root = svg("svg", { class: "weight-svg", width: 80, height: 10, viewBox: "0 0 80 10", "aria-hidden": "true" });
  svg("rect", { class: "weight-track", x: 0, y: 0, width: 80, height: 10, rx: 2 }, root);
  svg("rect", { class: `weight-bar${party ? " party" : ""}`, x: 0, y: 0, width: Math.max(1, 80 * share), height: 10, rx: 2 }, root);
  return root;
}

// One line per claim with its outlet's name above it (never cut off), the consensus band or the
// competing figures behind them.
function drawChart(wrap, consensus, rows, unit, names) {
  if (!rows.length) {
    wrap.replaceChildren(el("p", { class: "empty" }, "No figures reported for this event yet."));
    return;
  }
  const values = [];
  for (const row of rows) for (const v of [row.value, row.low, row.high]) if (typeof v === "number") values.push(v);
  if (typeof consensus.estimate === "number") values.push(consensus.estimate);
  if (consensus.interval) values.push(consensus.interval.low, consensus.interval.high);
  const competing = consensus.status === "contested" ? consensus.competing_figures || [] : [];
  const scale = niceScale(Math.min(...values), Math.max(...values), 4);
  const width = widthOf(wrap);
  const rowHeight = 40;
  const left = 12;
  const right = 12;
  const top = competing.length > 1 ? 48 : 32;
  const bottom = 30;
  const plotBottom = top + rows.length * rowHeight;
  const height = plotBottom + bottom;
  const x = (v) => left + ((v - scale.lo) / (scale.hi - scale.lo)) * (width - left - right);
  const summary = competing.length
    ? `competing figures ${competing.map((figure) => `${num(figure.estimate)}${unit}`).join(" and ")}`
    : consensus.estimate === null
      ? `no consensus estimate (${consensus.status})`
      : `consensus estimate ${num(consensus.estimate)}${unit}` +
        (consensus.interval ? `, credible range ${num(consensus.interval.low)}–${num(consensus.interval.high)}` : "");
  const root = chartRoot("consensus-chart", width, height, `Figures from ${plural(rows.length, "claim")} against the ${summary}`, "consensus-claims-table");
  const axis = svg("g", { class: "axis", "aria-hidden": "true" }, root);
  scale.ticks.forEach((tick, index) => {
    svg("line", { class: "gridline", x1: x(tick), x2: x(tick), y1: top - 4, y2: plotBottom + 4 }, axis);
    const anchor = index === 0 ? "start" : index === scale.ticks.length - 1 ? "end" : "middle";
    svg("text", { x: x(tick), y: plotBottom + 20, "text-anchor": anchor, text: num(tick) }, axis);
  });
  const tooltip = new Tooltip(wrap);
  competing.forEach((figure, index) => {
    const low = figure.low ?? figure.estimate;
    const high = figure.high ?? figure.estimate;
    const band = svg(
      "rect",
      { class: "band competing-band", x: x(low) - 3, y: top - 4, width: Math.max(6, x(high) - x(low) + 6), height: rows.length * rowHeight + 8 },
      root,
    );
    const text = `Competing figure ${num(figure.estimate)}${unit}, range ${num(low)}–${num(high)}: ${figure.outlet_slugs
      .map((slug) => names.name(slug))
      .join(", ")}, support ${pct(figure.support)}`;
    tooltip.bind(band, text);
    const cx = x(figure.estimate);
    svg(
      "text",
      { class: "figure-label", x: cx, y: top - 10 - (index % 2) * 16, "text-anchor": anchorFor(cx, left, width - right), "font-weight": 600, text: `${num(figure.estimate)} (${pct(figure.support)})` },
      root,
    );
  });
  if (consensus.interval && !competing.length) {
    svg(
      "rect",
      {
        class: "band consensus-band",
        x: x(consensus.interval.low),
        y: top - 4,
        width: Math.max(2, x(consensus.interval.high) - x(consensus.interval.low)),
        height: rows.length * rowHeight + 8,
        "aria-hidden": "true",
      },
      root,
    );
  }
  if (typeof consensus.estimate === "number") {
    const cx = x(consensus.estimate);
    const line = svg("line", { class: "estimate", x1: cx, x2: cx, y1: top - 8, y2: plotBottom + 4 }, root);
    const range = consensus.interval ? `, credible range ${num(consensus.interval.low)}–${num(consensus.interval.high)}${unit}` : "";
    tooltip.bind(line, `Estimate ${num(consensus.estimate)}${unit}${range}, confidence ${pct(consensus.confidence)}`);
    svg(
      "text",
      { class: "figure-label", x: cx, y: top - 12, "text-anchor": anchorFor(cx, left, width - right, 70), "font-weight": 600, text: `estimate ${num(consensus.estimate)}` },
      root,
    );
  }
  rows.forEach((row, index) => {
    const y = top + index * rowHeight;
    const middle = y + rowHeight - 12;
    const superseded = row.superseded ? " superseded" : "";
    const group = svg("g", { class: `claim-row${superseded}`, "data-claim-id": row.claim_id }, root);
    const name = names.name(row.outlet_slug);
    const tags = [row.superseded ? "superseded" : null, row.reconciled && row.own_share < 1 ? `counted ${pct(row.own_share)}` : null, row.party ? "party" : null]
      .filter(Boolean)
      .join(", ");
    svg("text", { class: "row-label", x: left, y: y + 14, text: `${name}: ${figureText(row)}${tags ? ` (${tags})` : ""}` }, group);
    if (typeof row.low === "number" && typeof row.high === "number") {
      svg("line", { class: "claim-range", x1: x(row.low), x2: x(row.high), y1: middle, y2: middle }, group);
    }
    const centre = typeof row.value === "number" ? row.value : ((row.low ?? 0) + (row.high ?? 0)) / 2;
    const cx = x(centre);
    const dot = row.party
      ? svg("path", { class: `claim-dot party${superseded}`, d: `M${cx},${middle - 7}L${cx + 7},${middle}L${cx},${middle + 7}L${cx - 7},${middle}Z` }, group)
      : svg("circle", { class: `claim-dot${superseded}`, cx, cy: middle, r: 6 }, group);
    const published = row.claim ? `, published ${when(row.claim.published_at)}` : "";
    const admiralty = row.admiralty ? `; Admiralty ${row.admiralty.code} (${row.admiralty.meaning})` : "";
    const extra = row.reconciled ? `; agreement ${pct(row.agreement)}, weight ${num(row.weight)}${admiralty}` : "; not yet reconciled";
    tooltip.bind(dot, `${name}${row.party ? " (party to the conflict)" : ""}: ${figureText(row)}${unit}${published}${extra}${superseded ? "; superseded" : ""}`);
  });
  wrap.replaceChildren(root);
  tooltip.attach(wrap);
}
