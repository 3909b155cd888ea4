#!/bin/sh
# A port picked free (free_port) but taken by another process before vkd
# or an upstream binds it: the bind fails with EADDRINUSE (proxy-tcp-dns.sh
# once failed so under load: a connect() given the port as its local one).
# The harness then moves the port, in the config and in its variable, and
# starts again (wait_port, start_upstream): the test goes on, on the new
# ports. Here a process of the test's own takes them on purpose: vkd's
# proxy port as the local port of a connection, the echo app's and an
# upstream's by listening.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/proxy_lib.sh"

# occupy HOW PORT: a process holding 127.0.0.1:PORT until killed (60 s at
# most), as a listener (HOW = listen) or as the local port of a
# connection to a listener of its own (HOW = connect).
occupy() {
	"$PYTHON" -c 'import socket, sys, time
how, port = sys.argv[1], int(sys.argv[2])
s = socket.socket()
s.bind(("127.0.0.1", port))
if how == "listen":
    s.listen(1)
else:
    peer = socket.socket()
    peer.bind(("127.0.0.1", 0))
    peer.listen(1)
    s.connect(peer.getsockname())
print("held", flush=True)
time.sleep(60)' "$1" "$2" >"$T/occupy.$2" 2>&1 &
	UPSTREAM_PIDS="$UPSTREAM_PIDS $!" # proxy_cleanup kills them
	note_pids "$!"
	_end=$(($(now_ms) + 5000))
	until grep -q held "$T/occupy.$2" 2>/dev/null; do
		[ "$(now_ms)" -lt "$_end" ] || fail "cannot take port $2: $(cat "$T/occupy.$2")"
		sleep 0.02
	done
}

proxy_taken=$PORT
echo_taken=$EPORT
new_port A
upstream_taken=$A
occupy connect "$PORT"
occupy listen "$EPORT"
occupy listen "$A"

upstream ident A "$A"
[ "$A" != "$upstream_taken" ] || fail "the upstream's port was not moved"
proxy_config 1 "127.0.0.1:$A" >"$CONF"
serve "$CONF" 1
[ "$PORT" != "$proxy_taken" ] || fail "the proxy's port was not moved"
[ "$EPORT" != "$echo_taken" ] || fail "the echo app's port was not moved"
grep -q "^listen = 127.0.0.1:$PORT\$" "$CONF" || fail "the config does not listen on $PORT"
[ "$("$VKCLIENT" ask "$EPORT" hello)" = hello ] || fail "echo on the moved port"
py <<'PY'
check(line_from(PORT) == "A", "the proxy on its moved port reaches the moved upstream")
PY
stop_vkd
exit 0
