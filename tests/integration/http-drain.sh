#!/bin/sh
# Drain on SIGTERM: a keep-alive connection that sends its next request
# after the signal gets a complete 200 with Connection: close, then the
# server closes it, and vkd exits 0 with no process left. A keep-alive
# connection that stays silent does not hold the drain up to
# drain_timeout (10s here): vkd is gone within a few seconds.
. "$top_srcdir/tests/integration/http-lib.sh"

# ---- the next request after SIGTERM is answered, with Connection: close ----
http_config 2 >"$HT/vkd.ini"
http_start "$HT/vkd.ini"
http_note_workers
export HVKD_PID
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
os.kill(int(os.environ["HVKD_PID"]), signal.SIGTERM)
# Late enough for the workers to have seen the signal, and well inside
# the grace a draining worker gives idle connections.
time.sleep(0.3)
for c in conns:
    c.send(get("/"))
mid.send(b"st: a\r\n\r\n")
for i, c in enumerate(conns):
    r = c.read_response()
    check_hello(r)
    check(r.closes(), "connection %d: request after SIGTERM without Connection: close: %r"
          % (i, r.raw_head))
    c.expect_closed()
    c.close()
r = mid.read_response()
check_hello(r)
check(r.closes(), "request spanning SIGTERM without Connection: close: %r" % r.raw_head)
mid.expect_closed()
mid.close()
EOF
http_wait_gone "$HVKD_PID" 5000 || hfail "vkd did not exit after its connections closed"
rc=0
wait "$HVKD_PID" || rc=$?
[ "$rc" -eq 0 ] || hfail "vkd exited with $rc after SIGTERM"
for p in $HPIDS; do
	http_alive "$p" && hfail "vkd process $p outlived the drain"
done
HVKD_PID=""

# ---- an idle keep-alive connection does not hold the drain up ----
: >"$HLOG"
http_config 1 'idle_timeout = 60s' >"$HT/vkd.ini"
http_start "$HT/vkd.ini"
http_note_workers
export HVKD_PID
http_py <<'EOF'
import signal
c = Conn(PORT)
c.send(get("/"))
check_hello(c.read_response())
t0 = time.time()
os.kill(int(os.environ["HVKD_PID"]), signal.SIGTERM)
# The server lets the idle client go (a close, no answer) well before
# drain_timeout (10s) or idle_timeout (60s).
c.expect_closed(5.0)
took = time.time() - t0
check(took < 4.0, "idle keep-alive connection closed %.1f s after SIGTERM "
      "(drain_timeout = 10s): it held the drain up" % took)
c.close()
EOF
http_wait_gone "$HVKD_PID" 3000 || hfail "vkd did not exit after its idle connection was let go"
rc=0
wait "$HVKD_PID" || rc=$?
[ "$rc" -eq 0 ] || hfail "vkd exited with $rc after SIGTERM"
for p in $HPIDS; do
	http_alive "$p" && hfail "vkd process $p outlived the drain"
done
HVKD_PID=""
exit 0
