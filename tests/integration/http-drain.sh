#!/bin/sh
# Drain on SIGTERM: a keep-alive connection that sends its next request
# after the signal gets a complete 200 with Connection: close, then the
# server closes it, and vkd exits 0 with no process left. A keep-alive
# connection that stays silent does not hold the drain up to
# drain_timeout (10s here): vkd is gone within a few seconds.
. "$top_srcdir/tests/integration/lib.sh"
need_python

# ---- the next request after SIGTERM is answered, with Connection: close ----
serve_http 2
http_py <<'EOF'
import signal
conns = []
for _ in range(4):  # a few, so that both workers are likely to hold one
    c = Conn(PORT)
    c.send(get("/"))
    check_hello(c.read_response())
    conns.append(c)
# One more with a request in the middle of its head at the signal.
mid = Conn(PORT)
mid.send(get("/"))
check_hello(mid.read_response())
mid.send(b"GET / HTTP/1.1\r\nHo")
os.kill(VKD_PID, signal.SIGTERM)
# Late enough for the workers to have seen the signal, and well inside
# the grace a draining worker gives idle connections.
time.sleep(0.3)
for c in conns:
    c.send(get("/"))
mid.send(b"st: a\r\n\r\n")
for i, c in enumerate(conns):
    check_hello_closes(c, "connection %d: request after SIGTERM" % i)
check_hello_closes(mid, "request spanning SIGTERM")
EOF
expect_vkd_exit 5000 "after its connections closed"

# ---- an idle keep-alive connection does not hold the drain up ----
new_log
serve_http 1 'idle_timeout = 60s'
http_py <<'EOF'
import signal
c = Conn(PORT)
c.send(get("/"))
check_hello(c.read_response())
# The server lets the idle client go (a close, no answer) well before
# drain_timeout (10s) or idle_timeout (60s).
signal_lets_go(c, VKD_PID, signal.SIGTERM, 4.0, "idle keep-alive connection")
EOF
expect_vkd_exit 3000 "after its idle connection was let go"
exit 0
