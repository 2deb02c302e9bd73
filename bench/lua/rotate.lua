-- wrk script: each request picks a random line of a file, so many citizens (tokens) or
-- devices are exercised, and done() prints one JSON line the bench reads (bench/stats.py).
--
--   wrk ... -s rotate.lua URL -- LINES_FILE [METHOD] [BODY_FILE|-] [idem|-]
--
-- LINES_FILE: "path<TAB>authorization header or -<TAB>text for @@ in the body", one a line.
-- BODY_FILE: a body template; every "@@" in it becomes the line's third column.
-- idem: send a fresh Idempotency-Key with every request.
-- wrk runs one Lua state per thread: init() loads the file in each.

local items = {}
local method = "GET"
local body_template = nil
local idempotent = false
local sent = 0
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_id", thread_count)
end

function init(args)
  method = args[2] or "GET"
  if args[3] and args[3] ~= "-" then
    local f = assert(io.open(args[3], "rb"))
    body_template = f:read("*a")
    f:close()
  end
  idempotent = args[4] == "idem"
  for line in io.lines(args[1]) do
    local path, auth, subst = line:match("^([^\t]*)\t([^\t]*)\t?(.*)$")
    if path then
      items[#items + 1] = { path, auth, subst }
    end
  end
  assert(#items > 0, "no request lines in " .. args[1])
  math.randomseed(os.time() * 100 + (thread_id or 0))
end

function request()
  local item = items[math.random(#items)]
  sent = sent + 1
  local headers = {}
  if item[2] ~= "-" then
    headers["Authorization"] = item[2]
  end
  local body = nil
  if body_template then
    headers["Content-Type"] = "application/json"
    body = (body_template:gsub("@@", function() return item[3] end))
  end
  if idempotent then
    headers["Idempotency-Key"] = string.format("bench-%d-%d-%d", thread_id or 0, sent, math.random(1000000000))
  end
  return wrk.format(method, item[1], headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  local parts = {}
  for _, q in ipairs({ 50, 75, 90, 95, 99, 99.9 }) do
    parts[#parts + 1] = string.format('"%s": %d', tostring(q), latency:percentile(q))
  end
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, '
      .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, '
      .. '"latency_us": {%s, "mean": %.1f, "max": %d}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    table.concat(parts, ", "), latency.mean, latency.max
  ))
end
