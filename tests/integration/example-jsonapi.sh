#!/bin/sh
# examples/jsonapi.c, the JSON API of the README, with curl: a route
# parameter, a POST body parsed as JSON (400 when it is not an array of
# numbers, 413 over 4 KiB), a per-worker counter, and the library's 404
# and 405.
. "$top_srcdir/tests/integration/lib.sh"
need_cmd curl python3

MOD=$top_builddir/examples/.libs/jsonapi.so
[ -f "$MOD" ] || fail "$MOD is not built"
{
	vkd_section 2
	printf '[app jsonapi]\nmodule = %s\nlisten = 127.0.0.1:%s\n' "$MOD" "$PORT"
} >"$CONF"
start_vkd "$CONF"
wait_port "$PORT" 10000
note_workers
URL=http://127.0.0.1:$PORT

# expect WHAT EXPECTED CURL-ARGS...: curl's body and status, as "BODY [STATUS]".
expect() {
	_what=$1 _want=$2
	shift 2
	_got=$(curl -sS --max-time 10 -w ' [%{http_code}]' "$@" 2>&1) || fail "$_what: curl: $_got"
	[ "$_got" = "$_want" ] || fail "$_what: expected '$_want', got '$_got'"
}

expect "a parameter" '{"hello":"you"} [200]' "$URL/hello/you"
expect "a parameter, decoded" '{"hello":"a b"} [200]' "$URL/hello/a%20b"
expect "a parameter, not UTF-8" ' [400]' "$URL/hello/%ff"
expect "a sum" '{"sum":6.5,"count":3} [200]' -H 'Content-Type: application/json' \
	--data-binary '[1, 2, 3.5]' "$URL/sum"
expect "a sum, chunked" '{"sum":0.0,"count":0} [200]' -H 'Transfer-Encoding: chunked' \
	--data-binary '[]' "$URL/sum"
expect "not JSON" ' [400]' --data-binary 'nope' "$URL/sum"
expect "not a number" ' [400]' --data-binary '[1, "x"]' "$URL/sum"
expect "no body" ' [400]' -X POST "$URL/sum"
big=$(printf '%05000d' 0)
expect "a body over 4 KiB" ' [413]' --data-binary "[$big]" "$URL/sum"
expect "no route" 'Not Found
 [404]' "$URL/nope"
allow=$(curl -sS --max-time 10 -o /dev/null -D - -X POST "$URL/stats" | tr -d '\r' |
	sed -n 's/^Allow: //p')
[ "$allow" = "GET, HEAD" ] || fail "POST /stats: Allow '$allow'"

# Two requests on one connection reach one worker: its count goes up by one.
out=$(curl -sS --max-time 10 -w ' %{num_connects}\n' "$URL/stats" "$URL/stats") ||
	fail "stats: $out"
echo "$out" | python3 -c '
import json, sys
(a, c1), (b, c2) = (l.rsplit(" ", 1) for l in sys.stdin.read().splitlines())
a, b = json.loads(a), json.loads(b)
assert (c1, c2) == ("1", "0"), "two connections: %r" % ((c1, c2),)
assert a["pid"] == b["pid"] and b["requests"] == a["requests"] + 1, (a, b)
' || fail "the per-worker counter: $out"
stop_vkd
exit 0
