// The live stream (GET /v1/stream, Server-Sent Events) read with fetch(), so the key travels in
// the Authorization header as on every other read (EventSource cannot send headers, and a key
// never goes in a URL). While the stream is absent or down the dashboard polls instead.

const RETRY_MIN_MS = 2000;
const RETRY_MAX_MS = 60000;
const ABSENT_RETRY_MS = 300000; // no stream on this service (404): look again every 5 minutes

export const STREAM_TYPES = ["claim.scored", "outlet.reliability_changed", "event.consensus_changed", "verdict.recorded"];

// Splits a text/event-stream into messages (the WHATWG parsing rules: CR, LF or CRLF line ends,
// comment lines, "field: value", a blank line ends a message).
export class EventStreamParser {
  constructor(onMessage, onComment) {
    this.onMessage = onMessage;
    this.onComment = onComment || (() => {});
    this.buffer = "";
    this.reset();
  }

  reset() {
    this.type = "";
    this.data = [];
    this.id = null;
  }

  push(text) {
    this.buffer += text;
    const lines = this.buffer.split(/\r\n|\r|\n/);
    // The last piece is an unfinished line (or "" after a line end); a lone trailing CR may be
    // the first half of a CRLF, so it waits for the next chunk too.
    this.buffer = lines.pop();
    if (this.buffer === "" && text.endsWith("\r") && lines.length) {
      this.buffer = `${lines.pop()}\r`;
    }
    for (const line of lines) this.line(line);
  }

  line(line) {
    if (line === "") {
      if (this.data.length) this.onMessage({ id: this.id, type: this.type || "message", data: this.data.join("\n") });
      this.reset();
      return;
    }
    if (line.startsWith(":")) {
      this.onComment(line.slice(1));
      return;
    }
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") this.type = value;
    else if (field === "data") this.data.push(value);
    else if (field === "id" && !value.includes("\0")) this.id = value;
  }
}

export class LiveStream {
  constructor({ onMessage, onStateChange }) {
    this.onMessage = onMessage;
    this.onStateChange = onStateChange;
    this.api = null;
    this.controller = null;
    this.timer = null;
    this.lastEventId = null;
    this.retryMs = RETRY_MIN_MS;
    this.state = "off";
  }

  start(api) {
    this.stop();
    this.api = api;
    this.connect(api);
  }

  stop() {
    this.api = null;
    clearTimeout(this.timer);
    this.timer = null;
    if (this.controller) this.controller.abort();
    this.controller = null;
    this.setState("off", "");
  }

  setState(state, why) {
    if (this.state === state && state !== "down") return;
    this.state = state;
    this.onStateChange(state, why);
  }

  async connect(api) {
    const controller = new AbortController();
    this.controller = controller;
    const headers = api.headers({ Accept: "text/event-stream" });
    if (this.lastEventId !== null) headers["Last-Event-ID"] = this.lastEventId;
    let response;
    try {
      response = await fetch(api.url("v1/stream"), { headers, cache: "no-store", credentials: "omit", signal: controller.signal });
    } catch (_error) {
      this.dropped(api, "the stream could not be reached");
      return;
    }
    if (response.status === 404) {
      this.dropped(api, "this service has no live stream", ABSENT_RETRY_MS);
      return;
    }
    const type = response.headers.get("Content-Type") || "";
    if (!response.ok || !response.body || !type.startsWith("text/event-stream")) {
      this.dropped(api, `the stream answered ${response.status}`);
      return;
    }
    if (api !== this.api) return;
    this.retryMs = RETRY_MIN_MS;
    this.setState("live", "");
    const parser = new EventStreamParser((message) => this.message(api, message));
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done || api !== this.api) break;
        parser.push(value);
      }
    } catch (_error) {
      // aborted (stop) or the connection broke: either way the stream is over
    }
    this.dropped(api, "the stream ended");
  }

  message(api, message) {
    if (api !== this.api) return;
    if (message.id !== null) this.lastEventId = message.id;
    let payload;
    try {
      payload = JSON.parse(message.data);
    } catch (_error) {
      return; // not one of ours
    }
    const type = STREAM_TYPES.includes(message.type) ? message.type : payload && payload.type;
    if (!STREAM_TYPES.includes(type)) return;
    this.onMessage({ type, timestamp: payload.timestamp, data: (payload && payload.data) || {} });
  }

  dropped(api, why, delay) {
    if (api !== this.api) return;
    this.controller = null;
    this.setState("down", why);
    const wait = delay || this.retryMs;
    this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (api === this.api) this.connect(api);
    }, wait);
  }
}
