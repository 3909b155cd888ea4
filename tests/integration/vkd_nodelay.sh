#!/bin/sh
# Accepted TCP connections get TCP_NODELAY (no Nagle delay on answers
# written in pieces), and tcp_nodelay = off in the app's section turns it
# off; a reload applies the new setting to the listening socket that the
# generations share. The trap app tells its own connection's setting.
. "$top_srcdir/tests/integration/lib.sh"
need_python
need_vkctl

# nodelay_is EXPECTED WHAT: a new connection's TCP_NODELAY, as the app sees it.
nodelay_is() {
	got=$("$PYTHON" -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"!nodelay %d\n" % s.getsockname()[1])
data = b""
while not data.endswith(b"\n"):
    chunk = s.recv(64)
    if not chunk:
        break
    data += chunk
print(data.decode().strip())' "$PORT") || fail "$2: no answer"
	[ "$got" = "nodelay $1" ] || fail "$2: expected nodelay $1, the app says: $got"
}

serve_trap 2
nodelay_is 1 "by default"
nodelay_is 1 "by default, again"

trap_config 2 "tcp_nodelay = off" >"$CONF"
kill -HUP "$VKD_PID"
wait_ready 2 2 10000
nodelay_is 0 "tcp_nodelay = off, after a reload"
stop_vkd

serve_trap 1 "tcp_nodelay = on"
nodelay_is 1 "tcp_nodelay = on"
stop_vkd
exit 0
