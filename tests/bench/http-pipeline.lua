-- wrk script for tests/bench/http: HTTP/1.1 pipelining.
--
--	wrk -t2 -c100 -d10s --latency -s http-pipeline.lua URL -- [DEPTH]
--
-- Each write on a connection carries DEPTH (default 16) keep-alive
-- requests for the URL's path, built once with wrk.format() in init();
-- wrk counts every response, and a latency is measured from the write of
-- the batch its request was in. done() is http-stats.lua's.
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "http-stats.lua")

local depth = 16

init = function(args)
	depth = tonumber(args[1]) or depth
	local r = {}
	for i = 1, depth do
		r[i] = wrk.format(nil, nil)
	end
	req = table.concat(r)
end

request = function()
	return req
end
