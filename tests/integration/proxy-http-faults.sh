#!/bin/sh
# The HTTP reverse proxy when its upstream misbehaves, against
# proxy_http_upstream.py: an upstream closing or resetting halfway through
# a body (the client sees its answer cut, the worker goes on, no upstream
# descriptor is left behind), a field longer than 2048 bytes (passed on, up
# to opt.max_head), a status the library cannot send (502), and an early
# answer (413 before the body is read, then a reset: the client gets it).
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/proxy_lib.sh"
need_cmd curl
need_vkctl

new_port U
http_upstream "$U"

proxy_config 1 "127.0.0.1:$U" 'opt.mode = http' 'opt.read_timeout = 5s' >"$CONF"
serve "$CONF" 1
wait_ready 1
URL="http://127.0.0.1:$PORT"
C="curl -sS --max-time 20"
worker=$(status_pids)

# outbound_and_fds: "OUTBOUND POOLED FDS" of the worker.
outbound_and_fds() {
	printf '%s %s %s\n' "$(status_json | jget 'd["workers"][0]["outbound"]')" \
		"$(status_json | jget 'd["workers"][0]["pooled"]')" \
		"$(ls "/proc/$worker/fd" | wc -l)"
}

# One clean exchange first: one upstream connection in the pool.
[ "$($C -o /dev/null -w '%{http_code}' "$URL/echo")" = 200 ] || fail "GET /echo"
before=$(outbound_and_fds)
set -- $before
[ "$1" = 0 ] && [ "$2" = 1 ] || fail "after one exchange (none open, one idle): outbound, pooled, fds = $before"

# Cut or reset halfway through a body framed by length, or by chunks.
for i in 1 2 3; do
	for p in "midcut?n=2000000" "midreset?n=2000000" "midchunk"; do
		$C -o "$T/got" "$URL/$p" 2>/dev/null && fail "/$p: the cut answer arrived whole"
		n=$(wc -c <"$T/got")
		[ "$n" -lt 2000000 ] || fail "/$p: $n bytes"
	done
done
# The worker goes on, the same one, and its upstream connections were all closed.
[ "$($C -o /dev/null -w '%{http_code}' "$URL/echo")" = 200 ] || fail "no answer after the cuts"
[ "$(status_pids)" = "$worker" ] || fail "the worker changed: $worker -> $(status_pids)"
_end=$(($(now_ms) + 5000))
while [ "$(outbound_and_fds)" != "$before" ]; do
	[ "$(now_ms)" -lt "$_end" ] || fail "outbound, pooled, fds: $before before, $(outbound_and_fds) after"
	sleep 0.05
done

# Fields past the old 2048 bytes, up to opt.max_head (16k by default).
$C -D "$T/bigfield" -o /dev/null "$URL/bigfield?n=10000" || fail "GET /bigfield"
head -1 "$T/bigfield" | grep -q ' 200' || fail "a 10000-byte field: $(head -1 "$T/bigfield")"
"$PYTHON" - "$T/bigfield" <<'PY' || fail "the long field did not come through"
import sys
lines = open(sys.argv[1], "rb").read().split(b"\r\n")
sys.exit(0 if b"X-Big: " + b"b" * 10000 in lines else 1)
PY
code=$($C -o /dev/null -w '%{http_code}' "$URL/bigfield?n=20000")
[ "$code" = 502 ] || fail "a head past opt.max_head: $code, want 502"

# A status the library cannot send is a bad answer.
code=$($C -o /dev/null -w '%{http_code}' "$URL/status?n=600")
[ "$code" = 502 ] || fail "status 600: $code, want 502"
code=$($C -o /dev/null -w '%{http_code}' "$URL/status?n=599")
[ "$code" = 599 ] || fail "status 599: $code"

# An early answer, before the body was read, then the upstream's reset.
py <<'PY'
import threading

body = b"x" * 4000000
for i in range(3):
    s = socket.create_connection(("127.0.0.1", PORT), timeout=10)
    s.sendall(b"POST /early413 HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % len(body))

    def send():
        try:
            s.sendall(body)
        except OSError:
            pass
    t = threading.Thread(target=send, daemon=True)
    t.start()
    got = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
    except OSError:
        pass
    s.close()
    check(got.startswith(b"HTTP/1.1 413"), "early answer %d: %r" % (i, got[:200]))
    check(got.endswith(b"too large"), "early answer %d's body: %r" % (i, got[-200:]))
PY
[ "$($C -o /dev/null -w '%{http_code}' "$URL/echo")" = 200 ] || fail "no answer after the early ones"
stop_vkd
exit 0
