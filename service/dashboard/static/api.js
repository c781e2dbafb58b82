// The /v1 API with the user's key: conditional reads (ETag / 304) and problem+json errors.

// The API lives next to the dashboard: /dashboard -> /, /prefix/dashboard -> /prefix/.
export const API_ROOT = new URL(".", window.location.href);

export class ApiError extends Error {
  constructor(status, title, detail, extra) {
    super(detail);
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.retryAfter = extra && extra.retryAfter;
    this.requestId = extra && extra.requestId;
  }
}

export async function problemFrom(response) {
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

// One per connection: closing it makes every late answer of the old key a no-op for the panels.
export class ApiClient {
  constructor(key) {
    this.key = key;
    this.closed = false;
    this.etags = new Map(); // url -> {etag, data}
    this.counts = { fetched: 0, unchanged: 0 };
  }

  close() {
    this.closed = true;
    this.etags.clear();
  }

  url(path) {
    return new URL(path, API_ROOT).toString();
  }

  headers(extra) {
    return { Authorization: `Bearer ${this.key}`, ...extra };
  }

  async get(path, options) {
    const conditional = Boolean(options && options.conditional);
    const url = this.url(path);
    const headers = this.headers({ Accept: "application/json" });
    const cached = conditional ? this.etags.get(url) : undefined;
    if (cached) headers["If-None-Match"] = cached.etag;
    let response;
    try {
      // no-store: this script does the revalidation itself and must see the 304s.
      response = await fetch(url, { headers, cache: "no-store", credentials: "omit" });
    } catch (error) {
      throw new ApiError(0, "Network error", `The service could not be reached (${error.message}).`);
    }
    if (response.status === 304 && cached) {
      this.counts.unchanged += 1;
      return { data: cached.data, changed: false };
    }
    if (!response.ok) throw await problemFrom(response);
    const data = await response.json();
    this.counts.fetched += 1;
    const etag = response.headers.get("ETag");
    if (conditional && etag) this.etags.set(url, { etag, data });
    return { data, changed: true };
  }

  // The newest items of a list in one request (order=desc), revalidated with the list's ETag:
  // an unchanged list costs a 304 and no body, and a long table is never walked.
  async latest(path, keep) {
    const { data } = await this.get(`${path}?order=desc&limit=${keep}`, { conditional: true });
    return data.items;
  }
}

export async function mapLimit(items, limit, task) {
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
