#!/bin/sh
# examples/relay.c, an HTTP handler that calls another HTTP app and relays
# its answer: in front of examples/jsonapi.c, status, Content-Type and body
# pass through (200, 404; the path goes as sent, escapes kept), the
# upstream connection is reused from the worker's pool, a dead upstream is
# a 502, and vkd -t refuses a heap without room for the upstream socket,
# a missing opt.upstream, and a bad one at its own line.
. "$top_srcdir/tests/integration/lib.sh"
need_cmd curl
need_vkctl

RELAY=$top_builddir/examples/.libs/relay.so
JSONAPI=$top_builddir/examples/.libs/jsonapi.so
[ -f "$RELAY" ] || fail "$RELAY is not built"
[ -f "$JSONAPI" ] || fail "$JSONAPI is not built"
new_port UP

# relay_config UPSTREAM [EXTRA LINES...]: one worker, the relay on $PORT
# asking UPSTREAM, and jsonapi on $UP.
relay_config() {
	vkd_section 1
	printf '[app jsonapi]\nmodule = %s\nlisten = 127.0.0.1:%s\n\n' "$JSONAPI" "$UP"
	printf '[app relay]\nmodule = %s\nlisten = 127.0.0.1:%s\nopt.upstream = %s\n' \
		"$RELAY" "$PORT" "$1"
	shift
	for _line in "$@"; do
		echo "$_line"
	done
}

relay_config "127.0.0.1:$UP" "heap = 64k" >"$T/small.ini"
"$VKD" -t -c "$T/small.ini" >"$T/small.log" 2>&1 && fail "vkd -t took a 64k heap for the relay"
grep -q "relay" "$T/small.log" || fail "the refusal names no app: $(cat "$T/small.log")"
relay_config "" | grep -v '^opt.upstream' >"$T/noup.ini"
"$VKD" -t -c "$T/noup.ini" >"$T/noup.log" 2>&1 && fail "vkd -t took a relay without opt.upstream"
relay_config "no address" >"$T/badup.ini"
"$VKD" -t -c "$T/badup.ini" >"$T/badup.log" 2>&1 && fail "vkd -t took opt.upstream = no address"
line=$(grep -n '^opt.upstream' "$T/badup.ini" | cut -d: -f1)
grep -q "badup.ini:$line:" "$T/badup.log" || fail "the refusal is not at line $line: $(cat "$T/badup.log")"

relay_config "127.0.0.1:$UP" >"$CONF"
start_vkd "$CONF"
wait_port "$PORT" 10000
wait_port "$UP" 10000
URL=http://127.0.0.1:$PORT/relay

# expect WHAT EXPECTED CURL-ARGS...: curl's body, type and status, as "BODY [TYPE STATUS]".
expect() {
	_what=$1 _want=$2
	shift 2
	_got=$(curl -sS --max-time 10 -w ' [%{content_type} %{http_code}]' "$@" 2>&1) ||
		fail "$_what: curl: $_got"
	[ "$_got" = "$_want" ] || fail "$_what: expected '$_want', got '$_got'"
}

expect "a JSON answer" '{"hello":"you"} [application/json 200]' "$URL/hello/you"
expect "the path as sent" '{"hello":"a b"} [application/json 200]' "$URL/hello/a%20b"
expect "an escaped CRLF stays escaped" '{"hello":"a\r\nX: y"} [application/json 200]' \
	"$URL/hello/a%0d%0aX:%20y"
expect "the upstream's 404" 'Not Found
 [text/plain 404]' "$URL/nope"

pooled=$(status_total connects_pooled)
for _ in 1 2 3 4 5; do
	expect "again" '{"hello":"you"} [application/json 200]' "$URL/hello/you"
done
[ "$(status_total connects_pooled)" -ge $((pooled + 5)) ] ||
	fail "the upstream connection was not reused: $(cat "$T/status.json")"
stop_vkd

# A dead upstream: 502, and the connection goes on.
new_port DEAD
relay_config "127.0.0.1:$DEAD" >"$CONF"
start_vkd "$CONF"
wait_port "$PORT" 10000
out=$(curl -sS --max-time 10 -w ' %{http_code}\n' "$URL/hello/x" "$URL/hello/y" 2>&1) ||
	fail "dead upstream: $out"
[ "$(echo "$out" | grep -c ' 502$')" = 2 ] || fail "dead upstream: $out"
stop_vkd
exit 0
