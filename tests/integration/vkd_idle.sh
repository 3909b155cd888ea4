#!/bin/sh
# idle_timeout is the connection's: it is idle when no byte moved either
# way for that long (1s here). With the tick app (tickmod.so: one
# coroutine reads the client's lines, another writes a tick every N ms):
#  - a client that only listens, to a tick every 200 ms, stays connected
#    for 3 s and gets its ticks;
#  - a client that only sends, a line every 200 ms, keeps receiving the
#    ticks of a clock slower than idle_timeout (1.5 s);
#  - a client silent on a silent connection is closed after about 1 s.
# Before, idle_timeout timed each wait of each coroutine: the listener was
# cut after 1 s, and the sender's writer gave up waiting after 1 s.
. "$top_srcdir/tests/integration/lib.sh"
need_python

vkd_section 1 >"$CONF"
printf '[app tick]\nmodule = %s\nlisten = 127.0.0.1:%s\nidle_timeout = 1s\n' \
	"$TESTMODDIR/tickmod.so" "$PORT" >>"$CONF"
serve "$CONF" 1

"$PYTHON" - "$PORT" <<'PY' || fail "idle_timeout"
import socket, sys, threading, time
port = int(sys.argv[1])
errors = []

def conn(first):
    c = socket.create_connection(("127.0.0.1", port))
    c.sendall(first)
    return c

def read_for(c, seconds):
    """Bytes read in `seconds`; None once the server closed."""
    end, got = time.time() + seconds, b""
    while time.time() < end:
        c.settimeout(max(0.01, end - time.time()))
        try:
            data = c.recv(4096)
        except socket.timeout:
            continue
        except ConnectionResetError:
            return None
        if not data:
            return None
        got += data
    return got

def listener():
    c = conn(b"200\n")
    got = read_for(c, 3.0)
    if got is None:
        errors.append("a client that only listens was closed while ticks arrived")
    elif got.count(b"tick") < 8:
        errors.append("a client that only listens got %d ticks in 3 s" % got.count(b"tick"))
    c.close()

def sender():
    c = conn(b"1500\n")
    ticks, end = 0, time.time() + 4.0
    while time.time() < end:
        c.sendall(b"x\n")
        got = read_for(c, 0.2)
        if got is None:
            errors.append("a client that only sends was closed")
            return
        ticks += got.count(b"tick")
    if ticks < 2:
        errors.append("a client that only sends got %d ticks in 4 s (one every 1.5 s)" % ticks)
    c.close()

def silent():
    t0 = time.time()
    c = conn(b"100000\n")
    got = read_for(c, 4.0)
    took = time.time() - t0
    if got is not None:
        errors.append("a silent connection was not closed in 4 s")
    elif not 0.8 <= took <= 3.0:
        errors.append("a silent connection was closed after %.2f s (idle_timeout 1s)" % took)
    c.close()

threads = [threading.Thread(target=f) for f in (listener, sender, silent)]
for t in threads:
    t.start()
for t in threads:
    t.join()
for e in errors:
    print(e)
sys.exit(1 if errors else 0)
PY
stop_vkd
exit 0
