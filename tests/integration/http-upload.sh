#!/bin/sh
# Large bodies through POST /echo with curl: 10 MB chunked and 10 MB with
# Content-Length come back intact (sha256), on one connection together
# with a GET; a body over opt.max_body (16M here) is refused with 413.
. "$top_srcdir/tests/integration/http-lib.sh"

command -v curl >/dev/null 2>&1 || {
	echo "SKIP: no curl" >&2
	exit 77
}

http_config 1 'opt.max_body = 16M' >"$HT/vkd.ini"
http_start "$HT/vkd.ini"
URL=http://127.0.0.1:$HPORT

head -c 10485760 /dev/urandom >"$HT/up" || hfail "cannot make the upload file"
want=$(sha256sum <"$HT/up" | cut -d' ' -f1)

# ---- 10 MB chunked ----
code=$(curl -sS --max-time 30 -H 'Transfer-Encoding: chunked' --data-binary @"$HT/up" \
	-D "$HT/h1" -o "$HT/down1" -w '%{http_code}' "$URL/echo") || hfail "curl chunked upload failed"
[ "$code" = 200 ] || hfail "chunked upload: status $code"
got=$(sha256sum <"$HT/down1" | cut -d' ' -f1)
[ "$got" = "$want" ] || hfail "chunked upload: echoed $(wc -c <"$HT/down1") bytes, sha256 differs"
grep -qi '^transfer-encoding: *chunked' "$HT/h1" || hfail "chunked upload not echoed chunked: $(cat "$HT/h1")"

# ---- 10 MB Content-Length ----
code=$(curl -sS --max-time 30 --data-binary @"$HT/up" -D "$HT/h2" -o "$HT/down2" \
	-w '%{http_code}' "$URL/echo") || hfail "curl Content-Length upload failed"
[ "$code" = 200 ] || hfail "Content-Length upload: status $code"
got=$(sha256sum <"$HT/down2" | cut -d' ' -f1)
[ "$got" = "$want" ] || hfail "Content-Length upload: echoed $(wc -c <"$HT/down2") bytes, sha256 differs"
grep -qi '^content-length: *10485760' "$HT/h2" || hfail "echo without the length: $(cat "$HT/h2")"

# ---- without Expect: 100-continue, and both uploads plus a GET on one connection ----
out=$(curl -sS --max-time 60 -H 'Expect:' -w '[%{http_code} %{num_connects}]' \
	--data-binary @"$HT/up" -o "$HT/down3" "$URL/echo" \
	--next -H 'Expect:' -H 'Transfer-Encoding: chunked' -w '[%{http_code} %{num_connects}]' \
	--data-binary @"$HT/up" -o "$HT/down4" "$URL/echo" \
	--next -w '[%{http_code} %{num_connects}]' "$URL/") || hfail "curl --next failed: $out"
[ "$out" = '[200 1][200 0]Hello, World!
[200 0]' ] || hfail "uploads on one connection: $out"
for f in down3 down4; do
	got=$(sha256sum <"$HT/$f" | cut -d' ' -f1)
	[ "$got" = "$want" ] || hfail "$f: echoed $(wc -c <"$HT/$f") bytes, sha256 differs"
done

# ---- over max_body: 413, and the body is not read ----
head -c 17825792 /dev/zero >"$HT/big"
code=$(curl -sS --max-time 30 --data-binary @"$HT/big" -o /dev/null -w '%{http_code}' \
	"$URL/echo" 2>"$HT/err") || true
[ "$code" = 413 ] || hfail "17 MB upload: expected 413, got '$code' $(cat "$HT/err")"

http_stop
exit 0
