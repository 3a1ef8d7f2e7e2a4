-- wrk script: SMSSync deliveries of distinct messages from 2,000 monitors (a large network),
-- each message with its own provider id (so none is a duplicate).
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread:set("tid", thread_id)
  thread_id = thread_id + 1
  table.insert(threads, thread)
end

function init(args)
  secret = os.getenv("SMS_SECRET") or "bench-secret"
end

local texts = {
  "ATTAQUE Bria ce matin, 5 morts",
  "SHAMBULIO Bangui watu 5 wameuawa",
  "Armed men moving towards Kaga-Bandoro on motorbikes",
  "RUMEUR attaque prevue a Bambari demain",
}

function request()
  counter = counter + 1
  local n = tid * 100000000 + counter
  local from = string.format("%%2B2367%08d", n % 2000)
  local body = "secret=" .. secret .. "&from=" .. from .. "&message_id=b" .. n ..
    "&sent_to=1234&sent_timestamp=1700000000&message=" ..
    texts[(counter % #texts) + 1]:gsub(" ", "+") .. "+" .. n
  return wrk.format("POST", "/sms/smssync", {["Content-Type"] = "application/x-www-form-urlencoded"}, body)
end

function done(summary, latency, requests)
  io.write(string.format("RESULT requests=%d non2xx=%d duration_s=%.3f rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f\n",
    summary.requests, summary.errors.status, summary.duration / 1e6,
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000))
end
