-- wrk script for scripts/bench-login.sh: browser logins (POST /login) with the right password,
-- spread over BENCH_USERS accounts and as many client addresses (X-Forwarded-For, the server
-- trusts 127.0.0.1), so that every request reaches the password check instead of the throttle.
local users = tonumber(os.getenv("BENCH_USERS") or "64")
local password = os.getenv("BENCH_PASSWORD")
local n = 0

request = function()
    n = n + 1
    local i = n % users
    local body = "csrf=benchcsrf&username=bench" .. i .. "&password=" .. password .. "&next=%2Fincidents"
    local headers = {
        ["Content-Type"] = "application/x-www-form-urlencoded",
        ["Cookie"] = "tocsin_login_csrf=benchcsrf",
        ["X-Forwarded-For"] = "198.51.100." .. (n % 250 + 1),
    }
    return wrk.format("POST", "/login", headers, body)
end

done = function(summary, latency, requests)
    -- A successful login answers 303; wrk counts 4xx/5xx answers (e.g. 429) as errors.
    io.write(string.format("LOGINS %d requests in %.1fs (%.1f/s), p50 %.1f ms, p99 %.1f ms, 4xx/5xx %d\n",
        summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
        latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.errors.status))
end
