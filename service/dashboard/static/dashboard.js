// credscore dashboard: reads the /v1 API with the user's key and draws plain SVG charts.
// This module wires the panels (one module each) to the key form, the refresh loop and the
// live stream; each panel keeps its own state and draws only its own part of the page.
import { ApiClient, ApiError } from "./api.js";
import { ClaimsPanel } from "./claims.js";
import { ConsensusPanel } from "./consensus.js";
import { byId, el, fill } from "./dom.js";
import { EventsPanel } from "./events.js";
import { HistoryPanel } from "./history.js";
import { LiveStream } from "./live.js";
import { OutletNames } from "./names.js";
import { OutletsPanel } from "./outlets.js";

const POLL_MS = 15000;
const LIVE_POLL_MS = 120000; // while live, a slow full refresh still catches anything missed
const LIVE_BATCH_MS = 250; // live messages arriving together cause one refresh
const KEY_STORAGE = "credscore.apiKey";

const HINTS = {
  0: "Check the connection; retrying in 15 s.",
  401: "Check the API key and connect again.",
  403: "This key lacks the read scope; use a key with read.",
  429: "Too many requests for this key; waiting before the next refresh.",
};

class Dashboard {
  constructor() {
    this.api = null;
    this.timer = null;
    this.inFlight = false;
    this.live = false;
    this.pending = null; // what live messages asked to refresh, until the batch runs
    this.names = new OutletNames();
    this.outlets = new OutletsPanel({ names: this.names, onSelect: (slug) => this.selectOutlet(slug) });
    this.history = new HistoryPanel({ names: this.names });
    this.events = new EventsPanel({ onSelect: (id) => this.selectEvent(id) });
    this.consensus = new ConsensusPanel({ names: this.names, outletsOf: () => this.outlets.outlets });
    this.claims = new ClaimsPanel({ names: this.names });
    this.stream = new LiveStream({
      onMessage: (message) => this.onLiveMessage(message),
      onStateChange: (state, why) => this.onLiveState(state, why),
    });
  }

  // ------------------------------------------------------------------ refreshing

  get pollMs() {
    return this.live ? LIVE_POLL_MS : POLL_MS;
  }

  async poll() {
    const api = this.api;
    if (!api || this.inFlight) return;
    this.inFlight = true;
    clearTimeout(this.timer);
    api.counts = { fetched: 0, unchanged: 0 };
    let delay = this.pollMs;
    try {
      const changed = await this.outlets.refresh(api);
      this.history.markChanged(changed);
      await Promise.all([this.events.refresh(api), this.claims.refresh(api), this.history.refresh(api), this.consensus.refresh(api)]);
      if (api.closed) return;
      this.clearError();
      const time = new Date().toISOString().slice(11, 19);
      byId("last-updated").textContent = `Updated ${time} UTC: ${api.counts.fetched} fetched, ${api.counts.unchanged} unchanged (304).`;
    } catch (error) {
      if (api.closed) return;
      if (this.failed(error)) return;
      if (error.status === 429 && error.retryAfter) delay = Math.max(POLL_MS, error.retryAfter * 1000);
    } finally {
      if (!api.closed) this.inFlight = false;
    }
    if (!api.closed) this.schedule(delay);
  }

  schedule(delay) {
    clearTimeout(this.timer);
    this.timer = null;
    if (!this.api) return;
    if (document.visibilityState === "hidden") {
      this.setStatus("Paused while this tab is hidden.");
      return;
    }
    this.setStatus("Connected.");
    this.showLive();
    this.timer = setTimeout(() => this.poll(), delay);
  }

  // Only the panels a live message concerns, batched.
  onLiveMessage(message) {
    const data = message.data;
    const pending = this.pending || { outlets: new Set(), events: false, claims: false, consensus: new Set() };
    this.pending = pending;
    if (data.outlet) pending.outlets.add(data.outlet); // the slug, as every push event names it
    if (message.type === "claim.scored" || message.type === "verdict.recorded") pending.claims = true;
    if (message.type === "event.consensus_changed" || message.type === "claim.scored") {
      pending.events = true;
      if (data.event_id !== undefined && data.event_id !== null) pending.consensus.add(Number(data.event_id));
    }
    if (!this.batchTimer) this.batchTimer = setTimeout(() => this.applyLive(), LIVE_BATCH_MS);
  }

  async applyLive() {
    this.batchTimer = null;
    const pending = this.pending;
    this.pending = null;
    const api = this.api;
    if (!pending || !api) return;
    try {
      const tasks = [];
      if (pending.outlets.size) {
        tasks.push(
          this.outlets.refresh(api, { slugs: [...pending.outlets] }).then((changed) => {
            this.history.markChanged([...changed, ...pending.outlets]);
            return this.history.refresh(api);
          }),
        );
      }
      if (pending.claims) tasks.push(this.claims.refresh(api));
      if (pending.events) tasks.push(this.events.refresh(api));
      if (this.consensus.selected && pending.consensus.has(this.consensus.selected)) tasks.push(this.consensus.refresh(api));
      await Promise.all(tasks);
    } catch (error) {
      if (!api.closed) this.failed(error);
    }
  }

  onLiveState(state, why) {
    const wasLive = this.live;
    this.live = state === "live";
    this.liveWhy = why;
    this.showLive();
    if (!this.api || this.inFlight || document.visibilityState === "hidden") return;
    // The figures on screen are current up to the change (a resumed stream replays what was
    // missed from Last-Event-ID): only the pace of polling changes, 15 s or the slow safety net.
    if (wasLive !== this.live) this.schedule(this.pollMs);
  }

  showLive() {
    const node = byId("live-indicator");
    if (!this.api) {
      node.hidden = true;
      return;
    }
    node.hidden = false;
    node.className = `live-indicator ${this.live ? "is-live" : "not-live"}`;
    const text = this.live ? "Live" : `Not live — refreshing every ${Math.round(POLL_MS / 1000)} s`;
    if (node.textContent !== text) node.textContent = text;
    node.title = this.live ? "Updates arrive as they happen." : this.liveWhy ? `Not live: ${this.liveWhy}.` : "";
  }

  // A click loads the selection at once (outside the poll), reporting errors as a poll would.
  async loadNow(task) {
    const api = this.api;
    if (!api) return;
    try {
      await task(api);
    } catch (error) {
      if (!api.closed) this.failed(error);
    }
  }

  selectOutlet(slug) {
    this.outlets.select(slug);
    this.history.select(slug);
    this.loadNow((api) => this.history.refresh(api));
  }

  selectEvent(id) {
    this.events.select(id);
    this.consensus.select(id);
    this.loadNow((api) => this.consensus.refresh(api));
  }

  // ------------------------------------------------------------------ status and errors

  setStatus(text) {
    const node = byId("poll-status");
    if (node.textContent !== text) node.textContent = text;
  }

  // Shows the error; true when it ends the session (the key was refused or may not read).
  failed(error) {
    this.showError(error);
    if (error.status === 401 || error.status === 403) {
      if (error.status === 401) sessionStorage.removeItem(KEY_STORAGE);
      this.stop(error.status === 401 ? "Stopped: the API key was refused." : "Stopped: the key may not read.");
      return true;
    }
    return false;
  }

  showError(error) {
    const box = byId("error");
    const status = error instanceof ApiError ? error.status : 0;
    const title = error instanceof ApiError ? error.title : "Unexpected error";
    const detail = error instanceof ApiError ? error.detail : String(error && error.message);
    const hint = HINTS[status] || (status >= 500 ? "The service had a problem; retrying in 15 s." : "");
    fill(
      box,
      el("strong", {}, status ? `${status} ${title}` : title),
      el("span", { class: "detail" }, detail),
      hint ? el("span", {}, ` ${hint}`) : null,
      error && error.requestId ? el("span", { class: "request-id" }, ` (request ${error.requestId})`) : null,
    );
    box.hidden = false;
  }

  clearError() {
    const box = byId("error");
    box.hidden = true;
    box.replaceChildren();
  }

  // ------------------------------------------------------------------ connect / forget

  stop(text) {
    if (this.api) this.api.close();
    this.api = null;
    this.inFlight = false;
    clearTimeout(this.timer);
    this.timer = null;
    this.stream.stop();
    byId("refresh").disabled = true;
    byId("live-indicator").hidden = true;
    this.setStatus(text);
  }

  resetData() {
    if (this.api) this.api.close();
    this.api = null;
    clearTimeout(this.timer);
    this.timer = null;
    this.inFlight = false;
    this.stream.stop();
    this.names.reset();
    for (const panel of [this.outlets, this.history, this.events, this.consensus, this.claims]) panel.reset();
    byId("last-updated").textContent = "";
  }

  connect(key) {
    this.resetData();
    this.clearError();
    this.api = new ApiClient(key);
    byId("forget").hidden = false;
    byId("refresh").disabled = false;
    this.setStatus("Connecting…");
    this.showLive();
    this.stream.start(this.api);
    this.poll();
  }

  forget() {
    sessionStorage.removeItem(KEY_STORAGE);
    this.resetData();
    this.clearError();
    this.stop("Not connected.");
    byId("forget").hidden = true;
    byId("api-key").focus();
  }

  onVisibilityChange() {
    if (!this.api) return;
    if (document.visibilityState === "hidden") {
      clearTimeout(this.timer);
      this.timer = null;
      this.stream.stop();
      this.setStatus("Paused while this tab is hidden.");
    } else {
      this.stream.start(this.api);
      this.poll();
    }
  }

  init() {
    byId("key-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const input = byId("api-key");
      const key = input.value.trim();
      if (!key) {
        this.showError(new ApiError(0, "No key", "Enter an API key with the read scope."));
        input.focus();
        return;
      }
      input.value = ""; // the key lives in sessionStorage only, not in the page
      sessionStorage.setItem(KEY_STORAGE, key);
      this.connect(key);
    });
    byId("forget").addEventListener("click", () => this.forget());
    byId("refresh").addEventListener("click", () => this.poll());
    document.addEventListener("visibilitychange", () => this.onVisibilityChange());
    const saved = sessionStorage.getItem(KEY_STORAGE);
    if (saved) this.connect(saved);
  }
}

// Module scripts run after the document is parsed.
new Dashboard().init();
