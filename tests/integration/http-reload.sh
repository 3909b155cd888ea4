#!/bin/sh
# Hot reload loses no request: 16 keep-alive HTTP clients run requests
# back to back while vkctl swaps in three new generations. A request fails
# when its connection is refused, or closed or reset before its complete
# answer; a client whose answer says "Connection: close" (the draining
# generation's goodbye) reconnects, which is fine. Every answer must be a
# correct 200.
. "$top_srcdir/tests/integration/lib.sh"
need_vkctl

serve_http 2
wait_ready 2

# The load runs in the background until $T/stop appears (bounded: 30 s).
http_py >"$T/load.out" 2>&1 <<'EOF' &
import os, socket, threading, time

failures, answered, reconnects = [], [0], [0]
lock = threading.Lock()
deadline = time.monotonic() + 30


def client(n):
    c = None
    while not os.path.exists(T + "/stop") and time.monotonic() < deadline:
        try:
            if c is None:
                c = Conn(PORT, timeout=10)
            c.send(get("/"))
            r = c.read_response()
            check_hello(r)
            with lock:
                answered[0] += 1
            if r.closes():
                c.close()
                c = None
                with lock:
                    reconnects[0] += 1
        except Exception as e:
            with lock:
                failures.append("client %d: %r" % (n, e))
            if c is not None:
                c.close()
            c = None


threads = [threading.Thread(target=client, args=(n,)) for n in range(16)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("answered %d, reconnected %d, failed %d" % (answered[0], reconnects[0], len(failures)))
for f in failures[:10]:
    print(f)
check(not failures, "%d requests failed" % len(failures))
check(answered[0] > 100, "only %d requests answered" % answered[0])
check(reconnects[0] > 0, "no connection was told to close: was there a reload?")
EOF
load=$!
note_pids "$load"

sleep 1
gen=1
for round in 1 2 3; do
	ctl reload --wait >"$T/reload.out" 2>&1 || fail "reload $round: $(cat "$T/reload.out")"
	gen=$((gen + 1))
	wait_ready 2 "$gen" 10000 || fail "generation $gen is not ready"
	sleep 1
done
touch "$T/stop"
wait "$load"
status=$?
cat "$T/load.out"
[ "$status" -eq 0 ] || fail "the load saw failures"
stop_vkd
exit 0
