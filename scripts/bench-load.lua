-- wrk script for scripts/bench-load.sh.
--
--   wrk ... -s scripts/bench-load.lua URL -- post TOKEN     POST /api/v1/reports, a new text each time
--   wrk ... -s scripts/bench-load.lua URL -- get PATH [TOKEN]
--
-- Every thread counts its responses by status class; done() prints one machine-readable
-- RESULT line (latencies in ms) that bench-load.sh parses.

local threads = {}
local nthreads = 0

function setup(thread)
   nthreads = nthreads + 1
   thread:set("tid", nthreads)
   table.insert(threads, thread)
end

local mode, path, token
local counter = 0
-- Globals, so that done() can read them with thread:get().
ok2xx, other = 0, 0
statuses = {}
local headers = {}

function init(args)
   mode = args[1] or "get"
   if mode == "post" then
      token = args[2]
      path = "/api/v1/reports"
      headers["Content-Type"] = "application/json"
   else
      path = args[2] or "/healthz"
      token = args[3]
   end
   if token and token ~= "" then
      headers["Authorization"] = "Bearer " .. token
   end
end

function request()
   if mode ~= "post" then
      return wrk.format("GET", path, headers, nil)
   end
   counter = counter + 1
   -- A different text, and a different place on the globe, for every request.
   local lat = (counter * 7919) % 17900 / 100.0 - 89.5
   local lon = (counter * 104729) % 35900 / 100.0 - 179.5
   local body = string.format(
      '{"text":"bench report t%d-%d: armed men seen near the river crossing at dawn","latitude":%.2f,"longitude":%.2f}',
      tid, counter, lat, lon)
   return wrk.format("POST", path, headers, body)
end

function response(status, hdrs, body)
   if status >= 200 and status < 300 then
      ok2xx = ok2xx + 1
   else
      other = other + 1
      statuses[status] = (statuses[status] or 0) + 1
   end
end

function done(summary, latency, requests)
   local ok, bad = 0, 0
   local by_status = {}
   for _, t in ipairs(threads) do
      ok = ok + (t:get("ok2xx") or 0)
      bad = bad + (t:get("other") or 0)
      local st = t:get("statuses")
      if st then
         for k, v in pairs(st) do by_status[k] = (by_status[k] or 0) + v end
      end
   end
   local parts = {}
   for k, v in pairs(by_status) do table.insert(parts, string.format("%s:%d", k, v)) end
   local secs = summary.duration / 1e6
   local e = summary.errors
   io.write(string.format(
      "RESULT requests=%d ok2xx=%d non2xx=%d statuses=%s duration_s=%.3f rps=%.1f ok_rps=%.1f " ..
      "p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f mean_ms=%.3f stdev_ms=%.3f " ..
      "connect_err=%d read_err=%d write_err=%d timeouts=%d\n",
      summary.requests, ok, bad, (#parts > 0) and table.concat(parts, ",") or "-", secs,
      summary.requests / secs, ok / secs,
      latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
      latency:percentile(99.9) / 1000, latency.max / 1000, latency.mean / 1000, latency.stdev / 1000,
      e.connect, e.read, e.write, e.timeout))
end
