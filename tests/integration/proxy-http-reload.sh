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
PATTERN = bytes(range(256)) * 4096


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


keepalive_load(PORT, T + "/stop", one)
PY
load=$!
note_pids "$load"
reload_under_load 2 "$load"
stop_vkd
exit 0
