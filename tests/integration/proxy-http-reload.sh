#!/bin/sh
# Reloads under HTTP-proxied load lose no request: 16 keep-alive clients
# send requests back to back through the HTTP proxy (opt.mode = http) to a
# python upstream (proxy_http_upstream.py) while vkctl swaps in three new
# generations. Each request is a GET of a body of a random length or a
# POST of random bytes echoed back, checked byte for byte. A request fails
# when its connection is refused, or closed or reset before its complete
# answer, or the answer is not a correct 200; an answer saying
# "Connection: close" (the draining generation's goodbye) makes the client
# reconnect, which is fine.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/proxy_lib.sh"
need_vkctl

new_port U
http_upstream "$U"

proxy_config 2 "127.0.0.1:$U" 'opt.mode = http' >"$CONF"
serve "$CONF" 2
wait_ready 2

# The load runs in the background until $T/stop appears (bounded: 30 s).
http_py >"$T/load.out" 2>&1 <<'PY' &
import os, random, threading, time

PATTERN = bytes(range(256)) * 4096
failures, answered, reconnects = [], [0], [0]
lock = threading.Lock()
deadline = time.monotonic() + 30


def one(c, rnd):
    n = rnd.randrange(0, 300000)
    if rnd.random() < 0.5:
        c.send(get("/big?n=%d" % n))
        want = (PATTERN * (n // len(PATTERN) + 1))[:n]
    else:
        want = rnd.randbytes(n)
        c.send(get("/upload", method="POST", body=want,
                   headers=["Content-Length: %d" % n]))
    r = c.read_response()
    check(r.status == 200, "status %r" % r)
    check(r.body == want, "a body of %d bytes came back as %d different ones" % (n, len(r.body)))
    return r


def client(n):
    rnd = random.Random(n)
    c = None
    while not os.path.exists(T + "/stop") and time.monotonic() < deadline:
        try:
            if c is None:
                c = Conn(PORT, timeout=10)
            r = one(c, rnd)
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
PY
load=$!
note_pids "$load"

sleep 1
gen=1
for round in 1 2 3; do
	ctl reload --wait >"$T/reload.out" 2>&1 || fail "reload $round: $(cat "$T/reload.out")"
	gen=$((gen + 1))
	wait_ready 2 "$gen" 10000
	sleep 1
done
touch "$T/stop"
wait "$load"
status=$?
cat "$T/load.out"
[ "$status" -eq 0 ] || fail "the load saw failures"
stop_vkd
exit 0
