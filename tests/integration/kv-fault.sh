#!/bin/sh
# A kv shard that faults, over 2 workers: the request that crashed it gets
# an error reply, and so does the next request of another connection that
# had a channel to it (it saw EPIPE); the shard is restarted, counted, and
# starts empty; the other worker's shard keeps every key; no connection is
# lost. With opt.handoff = off: each client stays in its own micro-process
# (handed to its worker's shard, the clients of the faulted shard would
# close with it, as kv-handoff.sh checks).
. "$top_srcdir/tests/integration/lib.sh"
need_vkctl

KV_WORKERS=2
serve_app kv 2 'opt.crash_command = on' 'opt.handoff = off'

kv_py <<'EOF'
shards = keys_by_shard(WORKERS_N, 10)
a, b = Redis(PORT), Redis(PORT)
for keys in shards.values():
    for k in keys:
        check(a.cmd("SET", k, "v" + k) == "OK", "SET " + k)
# b talks to shard 1 too: it holds a channel to it.
check(b.cmd("GET", shards[1][0]) == ("v" + shards[1][0]).encode(), "b GET")

got = a.cmd("DEBUG", "SEGFAULT", shards[1][0])
check(isinstance(got, Err), "the crashing request: %r" % got)
got = b.cmd("GET", shards[1][1])
check(isinstance(got, Err), "b's next request to the dead shard: %r" % got)

# The restarted shard answers, empty: what the old one held is gone.
end = time.time() + 5
while True:
    got = b.cmd("GET", shards[1][1])
    if not isinstance(got, Err) or time.time() > end:
        break
    time.sleep(0.05)
check(got is None, "GET from the restarted shard: %r" % got)
check(all(a.cmd("GET", k) is None for k in shards[1]), "shard 1 keys survived a restart")

# The other shard lost nothing, and both connections go on.
for k in shards[2]:
    check(a.cmd("GET", k) == ("v" + k).encode(), "shard 2 lost " + k)
check(a.cmd("PING") == "PONG" and b.cmd("PING") == "PONG", "connections lost")
check(a.cmd("SET", shards[1][0], "again") == "OK", "SET on the new shard")
check(b.cmd("GET", shards[1][0]) == b"again", "GET on the new shard")
EOF

# The fault's log line names the app the service belongs to (the place).
grep -q 'app kv: micro-process .*SIGSEGV' "$LOG" || fail "no fault line naming app kv"

status_json >/dev/null
[ "$(jget 'd["totals"]["service_restarts"]' <"$T/status.json")" = 1 ] ||
	fail "service restarts: $(cat "$T/status.json")"
[ "$(jget 'd["totals"]["faults"]' <"$T/status.json")" = 1 ] ||
	fail "faults: $(cat "$T/status.json")"
[ "$(jget 'd["totals"]["services"]' <"$T/status.json")" = 2 ] ||
	fail "services: $(cat "$T/status.json")"
[ "$(jget 'd["totals"]["connections"]' <"$T/status.json")" = 0 ] ||
	fail "connections left: $(cat "$T/status.json")"

stop_vkd
exit 0
