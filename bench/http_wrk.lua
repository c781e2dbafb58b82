-- wrk script for bench/http_load.py: one script for every scenario, picked by BENCH_MODE.
--
--   BENCH_MODE  healthz | score | claims | poll
--   BENCH_KEY   API key (sent as Authorization: Bearer)
--   BENCH_DATA  directory holding slugs.txt (score, claims) and polls.tsv (poll: id<TAB>etag)
--   BENCH_OUT   file the summary is written to as one JSON object
--
-- Every response's status is tallied (the response() hook), so a 200 where a 304 was expected,
-- or any 4xx/5xx, shows up by code; wrk's own error counters cover socket errors and timeouts.
-- Claims carry no Idempotency-Key and differ in outlet, text, time and figure.

local mode = os.getenv("BENCH_MODE") or "healthz"
local key = os.getenv("BENCH_KEY") or ""
local data_dir = os.getenv("BENCH_DATA") or "."
local out_path = os.getenv("BENCH_OUT")

local threads = {}
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_id", thread_count)
  table.insert(threads, thread)
end

local function read_lines(name)
  local lines = {}
  local file = assert(io.open(data_dir .. "/" .. name, "r"))
  for line in file:lines() do
    if line ~= "" then
      table.insert(lines, line)
    end
  end
  file:close()
  return lines
end

local words = {
  "troops", "reportedly", "killed", "civilians", "said", "strike", "village", "officials",
  "according", "sources", "confirmed", "denied", "shelling", "convoy", "hospital", "near",
  "city", "ministry", "spokesman", "residents", "witnesses", "overnight", "airstrike", "border",
}
local now = os.time()
local slugs = {}
local requests_pool = {}
local json_headers = {
  ["Authorization"] = "Bearer " .. key,
  ["Content-Type"] = "application/json",
}

statuses = {}

function init(args)
  math.randomseed((thread_id or 1) * 7919 + now)
  if mode == "healthz" then
    requests_pool = { wrk.format("GET", "/healthz") }
  elseif mode == "score" or mode == "claims" then
    slugs = read_lines("slugs.txt")
  elseif mode == "poll" then
    for _, line in ipairs(read_lines("polls.tsv")) do
      local id, etag = line:match("^(%d+)\t?(.*)$")
      local headers = { ["Authorization"] = "Bearer " .. key }
      if etag ~= nil and etag ~= "" then
        headers["If-None-Match"] = etag
      end
      table.insert(requests_pool, wrk.format("GET", "/v1/claims/" .. id, headers))
    end
  else
    error("unknown BENCH_MODE " .. mode)
  end
end

local function claim_body()
  local n = math.random(5, 12)
  local parts = {}
  for i = 1, n do
    parts[i] = words[math.random(#words)]
  end
  parts[n + 1] = tostring(math.random(1, 500))
  local published = os.date("!%Y-%m-%dT%H:%M:%SZ", now - math.random(3600, 3 * 365 * 86400))
  local figure = ""
  if math.random() < 0.5 then
    figure = string.format(',"figure":{"value":%d,"unit":"people"}', math.random(1, 400))
  end
  return string.format(
    '{"outlet_slug":"%s","text":"%s","published_at":"%s"%s}',
    slugs[math.random(#slugs)], table.concat(parts, " "), published, figure
  )
end

function request()
  if mode == "score" then
    return wrk.format("POST", "/v1/score", json_headers, claim_body())
  elseif mode == "claims" then
    return wrk.format("POST", "/v1/claims", json_headers, claim_body())
  end
  return requests_pool[math.random(#requests_pool)]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local codes = {}
  for _, thread in ipairs(threads) do
    local counts = thread:get("statuses") or {}
    for code, count in pairs(counts) do
      codes[code] = (codes[code] or 0) + count
    end
  end
  local parts = {}
  for code, count in pairs(codes) do
    table.insert(parts, string.format('"%d":%d', code, count))
  end
  local e = summary.errors
  local doc = string.format(
    '{"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,'
      .. '"max_us":%d,"mean_us":%.1f,"errors":{"connect":%d,"read":%d,"write":%d,'
      .. '"status":%d,"timeout":%d},"statuses":{%s}}',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout,
    table.concat(parts, ",")
  )
  if out_path then
    local file = assert(io.open(out_path, "w"))
    file:write(doc)
    file:close()
  else
    io.write(doc .. "\n")
  end
end
