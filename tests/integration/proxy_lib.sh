# Sourced by the proxy-*.sh tests after lib.sh: upstreams to proxy to,
# and a config with the proxy app. The upstreams are python servers
# (proxy_upstream.py); they exit by themselves after 120 s, and the EXIT
# trap stops them first.

need_python

UPSTREAM_PIDS=""

proxy_cleanup() {
	_prc=$?
	for _p in $UPSTREAM_PIDS; do
		kill "$_p" 2>/dev/null
	done
	(exit "$_prc")
	cleanup
}
trap proxy_cleanup EXIT

# start_upstream SCRIPT ARGS...: start the python server
# tests/integration/SCRIPT with ARGS and wait until it says it listens.
start_upstream() {
	_script=$1
	shift
	_out=$T/upstream.$(echo "$_script $*" | tr -c 'a-zA-Z0-9' _)
	"$PYTHON" "$top_srcdir/tests/integration/$_script" "$@" >"$_out" 2>&1 &
	UPSTREAM_PIDS="$UPSTREAM_PIDS $!"
	_end=$(($(now_ms) + 5000))
	until grep -q ready "$_out" 2>/dev/null; do
		[ "$(now_ms)" -lt "$_end" ] || fail "upstream $_script $*: $(cat "$_out")"
		sleep 0.02
	done
}

# upstream MODE ARGS...: proxy_upstream.py MODE ARGS... (TCP upstreams).
upstream() {
	start_upstream proxy_upstream.py "$@"
}

# http_upstream PORT: proxy_http_upstream.py on PORT (HTTP upstreams).
http_upstream() {
	start_upstream proxy_http_upstream.py "$@"
}

# proxy_config WORKERS 'UPSTREAMS' [EXTRA LINES FOR [app proxy]...]: a
# [vkd] section, the echo app on $EPORT (an upstream to use), and the
# proxy app on $PORT with opt.upstream = UPSTREAMS.
proxy_config() {
	vkd_section "$1"
	printf '[app echo]\nmodule = echo.so\nlisten = 127.0.0.1:%s\nbacklog = 4096\n' "$EPORT"
	printf '[app proxy]\nmodule = proxy.so\nlisten = 127.0.0.1:%s\nopt.upstream = %s\n' \
		"$PORT" "$2"
	shift 2
	for _line in "$@"; do
		echo "$_line"
	done
}

# py: python on stdin with PORT, EPORT and T set, and these helpers:
#   line_from(port): connect, read one line (the upstream's name), close
#   closed_at_once(port): the connection ends with no byte read
py() {
	"$PYTHON" -c 'import os, socket, sys, time
PORT, EPORT, T = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]


def check(cond, what):
    if not cond:
        print("FAIL:", what)
        sys.exit(1)


def line_from(port, timeout=10):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    data = b""
    while not data.endswith(b"\n"):
        chunk = s.recv(100)
        if not chunk:
            break
        data += chunk
    s.close()
    return data.decode().strip()


def closed_at_once(port, timeout=10):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        data = s.recv(100)
    except ConnectionResetError:
        data = b""
    s.close()
    return data == b""


exec(compile(sys.stdin.read(), "<test>", "exec"))' "$PORT" "$EPORT" "$T" || fail "python checks failed"
}

# new_port VAR: set VAR to a free port unlike $PORT and those new_port
# gave before (two free_port calls may give the same port: a test once
# listened twice on one).
TAKEN_PORTS=" $PORT "
new_port() {
	for _try in 1 2 3 4 5 6 7 8 9 10; do
		_port=$(free_port) || fail "no free port"
		case "$TAKEN_PORTS" in
		*" $_port "*) continue ;;
		esac
		TAKEN_PORTS="$TAKEN_PORTS$_port "
		eval "$1=$_port"
		return 0
	done
	fail "no free port unlike$TAKEN_PORTS"
}

new_port EPORT
