#!/bin/sh
# The HTTP reverse proxy (proxy.so, opt.mode = http) in front of a python
# upstream (proxy_http_upstream.py), with curl as the client: fields passed
# on (hop-by-hop ones dropped, X-Forwarded-For and Forwarded added),
# keep-alive to the upstream through the pool, bodies both ways in both
# framings byte for byte, HEAD and 204, bad answers (502), a slow upstream
# (504), an upstream down (502) or skipped, an answer cut short.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/proxy_lib.sh"
need_cmd curl
need_vkctl

new_port U && new_port DEAD
http_upstream "$U"

proxy_config 1 "127.0.0.1:$U" 'opt.mode = http' 'opt.read_timeout = 1s' >"$CONF"
serve "$CONF" 1
URL="http://127.0.0.1:$PORT"
C="curl -sS --max-time 20"

# Fields both ways, and one upstream connection for requests of separate clients.
for i in 1 2 3; do
	$C -D "$T/h$i" -o "$T/echo$i" -H 'Connection: X-Secret' -H 'X-Secret: no' \
		-H 'X-Forwarded-For: 192.0.2.1' "$URL/echo?x=$i" || fail "GET /echo"
done
py <<'PY'
import json
for i in (1, 2, 3):
    e = json.load(open(T + "/echo%d" % i))
    f = {n.lower(): v for n, v in e["fields"]}
    check(e["method"] == "GET" and e["path"] == "/echo?x=%d" % i, "request line: %r" % e)
    check(f.get("host") == "127.0.0.1:%d" % PORT, "Host passed on: %r" % f)
    check(f.get("x-forwarded-for") == "192.0.2.1, 127.0.0.1", "X-Forwarded-For: %r" % f)
    check(f.get("forwarded", "").startswith("for=127.0.0.1;proto=http"), "Forwarded: %r" % f)
    check("x-secret" not in f and "connection" not in f, "hop-by-hop fields passed: %r" % f)
    check(e["conn"] == 1, "request %d came on upstream connection %d, want 1 (pooled)" % (i, e["conn"]))
    h = open(T + "/h%d" % i).read().lower()
    check(h.startswith("http/1.1 200"), "status: %r" % h)
    check("x-up: yes" in h and "content-type: application/json" in h, "fields back: %r" % h)
    check("x-hop" not in h, "a field the upstream's Connection names came back: %r" % h)
PY

# Bodies both ways, byte for byte: Content-Length and chunked uploads, answers
# framed by length, by chunks, by the close.
head -c 3000000 /dev/urandom >"$T/payload"
$C -o "$T/back1" --data-binary "@$T/payload" "$URL/upload" || fail "POST with a length"
cmp -s "$T/payload" "$T/back1" || fail "the body with a length came back changed"
$C -o "$T/back2" -H 'Transfer-Encoding: chunked' --data-binary "@$T/payload" "$URL/upload" ||
	fail "POST chunked"
cmp -s "$T/payload" "$T/back2" || fail "the chunked body came back changed"
"$PYTHON" -c 'import sys; sys.stdout.buffer.write((bytes(range(256)) * 4096 * 2)[:1000000])' >"$T/want1m"
$C -o "$T/chunked" "$URL/chunked?n=1000000" || fail "GET chunked"
cmp -s "$T/want1m" "$T/chunked" || fail "the chunked answer came through changed"
$C -o "$T/big" "$URL/big?n=1000000" || fail "GET big"
cmp -s "$T/want1m" "$T/big" || fail "the answer with a length came through changed"
$C -o "$T/close" "$URL/close" || fail "GET close-delimited"
[ "$(wc -c <"$T/close")" -eq 100000 ] || fail "the close-delimited answer: $(wc -c <"$T/close") bytes"

# HEAD keeps the upstream's length; 204 has no body.
$C -I -o /dev/null -D "$T/head" "$URL/big?n=12345" || fail "HEAD"
grep -qi '^content-length: 12345' "$T/head" || fail "HEAD's length: $(cat "$T/head")"
[ "$($C -o /dev/null -w '%{http_code}' "$URL/204")" = 204 ] || fail "204"

# Bad answers are 502, a slow one 504, a vanished one 502; the proxy goes on.
for p in bad badlf reset; do
	code=$($C -o /dev/null -w '%{http_code}' "$URL/$p")
	[ "$code" = 502 ] || fail "/$p: $code, want 502"
done
code=$($C -o /dev/null -w '%{http_code}' "$URL/slow")
[ "$code" = 504 ] || fail "/slow: $code, want 504"
$C -o /dev/null "$URL/cut" 2>/dev/null && fail "an answer cut short arrived whole"
[ "$($C -o /dev/null -w '%{http_code}' "$URL/echo")" = 200 ] || fail "the proxy stopped answering"
grep -q "127.0.0.1:$U" "$LOG" || fail "no log line names the failing upstream"
stop_vkd

# An upstream down: 502; with another up, every request answered.
new_log
proxy_config 1 "127.0.0.1:$DEAD" 'opt.mode = http' >"$CONF"
serve "$CONF" 1
[ "$($C -o /dev/null -w '%{http_code}' "$URL/echo")" = 502 ] || fail "no upstream: want 502"
stop_vkd
new_log
proxy_config 1 "127.0.0.1:$DEAD 127.0.0.1:$U" 'opt.mode = http' >"$CONF"
serve "$CONF" 1
for i in 1 2 3 4; do
	[ "$($C -o /dev/null -w '%{http_code}' "$URL/echo")" = 200 ] || fail "a refusing upstream was not skipped"
done
stop_vkd
exit 0
