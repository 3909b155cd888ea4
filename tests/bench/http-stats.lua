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
done = function(summary, latency, requests)
	local over = 0
	for us = 1000001, #latency do
		over = over + latency[us]
	end
	io.write(string.format("stats requests=%d p50=%d p99=%d p999=%d max=%d over1s=%d timeouts=%d\n",
		summary.requests, latency:percentile(50), latency:percentile(99),
		latency:percentile(99.9), latency.max, over, summary.errors.timeout))
end
