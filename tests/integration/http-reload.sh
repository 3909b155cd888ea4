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
def exchange(c, rnd):
    c.send(get("/"))
    r = c.read_response()
    check_hello(r)
    return r


keepalive_load(PORT, T + "/stop", exchange)
EOF
load=$!
note_pids "$load"
reload_under_load 2 "$load"
stop_vkd
exit 0
