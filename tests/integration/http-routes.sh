#!/bin/sh
# Routes mounted from vkd.ini (`route = METHODS PATTERN HANDLER`) beside
# the routes an app declares in C (httpmod.c), with curl against a real
# vkd: a handler the module exports, with parameters and a tail; a static
# directory; a line taking over a C route's path; 404, and 405 whose Allow
# joins both sources. A reload that changes the lines, under keep-alive
# load on a mounted route, fails no request and serves the new lines.
# Then `vkd -t` refuses each kind of bad line, naming the file and the
# line: unknown method, malformed path, malformed parameter, a handler not
# exported, a symbol of another kind, a bare function, a static directory
# that does not exist or is not a directory, a duplicate, and lines for an
# app that is not an HTTP app.
. "$top_srcdir/tests/integration/lib.sh"
need_python
need_vkctl
need_cmd curl

W=$T/www
mkdir -p "$W/sub" || fail "mkdir"
printf 'from the directory\n' >"$W/a.txt"
printf '<p>index</p>\n' >"$W/sub/index.html"
MOD=$TESTMODDIR/httpmod.so

# routes_config LINES...: the handlers app on $PORT with these app lines.
routes_config() {
	vkd_section 1
	printf '[app handlers]\nmodule = %s\nlisten = 127.0.0.1:%s\n' "$MOD" "$PORT"
	for _line in "$@"; do
		echo "$_line"
	done
}

# get METHOD PATH: "STATUS BODY" of one request (curl), the body's newline dropped.
get() {
	curl -sS -X "$1" -o "$T/body" -w '%{http_code}' "http://127.0.0.1:$PORT$2" >"$T/code" ||
		fail "curl $1 $2"
	printf '%s %s' "$(cat "$T/code")" "$(tr -d '\n' <"$T/body")"
}

# expect_get METHOD PATH "STATUS BODY"
expect_get() {
	_got=$(get "$1" "$2")
	[ "$_got" = "$3" ] || fail "$1 $2: got '$_got', want '$3'"
}

# allow_of METHOD PATH: the Allow field of the answer (405).
allow_of() {
	curl -sS -X "$1" -D - -o /dev/null "http://127.0.0.1:$PORT$2" |
		tr -d '\r' | sed -n 's/^[Aa]llow: //p'
}

routes_config \
	'route = GET /greet hello' \
	'route = GET /people/:id/posts/:post params' \
	'route = GET,POST /tail/* tail' \
	'route = * /anything any' \
	'route = GET /www/* static:www' \
	'route = PUT /hello any' \
	'route = GET /version hello' >"$CONF"
# static:www is relative to the file's directory, as access_log is.
start_vkd "$CONF"
wait_port "$PORT" 10000
wait_ready 1

# An exported handler, its parameters (percent-decoded) and a tail.
expect_get GET /greet "200 hello"
expect_get GET "/people/a%20b/posts/7?x=1" "200 id=a b post=7 path=/people/a%20b/posts/7 query=x=1"
expect_get GET /tail/x/y "200 tail=x/y"
expect_get POST /tail/ "200 tail="
expect_get PATCH /anything "200 PATCH"
# The static directory: a file, an index, HEAD, a missing file, a way out.
expect_get GET /www/a.txt "200 from the directory"
expect_get GET /www/sub/ "200 <p>index</p>"
[ "$(curl -sS -I -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/www/a.txt")" = 200 ] ||
	fail "HEAD of a static file"
expect_get GET /www/nope.txt "404 Not found"
expect_get GET /www/%2e%2e/httpmod.so "400 Bad path"
# The app's own routes still answer; a line comes first: /version is the line's.
expect_get GET /hello "200 hello"
expect_get GET /version "200 hello"
expect_get PUT /hello "200 PUT"
# 404, and 405 whose Allow joins the C route (GET) and the line (PUT).
expect_get GET /nowhere "404 Not Found"
[ "$(get DELETE /hello | cut -d' ' -f1)" = 405 ] || fail "DELETE /hello is not 405"
[ "$(allow_of DELETE /hello)" = "GET, HEAD, PUT" ] || fail "Allow: '$(allow_of DELETE /hello)'"
[ "$(allow_of POST /www/a.txt)" = "GET, HEAD" ] || fail "static Allow: '$(allow_of POST /www/a.txt)'"
[ "$(allow_of DELETE /tail/z)" = "GET, HEAD, POST" ] || fail "tail Allow: '$(allow_of DELETE /tail/z)'"

# Reload with other lines, under load on a route both configurations mount.
routes_config \
	'route = GET /greet hello' \
	'route = GET /hi/:name params' \
	'route = GET /files/* static:www/sub' >"$CONF"
http_py >"$T/load.out" 2>&1 <<'EOF' &
def exchange(c, rnd):
    c.send(get("/greet"))
    r = c.read_response()
    check(r.status == 200 and r.body == b"hello\n", "GET /greet: %r" % r)
    return r


keepalive_load(PORT, T + "/stop", exchange)
EOF
load=$!
note_pids "$load"
reload_under_load 1 "$load"
expect_get GET /greet "200 hello"
expect_get GET /files/index.html "200 <p>index</p>"
# The removed lines are gone; /version is the app's own again.
expect_get GET /www/a.txt "404 Not Found"
expect_get GET /version "200 0"
expect_get PUT /hello "405 Method Not Allowed"
stop_vkd

# ---- vkd -t refuses each kind of bad line, naming the file and its line ----

# refused NAME LINE...: a config with these lines, refused by vkd -t
# (exit 1), with an error at the first line's "file:line:".
refused() {
	_name=$1
	shift
	_c=$T/bad.ini
	routes_config "$@" >"$_c"
	_line=$(grep -n '^route' "$_c" | tail -n 1 | cut -d: -f1)
	_out=$("$VKD" -t -c "$_c" 2>&1)
	_rc=$?
	[ "$_rc" -eq 1 ] || fail "$_name: vkd -t exit $_rc, want 1: $_out"
	case $_out in
	*"$_c:$_line: "*) ;;
	*) fail "$_name: no error at $_c:$_line: $_out" ;;
	esac
}

refused "unknown method" 'route = GTE /x hello'
refused "lower-case method" 'route = get /x hello'
refused "no handler" 'route = GET /x'
refused "malformed path" 'route = GET x/y hello'
refused "'*' inside the path" 'route = GET /a/*/b tail'
refused "malformed parameter" 'route = GET /a/:/b hello'
refused "parameter inside a segment" 'route = GET /a:b hello'
refused "repeated parameter" 'route = GET /:a/:a params'
refused "not a C name" 'route = GET /x hello-world'
refused "missing export" 'route = GET /x nosuch'
refused "a symbol of another kind" 'route = GET /x bogus'
refused "a bare function" 'route = GET /x httpmod_bare'
refused "a static directory that does not exist" "route = GET /s/* static:$T/none"
refused "a static file, not a directory" "route = GET /s/* static:$W/a.txt"
refused "static without a tail" "route = GET /s static:$W"
refused "static for POST" "route = POST /s/* static:$W"
refused "duplicate" 'route = GET /u/:id hello' 'route = GET,POST /u/:name params'
refused "duplicate through HEAD" 'route = GET /u hello' 'route = HEAD /u any'

# Lines for an app that is not an HTTP app.
{
	vkd_section 1
	printf '[app echo]\nmodule = echo.so\nlisten = 127.0.0.1:%s\nroute = GET /x hello\n' "$PORT"
} >"$T/echo.ini"
_line=$(grep -n '^route' "$T/echo.ini" | cut -d: -f1)
_out=$("$VKD" -t -c "$T/echo.ini" 2>&1) && fail "route lines on echo.so: accepted: $_out"
case $_out in
*"$T/echo.ini:$_line: "*) ;;
*) fail "route lines on echo.so: no error at line $_line: $_out" ;;
esac

# A good file passes.
routes_config 'route = GET /greet hello' "route = GET /s/* static:$W" >"$T/good.ini"
"$VKD" -t -c "$T/good.ini" >"$T/good.out" 2>&1 || fail "a good file refused: $(cat "$T/good.out")"
exit 0
