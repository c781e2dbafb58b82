// credscore dashboard: reads the /v1 API with the user's key and draws plain SVG charts.
// Every string from the API reaches the page through textContent / text nodes or a
// non-executable attribute (title, aria-label, data-*); nothing is parsed as HTML.
"use strict";

(() => {
  const POLL_MS = 15000;
  const KEY_STORAGE = "credscore.apiKey";
  const MAX_OUTLETS = 100; // outlets shown (first page of the registry)
  const RELIABILITY_PER_POLL = 25; // reliabilities revalidated per poll (round robin)
  const EVENTS_SHOWN = 25;
  const CLAIMS_SHOWN = 10;
  const MAX_PAGES_PER_POLL = 20;
  const HISTORY_REFRESH_MS = 60000;
  const CONCURRENCY = 4;
  const SVG_NS = "http://www.w3.org/2000/svg";
  // The API lives next to the dashboard: /dashboard -> /, /prefix/dashboard -> /prefix/.
  const API_ROOT = new URL(".", window.location.href);

  const state = {
    key: null,
    generation: 0, // bumped on connect/forget: late answers from an old key are dropped
    timer: null,
    inFlight: false,
    stopped: true,
    etags: new Map(), // url -> {etag, data}
    outlets: [],
    outletsMore: false,
    reliability: new Map(), // slug -> ReliabilityRead
    relCursor: 0,
    events: [],
    claims: [],
    selectedOutlet: null,
    history: null,
    historyFetchedAt: 0,
    historyDirty: false,
    selectedEvent: null,
    consensus: null,
    eventDetail: null,
    rendered: new Map(), // view -> signature of the data last drawn
    counts: { fetched: 0, unchanged: 0 },
  };

  const $ = (id) => document.getElementById(id);

  // ---------------------------------------------------------------- DOM helpers

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    setAttrs(node, attrs);
    for (const child of children) {
      if (child !== null && child !== undefined) node.append(child); // strings become text
    }
    return node;
  }

  // replaceChildren() would turn a skipped (null) child into the text "null".
  function fill(node, ...children) {
    node.replaceChildren(...children.filter((child) => child !== null && child !== undefined && child !== false));
  }

  function svg(tag, attrs, parent) {
    const node = document.createElementNS(SVG_NS, tag);
    setAttrs(node, attrs);
    if (parent) parent.append(node);
    return node;
  }

  function setAttrs(node, attrs) {
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "text") node.textContent = String(value);
      else if (name === "onclick") node.addEventListener("click", value);
      else node.setAttribute(name, value === true ? "" : String(value));
    }
  }

  function svgTitle(parent, text) {
    svg("title", { text }, parent);
  }

  // Redraw a view only when its data changed, keeping keyboard focus on the same control.
  function redraw(view, data, draw) {
    const signature = JSON.stringify(data);
    if (state.rendered.get(view) === signature) return;
    state.rendered.set(view, signature);
    const active = document.activeElement;
    const focusKey = active && active.dataset ? active.dataset.focusKey : undefined;
    draw();
    if (focusKey && document.activeElement !== active) {
      for (const node of document.querySelectorAll("[data-focus-key]")) {
        if (node.dataset.focusKey === focusKey) {
          node.focus();
          break;
        }
      }
    }
  }

  // ---------------------------------------------------------------- formatting

  const numberFormat = new Intl.NumberFormat("en", { maximumFractionDigits: 2 });
  const pct = (x) => (x === null || x === undefined ? "–" : `${Math.round(x * 100)}%`);
  const num = (x) => (x === null || x === undefined ? "–" : numberFormat.format(x));

  function when(iso) {
    if (!iso) return "–";
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return String(iso);
    return `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
  }

  function truncate(text, length) {
    const value = String(text ?? "");
    return value.length > length ? `${value.slice(0, length - 1)}…` : value;
  }

  const GRADES = new Set(["A", "B", "C", "D", "E"]);
  const gradeKey = (grade) => (GRADES.has(grade) ? grade : "unrated");

  function gradeBadge(grade, meaning) {
    return el("span", { class: `grade grade-${gradeKey(grade)}`, title: meaning || null }, String(grade ?? "–"));
  }

  const STATUS_LABEL = {
    consensus: "Consensus",
    contested: "Contested",
    uncertain: "Uncertain",
    insufficient: "Insufficient",
    no_reports: "No reports",
    pending: "Pending",
  };

  function statusBadge(status) {
    const known = Object.hasOwn(STATUS_LABEL, status) ? status : "unknown";
    return el("span", { class: `badge status-${known}` }, STATUS_LABEL[known] || String(status));
  }

  function eventStatus(event) {
    // An event that had no reports and now has a computation queued is pending its first figures.
    const status = event.consensus_status;
    if (event.consensus_stale && (!status || status === "no_reports")) return "pending";
    return status || "no_reports";
  }

  // "12 (wire-a, 45%) · 300 (wire-b, 44%)": a contested event's figures, not one estimate.
  function competingText(consensus, unit) {
    return consensus.competing_figures
      .map((figure) => `${num(figure.estimate)}${unit} (${figure.outlet_slugs.join(", ")}, ${pct(figure.support)})`)
      .join(" · ");
  }

  // ---------------------------------------------------------------- API access

  class ApiError extends Error {
    constructor(status, title, detail, extra) {
      super(detail);
      this.status = status;
      this.title = title;
      this.detail = detail;
      this.retryAfter = extra && extra.retryAfter;
      this.requestId = extra && extra.requestId;
    }
  }

  async function api(path, options) {
    const conditional = Boolean(options && options.conditional);
    const url = new URL(path, API_ROOT).toString();
    const headers = { Authorization: `Bearer ${state.key}`, Accept: "application/json" };
    const cached = conditional ? state.etags.get(url) : undefined;
    if (cached) headers["If-None-Match"] = cached.etag;
    let response;
    try {
      // no-store: this script does the revalidation itself and must see the 304s.
      response = await fetch(url, { headers, cache: "no-store", credentials: "omit" });
    } catch (error) {
      throw new ApiError(0, "Network error", `The service could not be reached (${error.message}).`);
    }
    if (response.status === 304 && cached) {
      state.counts.unchanged += 1;
      return { data: cached.data, changed: false };
    }
    if (!response.ok) throw await problemFrom(response);
    const data = await response.json();
    state.counts.fetched += 1;
    const etag = response.headers.get("ETag");
    if (conditional && etag) state.etags.set(url, { etag, data });
    return { data, changed: true };
  }

  async function problemFrom(response) {
    let problem = {};
    const type = response.headers.get("Content-Type") || "";
    if (type.includes("json")) {
      try {
        problem = await response.json();
      } catch (_error) {
        problem = {};
      }
    }
    const detail = typeof problem.detail === "string" ? problem.detail : response.statusText || "Request failed.";
    const title = typeof problem.title === "string" ? problem.title : response.statusText || "Error";
    return new ApiError(response.status, title, detail, {
      retryAfter: Number(response.headers.get("Retry-After")) || null,
      requestId: typeof problem.request_id === "string" ? problem.request_id : response.headers.get("X-Request-ID"),
    });
  }

  async function mapLimit(items, limit, task) {
    let next = 0;
    async function worker() {
      while (next < items.length) {
        const item = items[next];
        next += 1;
        await task(item);
      }
    }
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  }

  // The newest items of a list in one request (order=desc), revalidated with the list's ETag:
  // an unchanged list costs a 304 and no body.
  async function latest(path, keep, gen) {
    const { data } = await api(`${path}?order=desc&limit=${keep}`, { conditional: true });
    if (gen !== state.generation) return [];
    return data.items;
  }

  // ---------------------------------------------------------------- polling

  async function poll() {
    if (!state.key || state.inFlight || state.stopped) return;
    state.inFlight = true;
    const gen = state.generation;
    clearTimeout(state.timer);
    state.counts = { fetched: 0, unchanged: 0 };
    let delay = POLL_MS;
    try {
      await refreshOutlets(gen);
      await Promise.all([refreshEvents(gen), refreshClaims(gen), refreshSelectedOutlet(gen), refreshSelectedEvent(gen)]);
      if (gen !== state.generation) return;
      clearError();
      const time = new Date().toISOString().slice(11, 19);
      $("last-updated").textContent =
        `Updated ${time} UTC: ${state.counts.fetched} fetched, ${state.counts.unchanged} unchanged (304).`;
    } catch (error) {
      if (gen !== state.generation) return;
      showError(error);
      if (error.status === 401 || error.status === 403) {
        stop(error.status === 401 ? "Stopped: the API key was refused." : "Stopped: the key may not read.");
        if (error.status === 401) sessionStorage.removeItem(KEY_STORAGE);
        return;
      }
      if (error.status === 429 && error.retryAfter) delay = Math.max(POLL_MS, error.retryAfter * 1000);
    } finally {
      if (gen === state.generation) state.inFlight = false;
    }
    if (gen === state.generation) schedule(delay);
  }

  function schedule(delay) {
    clearTimeout(state.timer);
    state.timer = null;
    if (state.stopped || !state.key) return;
    if (document.visibilityState === "hidden") {
      setStatus("Paused while this tab is hidden.");
      return;
    }
    setStatus(`Connected; refreshing every ${Math.round(delay / 1000)} s.`);
    state.timer = setTimeout(poll, delay);
  }

  function onVisibilityChange() {
    if (state.stopped || !state.key) return;
    if (document.visibilityState === "hidden") {
      clearTimeout(state.timer);
      state.timer = null;
      setStatus("Paused while this tab is hidden.");
    } else {
      poll();
    }
  }

  function setStatus(text) {
    const node = $("poll-status");
    if (node.textContent !== text) node.textContent = text;
  }

  function stop(text) {
    state.stopped = true;
    state.inFlight = false;
    clearTimeout(state.timer);
    state.timer = null;
    $("refresh").disabled = true;
    setStatus(text);
  }

  // ---------------------------------------------------------------- loading

  async function refreshOutlets(gen) {
    const { data } = await api(`v1/outlets?limit=${MAX_OUTLETS}`);
    if (gen !== state.generation) return;
    state.outlets = data.items;
    state.outletsMore = Boolean(data.next_cursor);
    const slugs = state.outlets.map((outlet) => outlet.slug);
    const unseen = slugs.filter((slug) => !state.reliability.has(slug));
    const known = slugs.filter((slug) => state.reliability.has(slug));
    const due = [];
    for (let i = 0; i < Math.min(RELIABILITY_PER_POLL, known.length); i += 1) {
      due.push(known[(state.relCursor + i) % known.length]);
    }
    state.relCursor = known.length ? (state.relCursor + due.length) % known.length : 0;
    if (state.selectedOutlet && known.includes(state.selectedOutlet) && !due.includes(state.selectedOutlet)) {
      due.push(state.selectedOutlet);
    }
    await mapLimit([...unseen, ...due], CONCURRENCY, async (slug) => {
      const { data: reliability, changed } = await api(
        `v1/outlets/${encodeURIComponent(slug)}/reliability`,
        { conditional: true },
      );
      if (gen !== state.generation) return;
      state.reliability.set(slug, reliability);
      if (changed && slug === state.selectedOutlet) state.historyDirty = true;
    });
    if (gen !== state.generation) return;
    renderOutlets();
  }

  async function refreshEvents(gen) {
    const events = await latest("v1/events", EVENTS_SHOWN, gen);
    if (gen !== state.generation) return;
    state.events = events;
    renderEvents();
  }

  async function refreshClaims(gen) {
    const claims = await latest("v1/claims", CLAIMS_SHOWN, gen);
    if (gen !== state.generation) return;
    state.claims = claims;
    renderClaims();
  }

  async function refreshSelectedOutlet(gen) {
    const slug = state.selectedOutlet;
    if (!slug) return;
    const fresh = Date.now() - state.historyFetchedAt < HISTORY_REFRESH_MS;
    if (state.history && state.history.slug === slug && !state.historyDirty && fresh) return;
    const items = [];
    let cursor = null;
    for (let pages = 0; pages < MAX_PAGES_PER_POLL; pages += 1) {
      const query = `v1/outlets/${encodeURIComponent(slug)}/reliability/history?limit=500${
        cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""
      }`;
      const { data } = await api(query);
      if (gen !== state.generation || slug !== state.selectedOutlet) return;
      items.push(...data.items);
      cursor = data.next_cursor;
      if (!cursor) break;
    }
    state.history = { slug, items };
    state.historyFetchedAt = Date.now();
    state.historyDirty = false;
    renderHistory();
  }

  async function refreshSelectedEvent(gen) {
    const id = state.selectedEvent;
    if (!id) return;
    const { data, changed } = await api(`v1/events/${id}/consensus`, { conditional: true });
    if (gen !== state.generation || id !== state.selectedEvent) return;
    state.consensus = data;
    if (changed || !state.eventDetail || state.eventDetail.id !== id) {
      const detail = await api(`v1/events/${id}`);
      if (gen !== state.generation || id !== state.selectedEvent) return;
      state.eventDetail = detail.data;
    }
    renderConsensus();
  }

  // A click loads the selection at once (outside the poll), reporting errors as a poll would.
  async function loadNow(task) {
    const gen = state.generation;
    try {
      await task(gen);
    } catch (error) {
      if (gen === state.generation) showError(error);
    }
  }

  function selectOutlet(slug) {
    state.selectedOutlet = slug;
    state.historyDirty = true;
    state.rendered.delete("outlets");
    renderOutlets();
    $("history-empty").textContent = "Loading…";
    $("history-empty").hidden = false;
    loadNow(refreshSelectedOutlet);
  }

  function selectEvent(id) {
    state.selectedEvent = id;
    state.consensus = null;
    state.eventDetail = null;
    state.rendered.delete("events");
    renderEvents();
    $("consensus-empty").textContent = "Loading…";
    $("consensus-empty").hidden = false;
    $("consensus-detail").hidden = true;
    loadNow(refreshSelectedEvent);
  }

  // ---------------------------------------------------------------- errors

  const HINTS = {
    0: "Check the connection; retrying in 15 s.",
    401: "Check the API key and connect again.",
    403: "This key lacks the read scope; use a key with read.",
    429: "Too many requests for this key; waiting before the next refresh.",
  };

  function showError(error) {
    const box = $("error");
    const status = error instanceof ApiError ? error.status : 0;
    const title = error instanceof ApiError ? error.title : "Unexpected error";
    const detail = error instanceof ApiError ? error.detail : String(error && error.message);
    const hint = HINTS[status] || (status >= 500 ? "The service had a problem; retrying in 15 s." : "");
    const heading = status ? `${status} ${title}` : title;
    fill(
      box,
      el("strong", {}, heading),
      el("span", { class: "detail" }, detail),
      hint ? el("span", {}, ` ${hint}`) : null,
      error && error.requestId ? el("span", { class: "request-id" }, ` (request ${error.requestId})`) : null,
    );
    box.hidden = false;
  }

  function clearError() {
    const box = $("error");
    box.hidden = true;
    box.replaceChildren();
  }

  // ---------------------------------------------------------------- views: outlets

  function renderOutlets() {
    const rows = state.outlets.map((outlet) => ({ outlet, reliability: state.reliability.get(outlet.slug) || null }));
    redraw("outlets", { rows, selected: state.selectedOutlet, more: state.outletsMore }, () => {
      const body = $("outlets-table").querySelector("tbody");
      body.replaceChildren(
        ...rows.map(({ outlet, reliability }) => {
          const selected = outlet.slug === state.selectedOutlet;
          const button = el(
            "button",
            {
              type: "button",
              class: "link",
              "aria-pressed": selected ? "true" : "false",
              "data-focus-key": `outlet:${outlet.slug}`,
              onclick: () => selectOutlet(outlet.slug),
            },
            outlet.name,
          );
          const r = reliability;
          return el(
            "tr",
            { class: selected ? "selected" : null, "data-slug": outlet.slug },
            el("td", {}, button),
            el("td", {}, outlet.kind.replaceAll("_", " ")),
            el("td", { class: "num" }, r ? pct(r.probability) : "…"),
            el("td", { class: "num" }, r ? `${pct(r.interval.low)}–${pct(r.interval.high)}` : "…"),
            el("td", { class: "grade-cell" }, r ? gradeBadge(r.grade, r.grade_meaning) : "…"),
            el("td", {}, r ? (r.rated ? `rated (${num(r.evidence)} obs.)` : "unrated") : "…"),
          );
        }),
      );
      const note = $("outlets-note");
      note.hidden = !state.outletsMore;
      note.textContent = state.outletsMore ? `Showing the first ${MAX_OUTLETS} outlets.` : "";
      drawReliabilityChart(rows.filter((row) => row.reliability));
    });
  }

  function drawReliabilityChart(rows) {
    const wrap = $("reliability-chart-wrap");
    if (!rows.length) {
      wrap.replaceChildren(el("p", { class: "empty" }, state.key ? "No outlets yet." : ""));
      return;
    }
    const width = 820;
    const rowHeight = 26;
    const left = 210;
    const right = 90;
    const top = 24;
    const height = top + rows.length * rowHeight + 8;
    const x = (value) => left + value * (width - left - right);
    const root = svg("svg", {
      id: "reliability-chart",
      viewBox: `0 0 ${width} ${height}`,
      role: "img",
      "aria-labelledby": "reliability-chart-title reliability-chart-desc",
    });
    svg("title", { id: "reliability-chart-title", text: `Reliability of ${rows.length} outlets` }, root);
    svg(
      "desc",
      {
        id: "reliability-chart-desc",
        text: rows
          .map(({ outlet, reliability: r }) =>
            `${outlet.name}: ${pct(r.probability)}, 90% interval ${pct(r.interval.low)} to ${pct(r.interval.high)}, grade ${r.grade}`,
          )
          .join("; "),
      },
      root,
    );
    const axis = svg("g", { class: "axis", "aria-hidden": "true" }, root);
    for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
      svg("line", { class: "gridline", x1: x(tick), x2: x(tick), y1: top - 4, y2: height - 4 }, axis);
      svg("text", { x: x(tick), y: top - 10, "text-anchor": "middle", text: pct(tick) }, axis);
    }
    svg("text", { x: width - right + 24, y: top - 10, text: "grade" }, axis);
    rows.forEach(({ outlet, reliability: r }, index) => {
      const y = top + index * rowHeight;
      const middle = y + rowHeight / 2;
      const grade = gradeKey(r.grade);
      const mark = svg(
        "g",
        {
          class: `reliability-mark${r.rated ? "" : " unrated"}${outlet.slug === state.selectedOutlet ? " selected" : ""}`,
          "data-slug": outlet.slug,
        },
        root,
      );
      mark.addEventListener("click", () => selectOutlet(outlet.slug));
      svgTitle(
        mark,
        `${outlet.name}: ${pct(r.probability)} (90% interval ${pct(r.interval.low)}–${pct(r.interval.high)}), ` +
          `grade ${r.grade}${r.rated ? "" : ", unrated: no track record to speak of"}`,
      );
      svg("rect", { class: "row-hit", x: 0, y, width, height: rowHeight, rx: 3 }, mark);
      svg("text", { x: left - 10, y: middle + 4, "text-anchor": "end", text: truncate(outlet.name, 30) }, mark);
      svg("rect", { class: "bar", x: x(0), y: middle - 6, width: Math.max(0, x(r.probability) - x(0)), height: 12, rx: 2 }, mark);
      const low = x(r.interval.low);
      const high = x(r.interval.high);
      svg("line", { class: "whisker", x1: low, x2: high, y1: middle, y2: middle }, mark);
      svg("line", { class: "whisker", x1: low, x2: low, y1: middle - 5, y2: middle + 5 }, mark);
      svg("line", { class: "whisker", x1: high, x2: high, y1: middle - 5, y2: middle + 5 }, mark);
      svg("circle", { class: `mean-dot fill-${grade}`, cx: x(r.probability), cy: middle, r: 5.5 }, mark);
      svg("text", { class: `fill-${grade}`, x: width - right + 24, y: middle + 4, "font-weight": 700, text: r.grade }, mark);
    });
    wrap.replaceChildren(root);
  }

  // ---------------------------------------------------------------- views: history

  function renderHistory() {
    const history = state.history;
    redraw("history", history, () => {
      const wrap = $("history-chart-wrap");
      const empty = $("history-empty");
      const outlet = state.outlets.find((item) => item.slug === (history && history.slug));
      const name = outlet ? outlet.name : history ? history.slug : "";
      $("history-heading").textContent = history ? `Reliability history: ${name}` : "Reliability history";
      if (!history || !history.items.length) {
        wrap.replaceChildren();
        empty.textContent = history ? "No stored reliability for this outlet yet." : "Select an outlet above.";
        empty.hidden = false;
        return;
      }
      empty.hidden = true;
      wrap.replaceChildren(drawHistoryChart(name, history.items), historyTable(history.items));
    });
  }

  function drawHistoryChart(name, items) {
    const points = items
      .map((item) => ({ item, t: new Date(item.as_of).getTime() }))
      .filter((point) => !Number.isNaN(point.t))
      .sort((a, b) => a.t - b.t);
    const width = 820;
    const height = 260;
    const margin = { left: 48, right: 20, top: 16, bottom: 36 };
    // A little room either side; history computed in one burst (a bulk import) still spreads.
    const first = points[0].t;
    const lastT = points[points.length - 1].t;
    const pad = lastT > first ? (lastT - first) * 0.03 : 3600000;
    const t0 = first - pad;
    const t1 = lastT + pad;
    const x = (t) => margin.left + ((t - t0) / (t1 - t0)) * (width - margin.left - margin.right);
    const y = (value) => margin.top + (1 - value) * (height - margin.top - margin.bottom);
    const last = points[points.length - 1].item;
    const root = svg("svg", {
      id: "history-chart",
      viewBox: `0 0 ${width} ${height}`,
      role: "img",
      "aria-labelledby": "history-chart-title",
    });
    svg(
      "title",
      {
        id: "history-chart-title",
        text:
          `Reliability of ${name} over time: ${points.length} values from ${when(points[0].item.as_of)} ` +
          `to ${when(last.as_of)}; latest ${pct(last.probability)} ` +
          `(90% interval ${pct(last.interval.low)}–${pct(last.interval.high)}), grade ${last.grade}`,
      },
      root,
    );
    const axis = svg("g", { class: "axis", "aria-hidden": "true" }, root);
    for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
      svg("line", { class: "gridline", x1: margin.left, x2: width - margin.right, y1: y(tick), y2: y(tick) }, axis);
      svg("text", { x: margin.left - 8, y: y(tick) + 4, "text-anchor": "end", text: pct(tick) }, axis);
    }
    const span = t1 - t0;
    for (let i = 0; i <= 4; i += 1) {
      const t = t0 + (span * i) / 4;
      const iso = new Date(t).toISOString();
      let label = iso.slice(0, 10);
      if (span < 600000) label = iso.slice(11, span < 10000 ? 23 : 19);
      else if (span < 2 * 86400000) label = `${iso.slice(5, 10)} ${iso.slice(11, 16)}`;
      if (i === 4) label = `${label} UTC`;
      svg("text", { x: x(t), y: height - 12, "text-anchor": i === 0 ? "start" : i === 4 ? "end" : "middle", text: label }, axis);
    }
    const upper = points.map((p) => `${x(p.t).toFixed(1)},${y(p.item.interval.high).toFixed(1)}`);
    const lower = points.map((p) => `${x(p.t).toFixed(1)},${y(p.item.interval.low).toFixed(1)}`).reverse();
    if (points.length > 1) {
      svg("path", { class: "band", d: `M${upper.join("L")}L${lower.join("L")}Z` }, root);
      const line = points.map((p) => `${x(p.t).toFixed(1)},${y(p.item.probability).toFixed(1)}`);
      svg("path", { class: "line", d: `M${line.join("L")}` }, root);
    } else {
      const p = points[0];
      svg("rect", { class: "band", x: x(p.t) - 6, y: y(p.item.interval.high), width: 12, height: Math.max(1, y(p.item.interval.low) - y(p.item.interval.high)) }, root);
    }
    for (const p of points) {
      const dot = svg("circle", { class: "point history-point", cx: x(p.t), cy: y(p.item.probability), r: 3.5 }, root);
      svgTitle(
        dot,
        `${when(p.item.as_of)}: ${pct(p.item.probability)} (${pct(p.item.interval.low)}–${pct(p.item.interval.high)}), ` +
          `grade ${p.item.grade}; ${p.item.trigger}`,
      );
    }
    return root;
  }

  function historyTable(items) {
    const recent = items.slice(-50).reverse();
    return el(
      "details",
      { class: "data-table" },
      el("summary", {}, `Data (latest ${recent.length} of ${items.length})`),
      el(
        "div",
        { class: "table-wrap" },
        el(
          "table",
          {},
          el(
            "thead",
            {},
            el(
              "tr",
              {},
              el("th", { scope: "col" }, "As of"),
              el("th", { scope: "col", class: "num" }, "Mean"),
              el("th", { scope: "col", class: "num" }, "90% interval"),
              el("th", { scope: "col" }, "Grade"),
              el("th", { scope: "col" }, "Trigger"),
            ),
          ),
          el(
            "tbody",
            {},
            ...recent.map((item) =>
              el(
                "tr",
                {},
                el("td", {}, when(item.as_of)),
                el("td", { class: "num" }, pct(item.probability)),
                el("td", { class: "num" }, `${pct(item.interval.low)}–${pct(item.interval.high)}`),
                el("td", {}, gradeBadge(item.grade, item.grade_meaning)),
                el("td", {}, item.trigger),
              ),
            ),
          ),
        ),
      ),
    );
  }

  // ---------------------------------------------------------------- views: events

  function renderEvents() {
    redraw("events", { events: state.events, selected: state.selectedEvent }, () => {
      const body = $("events-table").querySelector("tbody");
      $("events-empty").hidden = state.events.length > 0;
      body.replaceChildren(
        ...state.events.map((event) => {
          const selected = event.id === state.selectedEvent;
          const place = [event.place, event.window_start ? when(event.window_start).slice(0, 10) : null]
            .filter(Boolean)
            .join(", ");
          return el(
            "tr",
            { class: selected ? "selected" : null, "data-event-id": event.id },
            el(
              "td",
              {},
              el(
                "button",
                {
                  type: "button",
                  class: "link",
                  "aria-pressed": selected ? "true" : "false",
                  "data-focus-key": `event:${event.id}`,
                  onclick: () => selectEvent(event.id),
                },
                event.title,
              ),
              place ? el("div", { class: "note" }, place) : null,
            ),
            el(
              "td",
              {},
              statusBadge(eventStatus(event)),
              event.consensus_stale && eventStatus(event) !== "pending"
                ? el("span", { class: "badge stale", title: "A recomputation is queued." }, "stale")
                : null,
            ),
          );
        }),
      );
    });
  }

  function renderConsensus() {
    const consensus = state.consensus;
    const detail = state.eventDetail;
    if (!consensus) return;
    redraw("consensus", { consensus, detail }, () => {
      $("consensus-empty").hidden = true;
      $("consensus-detail").hidden = false;
      const unit = detail && detail.unit ? ` ${detail.unit}` : "";
      $("consensus-title").textContent = detail ? detail.title : `Event ${consensus.event_id}`;
      const status = $("consensus-status");
      fill(
        status,
        statusBadge(consensus.status),
        " ",
        el("span", { class: "status-meaning" }, consensus.status_meaning),
        consensus.stale ? el("span", { class: "badge stale", title: "A recomputation is queued." }, "stale") : null,
      );
      const contested = consensus.status === "contested";
      const facts = [
        contested
          ? ["Competing figures", competingText(consensus, unit)]
          : ["Estimate", consensus.estimate === null ? "–" : `${num(consensus.estimate)}${unit}`],
        [contested ? "Span of the figures" : "Credible range", consensus.interval ? `${num(consensus.interval.low)}–${num(consensus.interval.high)}${unit}` : "–"],
        [contested ? "Leading figure's support" : "Confidence", pct(consensus.confidence)],
        ["Independent sources", String(consensus.independent_reports)],
        contested ? null : ["Supported by", (consensus.supporting_outlets || []).join(", ") || "–"],
        ["Computed", when(consensus.computed_at)],
      ].filter(Boolean);
      $("consensus-facts").replaceChildren(...facts.flatMap(([term, value]) => [el("dt", {}, term), el("dd", {}, value)]));
      const explanation = consensus.explanation;
      $("consensus-explanation").textContent = explanation ? explanation.summary : "";
      $("consensus-chart-wrap").replaceChildren(drawConsensusChart(consensus, detail, unit));
      drawSources(consensus);
    });
  }

  function consensusRows(consensus, detail) {
    if (consensus.claims.length) {
      return consensus.claims.map((claim) => ({ ...claim, reconciled: true }));
    }
    // Nothing reconciled yet: show the raw figures so the desk sees what came in.
    const conflict = detail && detail.conflict;
    const parties = new Set(
      state.outlets.filter((outlet) => conflict && outlet.conflict_parties.includes(conflict)).map((outlet) => outlet.slug),
    );
    return ((detail && detail.claims) || [])
      .filter((claim) => claim.figure)
      .map((claim) => ({
        claim_id: claim.id,
        outlet_slug: claim.outlet_slug,
        value: claim.figure.value,
        low: claim.figure.low,
        high: claim.figure.high,
        party: parties.has(claim.outlet_slug),
        reconciled: false,
      }));
  }

  function niceScale(lo, hi, count) {
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

  function drawConsensusChart(consensus, detail, unit) {
    const rows = consensusRows(consensus, detail);
    if (!rows.length) return el("p", { class: "empty" }, "No figures reported for this event yet.");
    const values = [];
    for (const row of rows) for (const v of [row.value, row.low, row.high]) if (typeof v === "number") values.push(v);
    if (typeof consensus.estimate === "number") values.push(consensus.estimate);
    if (consensus.interval) values.push(consensus.interval.low, consensus.interval.high);
    const competing = consensus.status === "contested" ? consensus.competing_figures || [] : [];
    const scale = niceScale(Math.min(...values), Math.max(...values), 5);
    const width = 520;
    const rowHeight = 26;
    const left = 130;
    const right = 20;
    const top = 30;
    const bottom = 52;
    const height = top + rows.length * rowHeight + bottom;
    const x = (v) => left + ((v - scale.lo) / (scale.hi - scale.lo)) * (width - left - right);
    const summary = competing.length
      ? `competing figures ${competingText(consensus, unit)}`
      : consensus.estimate === null
        ? `no consensus estimate (${consensus.status})`
        : `consensus estimate ${num(consensus.estimate)}${unit}` +
          (consensus.interval ? `, credible range ${num(consensus.interval.low)}–${num(consensus.interval.high)}` : "");
    const root = svg("svg", {
      id: "consensus-chart",
      viewBox: `0 0 ${width} ${height}`,
      role: "img",
      "aria-labelledby": "consensus-chart-title",
    });
    svg(
      "title",
      {
        id: "consensus-chart-title",
        text:
          `Figures from ${rows.length} claims against the ${summary}. ` +
          rows
            .map((row) => `${row.outlet_slug}${row.party ? " (party to the conflict)" : ""}: ${figureText(row)}`)
            .join("; "),
      },
      root,
    );
    const axis = svg("g", { class: "axis", "aria-hidden": "true" }, root);
    for (const tick of scale.ticks) {
      svg("line", { class: "gridline", x1: x(tick), x2: x(tick), y1: top - 4, y2: height - bottom + 4 }, axis);
      svg("text", { x: x(tick), y: height - bottom + 18, "text-anchor": "middle", text: num(tick) }, axis);
    }
    for (const figure of competing) {
      const low = figure.low ?? figure.estimate;
      const high = figure.high ?? figure.estimate;
      const band = svg(
        "rect",
        {
          class: "band competing-band",
          x: x(low) - 3,
          y: top - 4,
          width: Math.max(6, x(high) - x(low) + 6),
          height: rows.length * rowHeight + 8,
        },
        root,
      );
      svgTitle(band, `Competing figure ${num(figure.estimate)}${unit}: ${figure.outlet_slugs.join(", ")}, support ${pct(figure.support)}`);
      svg("text", { x: x(figure.estimate), y: top - 12, "text-anchor": "middle", "font-weight": 600, text: num(figure.estimate) }, root);
    }
    if (consensus.interval && !competing.length) {
      const band = svg(
        "rect",
        {
          class: "band consensus-band",
          x: x(consensus.interval.low),
          y: top - 4,
          width: Math.max(2, x(consensus.interval.high) - x(consensus.interval.low)),
          height: rows.length * rowHeight + 8,
        },
        root,
      );
      svgTitle(band, `Credible range ${num(consensus.interval.low)}–${num(consensus.interval.high)}${unit}`);
    }
    if (typeof consensus.estimate === "number") {
      const line = svg(
        "line",
        { class: "estimate", x1: x(consensus.estimate), x2: x(consensus.estimate), y1: top - 8, y2: top + rows.length * rowHeight + 4 },
        root,
      );
      svgTitle(line, `Estimate ${num(consensus.estimate)}${unit}`);
      svg("text", { x: x(consensus.estimate), y: top - 12, "text-anchor": "middle", "font-weight": 600, text: `estimate ${num(consensus.estimate)}` }, root);
    }
    rows.forEach((row, index) => {
      const middle = top + index * rowHeight + rowHeight / 2;
      const group = svg("g", { class: "claim-row", "data-claim-id": row.claim_id }, root);
      svg("text", { x: left - 10, y: middle + 4, "text-anchor": "end", text: truncate(row.outlet_slug, 18) }, group);
      if (typeof row.low === "number" && typeof row.high === "number") {
        svg("line", { class: "claim-range", x1: x(row.low), x2: x(row.high), y1: middle, y2: middle }, group);
      }
      const centre = typeof row.value === "number" ? row.value : ((row.low ?? 0) + (row.high ?? 0)) / 2;
      const cx = x(centre);
      const superseded = row.superseded ? " superseded" : "";
      const dot = row.party
        ? svg("path", { class: `claim-dot party${superseded}`, d: `M${cx},${middle - 7}L${cx + 7},${middle}L${cx},${middle + 7}L${cx - 7},${middle}Z` }, group)
        : svg("circle", { class: `claim-dot${superseded}`, cx, cy: middle, r: 6 }, group);
      const admiralty = row.admiralty ? `; Admiralty ${row.admiralty.code} (${row.admiralty.meaning})` : "";
      const discounts = row.discounts && row.discounts.length ? `; ${row.discounts.join("; ")}` : "";
      const extra = row.reconciled
        ? `; agreement ${pct(row.agreement)}, weight ${num(row.weight)}${admiralty}${discounts}`
        : "; not yet reconciled";
      svgTitle(dot, `${row.outlet_slug}${row.party ? " (party to the conflict)" : ""}: ${figureText(row)}${unit}${extra}`);
    });
    const legend = svg("g", { class: "legend", "aria-hidden": "true" }, root);
    const ly = height - 10;
    svg("circle", { class: "legend-dot", cx: left, cy: ly - 4, r: 5 }, legend);
    svg("text", { x: left + 9, y: ly, text: "independent" }, legend);
    const px = left + 95;
    svg("path", { class: "legend-dot party", d: `M${px},${ly - 10}L${px + 6},${ly - 4}L${px},${ly + 2}L${px - 6},${ly - 4}Z` }, legend);
    svg("text", { x: px + 10, y: ly, text: "party to the conflict" }, legend);
    svg("rect", { class: competing.length ? "band legend-competing" : "band", x: px + 140, y: ly - 10, width: 16, height: 12 }, legend);
    svg("text", { x: px + 160, y: ly, text: competing.length ? "competing figure" : "credible range" }, legend);
    return root;
  }

  function figureText(row) {
    if (typeof row.low === "number" && typeof row.high === "number") {
      const value = typeof row.value === "number" ? `${num(row.value)} ` : "";
      return `${value}(${num(row.low)}–${num(row.high)})`;
    }
    return num(row.value);
  }

  function drawSources(consensus) {
    const body = $("sources-table").querySelector("tbody");
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
          el("td", {}, source.outlet_name),
          el(
            "td",
            {},
            el(
              "span",
              { class: "weight-cell" },
              weightBar(source.weight / max, source.party),
              num(source.weight),
            ),
          ),
          el("td", {}, source.party ? el("span", { class: "badge party" }, "party") : "no"),
        ),
      ),
    );
  }

  function weightBar(share, party) {
    const root = svg("svg", { class: "weight-svg", width: 80, height: 10, viewBox: "0 0 80 10", "aria-hidden": "true" });
    svg("rect", { class: "weight-track", x: 0, y: 0, width: 80, height: 10, rx: 2 }, root);
    svg("rect", { class: `weight-bar${party ? " party" : ""}`, x: 0, y: 0, width: Math.max(1, 80 * share), height: 10, rx: 2 }, root);
    return root;
  }

  // The reasons a desk editor reads first: the largest shifts away from the baseline, and
  // "unrated" whenever it applies; the baseline itself only when nothing else moved the score.
  function topReasons(reasons) {
    const shifts = reasons
      .filter((reason) => reason.feature !== "global_baseline")
      .filter((reason) => reason.feature === "unrated" || Math.abs(reason.effect) >= 0.0005)
      .sort((a, b) => (b.feature === "unrated") - (a.feature === "unrated") || Math.abs(b.effect) - Math.abs(a.effect));
    return shifts.length ? shifts.slice(0, 3) : reasons.slice(0, 1);
  }

  function reasonText(reason) {
    if (Math.abs(reason.effect) < 0.0005) return reason.text;
    return `${reason.text} (${reason.effect >= 0 ? "+" : "−"}${Math.abs(reason.effect * 100).toFixed(1)} pts)`;
  }

  // ---------------------------------------------------------------- views: claims

  function renderClaims() {
    redraw("claims", state.claims, () => {
      $("claims-empty").hidden = state.claims.length > 0;
      $("claims-table").querySelector("tbody").replaceChildren(
        ...state.claims.map((claim) => {
          const score = claim.score;
          const reasons = score ? topReasons(score.reasons) : [];
          return el(
            "tr",
            { "data-claim-id": claim.id },
            el("td", { class: "claim-text", title: claim.text }, truncate(claim.text, 160)),
            el("td", {}, claim.outlet_slug),
            el("td", {}, when(claim.published_at)),
            el("td", { class: "num" }, score ? pct(score.probability) : "–"),
            el(
              "td",
              {},
              score ? gradeBadge(score.grade, score.grade_meaning) : "–",
              claim.score_stale ? el("span", { class: "badge stale", title: "A re-score is queued." }, "re-scoring") : null,
            ),
            el(
              "td",
              { class: "reasons" },
              reasons.length
                ? el(
                    "ul",
                    {},
                    ...reasons.map((reason) => el("li", {}, reasonText(reason))),
                  )
                : "–",
            ),
          );
        }),
      );
    });
  }

  // ---------------------------------------------------------------- connect / forget

  function resetData() {
    state.generation += 1;
    clearTimeout(state.timer);
    state.timer = null;
    state.inFlight = false;
    state.etags.clear();
    state.reliability.clear();
    state.rendered.clear();
    Object.assign(state, {
      outlets: [],
      events: [],
      claims: [],
      history: null,
      consensus: null,
      eventDetail: null,
      selectedOutlet: null,
      selectedEvent: null,
      relCursor: 0,
      historyFetchedAt: 0,
    });
    for (const id of ["outlets-table", "events-table", "claims-table", "sources-table"]) {
      $(id).querySelector("tbody").replaceChildren();
    }
    for (const id of ["reliability-chart-wrap", "history-chart-wrap", "consensus-chart-wrap"]) {
      $(id).replaceChildren();
    }
    $("history-heading").textContent = "Reliability history";
    $("history-empty").textContent = "Select an outlet above.";
    $("history-empty").hidden = false;
    $("consensus-empty").textContent = "Select an event.";
    $("consensus-empty").hidden = false;
    $("consensus-detail").hidden = true;
    $("last-updated").textContent = "";
  }

  function connect(key) {
    resetData();
    clearError();
    state.key = key;
    state.stopped = false;
    $("forget").hidden = false;
    $("refresh").disabled = false;
    setStatus("Connecting…");
    poll();
  }

  function forget() {
    sessionStorage.removeItem(KEY_STORAGE);
    resetData();
    clearError();
    state.key = null;
    stop("Not connected.");
    $("forget").hidden = true;
    $("api-key").focus();
  }

  function init() {
    $("key-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const input = $("api-key");
      const key = input.value.trim();
      if (!key) {
        showError(new ApiError(0, "No key", "Enter an API key with the read scope."));
        input.focus();
        return;
      }
      input.value = ""; // the key lives in sessionStorage only, not in the page
      sessionStorage.setItem(KEY_STORAGE, key);
      connect(key);
    });
    $("forget").addEventListener("click", forget);
    $("refresh").addEventListener("click", () => {
      if (state.key && !state.stopped) poll();
    });
    document.addEventListener("visibilitychange", onVisibilityChange);
    const saved = sessionStorage.getItem(KEY_STORAGE);
    if (saved) connect(saved);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
