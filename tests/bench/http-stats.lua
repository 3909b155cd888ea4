-- wrk script for tests/bench/http: the latency figures wrk does not print.
--
--	wrk ... --latency -s http-stats.lua URL
--
-- At the end it prints one line that tests/bench/http reads:
--
--	stats requests=N p50=US p99=US p999=US max=US over1s=N timeouts=N
--
-- Latencies are in microseconds; over1s counts the requests that took
-- longer than one second (wrk counts those over its --timeout as timeouts
-- instead, which it records nowhere else). The other scripts load this one
-- for its done().

-- wrk's latency object gives percentiles, not counts: the r-th smallest of
-- n samples is percentile(100 * (r - 0.5) / n) (wrk ranks a percentile p as
-- round(p / 100 * n + 0.5)), so bisect for the last sample within 1 s.
local function over_one_second(latency, n)
	if n == 0 or latency.max <= 1000000 then
		return 0
	end
	local lo, hi = 0, n -- sample lo is within 1 s (0: none is); sample hi is not
	while hi - lo > 1 do
		local mid = math.floor((lo + hi) / 2)
		if latency:percentile(100 * (mid - 0.5) / n) <= 1000000 then
			lo = mid
		else
			hi = mid
		end
	end
	return n - lo
end

done = function(summary, latency, requests)
	io.write(string.format("stats requests=%d p50=%d p99=%d p999=%d max=%d over1s=%d timeouts=%d\n",
		summary.requests, latency:percentile(50), latency:percentile(99),
		latency:percentile(99.9), latency.max, over_one_second(latency, summary.requests),
		summary.errors.timeout))
end
