# Sourced by the proxy-*.sh tests after lib.sh: upstreams to proxy to,
# and a config with the proxy app. The upstreams are python servers
# (proxy_upstream.py); they exit by themselves after 120 s, and the EXIT
# trap stops them first.

need_python

UPSTREAM_PIDS=""

proxy_cleanup() {
	_prc=$?
	# Only if still ours: a retried upstream's pid may be reused by now.
	for _p in $UPSTREAM_PIDS; do
		! ours "$_p" || kill "$_p" 2>/dev/null
	done
	(exit "$_prc")
	cleanup
}
trap proxy_cleanup EXIT

# start_upstream SCRIPT ARGS...: start the python server
# tests/integration/SCRIPT with ARGS and wait until it says it listens.
# When its port was taken meanwhile (it says "taken PORT" and exits 98),
# the port moves (move_port, lib.sh) in ARGS too, and it starts again, at
# most 5 times.
start_upstream() {
	_script=$1
	shift
	for _try in 1 2 3 4 5 6; do
		_out=$T/upstream.$(echo "$_script $*" | tr -c 'a-zA-Z0-9' _)
		"$PYTHON" "$top_srcdir/tests/integration/$_script" "$@" >"$_out" 2>&1 &
		_upid=$!
		UPSTREAM_PIDS="$UPSTREAM_PIDS $_upid"
		note_pids "$_upid"
		_end=$(($(now_ms) + 5000))
		until grep -qx ready "$_out" 2>/dev/null; do
			if ! alive "$_upid"; then
				_rc=0
				wait "$_upid" || _rc=$?
				break
			fi
			[ "$(now_ms)" -lt "$_end" ] || fail "upstream $_script $*: $(cat "$_out")"
			sleep 0.02
		done
		grep -qx ready "$_out" 2>/dev/null && return 0
		_taken=$(sed -n 's/^taken \([0-9][0-9]*\)$/\1/p' "$_out")
		[ "$_rc" -eq 98 ] && [ -n "$_taken" ] && [ "$_try" -lt 6 ] ||
			fail "upstream $_script $*: $(cat "$_out")"
		move_port "$_taken"
		_args=""
		for _a in "$@"; do
			[ "$_a" != "$_taken" ] || _a=$PICKED
			_args="$_args $_a"
		done
		# shellcheck disable=SC2086 # the arguments have no blanks
		set -- $_args
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

new_port EPORT
