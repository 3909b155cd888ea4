#!/bin/sh
# Large bodies through POST /echo with curl: 10 MB chunked and 10 MB with
# Content-Length come back intact (sha256), on one connection together
# with a GET; a body over opt.max_body (16M here) is refused with 413.
. "$top_srcdir/tests/integration/lib.sh"
need_python

need_cmd curl

serve_http 1 'opt.max_body = 16M'
URL=http://127.0.0.1:$PORT

head -c 10485760 /dev/urandom >"$T/up" || fail "cannot make the upload file"
want=$(sha256sum <"$T/up" | cut -d' ' -f1)

# ---- 10 MB chunked ----
code=$(curl -sS --max-time 30 -H 'Transfer-Encoding: chunked' --data-binary @"$T/up" \
	-D "$T/h1" -o "$T/down1" -w '%{http_code}' "$URL/echo") || fail "curl chunked upload failed"
[ "$code" = 200 ] || fail "chunked upload: status $code"
got=$(sha256sum <"$T/down1" | cut -d' ' -f1)
[ "$got" = "$want" ] || fail "chunked upload: echoed $(wc -c <"$T/down1") bytes, sha256 differs"
grep -qi '^transfer-encoding: *chunked' "$T/h1" || fail "chunked upload not echoed chunked: $(cat "$T/h1")"

# ---- 10 MB Content-Length ----
code=$(curl -sS --max-time 30 --data-binary @"$T/up" -D "$T/h2" -o "$T/down2" \
	-w '%{http_code}' "$URL/echo") || fail "curl Content-Length upload failed"
[ "$code" = 200 ] || fail "Content-Length upload: status $code"
got=$(sha256sum <"$T/down2" | cut -d' ' -f1)
[ "$got" = "$want" ] || fail "Content-Length upload: echoed $(wc -c <"$T/down2") bytes, sha256 differs"
grep -qi '^content-length: *10485760' "$T/h2" || fail "echo without the length: $(cat "$T/h2")"

# ---- without Expect: 100-continue, and both uploads plus a GET on one connection ----
out=$(curl -sS --max-time 60 -H 'Expect:' -w '[%{http_code} %{num_connects}]' \
	--data-binary @"$T/up" -o "$T/down3" "$URL/echo" \
	--next -H 'Expect:' -H 'Transfer-Encoding: chunked' -w '[%{http_code} %{num_connects}]' \
	--data-binary @"$T/up" -o "$T/down4" "$URL/echo" \
	--next -w '[%{http_code} %{num_connects}]' "$URL/") || fail "curl --next failed: $out"
[ "$out" = '[200 1][200 0]Hello, World!
[200 0]' ] || fail "uploads on one connection: $out"
for f in down3 down4; do
	got=$(sha256sum <"$T/$f" | cut -d' ' -f1)
	[ "$got" = "$want" ] || fail "$f: echoed $(wc -c <"$T/$f") bytes, sha256 differs"
done

# ---- over max_body: 413, and the body is not read ----
head -c 17825792 /dev/zero >"$T/big"
code=$(curl -sS --max-time 30 --data-binary @"$T/big" -o /dev/null -w '%{http_code}' \
	"$URL/echo" 2>"$T/err") || true
[ "$code" = 413 ] || fail "17 MB upload: expected 413, got '$code' $(cat "$T/err")"

stop_vkd
exit 0
