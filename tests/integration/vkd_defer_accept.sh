#!/bin/sh
# defer_accept in an app's section: the kernel hands a connection over
# only once its first bytes came (TCP_DEFER_ACCEPT), so a client that
# connected and sent nothing is no micro-process yet (vkctl ps), and one
# that sent its request is answered. By default, and after a reload turns
# it off on the listening socket the generations share, a silent client
# is accepted at once.
. "$top_srcdir/tests/integration/lib.sh"
need_python
need_vkctl

# silent_procs EXPECTED WHAT: the http processes vkctl ps lists while a
# client, connected, has sent nothing for half a second.
silent_procs() {
	got=$("$PYTHON" -c '
import json, socket, subprocess, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
time.sleep(0.5)
out = subprocess.run([sys.argv[2], "-s", sys.argv[3], "--json", "ps"], check=True,
                     stdout=subprocess.PIPE).stdout
print(sum(1 for p in json.loads(out)["procs"] if p["app"] == "http"))
s.close()' "$PORT" "$VKCTL" "$SOCK") || fail "$2: vkctl ps"
	[ "$got" = "$1" ] || fail "$2: expected $1 process(es) for a silent client, vkctl ps lists $got"
}

# answered WHAT: a request on a new connection gets its answer.
answered() {
	"$PYTHON" -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
data = b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
sys.exit(0 if data.startswith(b"HTTP/1.1 200") else 1)' "$PORT" || fail "$1: no answer"
}

serve_http 1 "defer_accept = 5s"
wait_ready 1
silent_procs 0 "defer_accept = 5s"
answered "defer_accept = 5s"

http_config 1 >"$CONF"
kill -HUP "$VKD_PID"
wait_ready 1 2 10000
silent_procs 1 "no defer_accept, after a reload"
answered "no defer_accept, after a reload"
stop_vkd

serve_http 1
wait_ready 1
silent_procs 1 "by default"
stop_vkd
exit 0
