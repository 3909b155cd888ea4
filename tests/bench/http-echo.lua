-- wrk script for tests/bench/http: POST /echo with a large body.
--
--	VKD_BENCH_BODY=262144 wrk ... -s http-echo.lua URL
--
-- Every request is "POST /echo" with a body of VKD_BENCH_BODY bytes
-- (default 256 KiB) that vkd's http app sends back. The request is static
-- (built once by wrk). done() is http-stats.lua's.
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "http-stats.lua")

wrk.method = "POST"
wrk.path = "/echo"
wrk.body = string.rep("x", tonumber(os.getenv("VKD_BENCH_BODY") or "") or 262144)
