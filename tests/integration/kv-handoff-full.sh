#!/bin/sh
# kv with one worker hands its clients to the shard, where each takes
# about 4.5 KiB of the shard's heap: when the shard has no room for one
# more, that client is refused (its connection closes) and the store and
# every other client stay. Before, the shard ended and took them all.
. "$top_srcdir/tests/integration/lib.sh"
need_python

KV_WORKERS=1
serve_app kv 1 'isolation = on'

kv_py <<'EOF_PY'
import resource, socket, time
resource.setrlimit(resource.RLIMIT_NOFILE, (20000, 20000))
first = Redis(PORT)
check(first.cmd("SET", "keep", "1") == "OK", "SET")

# 16 MiB of the shard's 64 MiB hold about 3,600 clients: 5,000 overflow it.
socks = []
for i in range(5000):
    s = socket.create_connection(("127.0.0.1", PORT), timeout=10)
    s.sendall(b"*1\r\n$4\r\nPING\r\n")
    socks.append(s)
served = refused = 0
for s in socks:
    try:
        got = s.recv(64)
    except OSError:
        got = b""
    if got == b"+PONG\r\n":
        served += 1
    elif got == b"":
        refused += 1
check(served + refused == len(socks), "%d served, %d refused, of %d" % (served, refused, len(socks)))
check(served >= 1000 and refused > 0, "%d served, %d refused" % (served, refused))
# The clients already there and the store are untouched.
check(first.cmd("GET", "keep") == b"1", "the first client after the overflow")
for s in socks:
    s.close()
time.sleep(0.5)
# Their room comes back: new clients are served again.
again = [Redis(PORT) for _ in range(50)]
check(all(r.cmd("PING") == "PONG" for r in again), "new clients after the others left")
check(again[0].cmd("GET", "keep") == b"1", "the store after the overflow")
print("kv handoff overflow: %d served, %d refused" % (served, refused))
EOF_PY

stop_vkd
exit 0
