#!/bin/sh
# Reloads under proxied load lose nothing: 16 clients open connections
# through the TCP proxy to the echo app back to back (a line there and
# back, then close) while vkctl swaps in three new generations. A
# connection fails when it is refused, reset or closed before its line
# came back whole.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/proxy_lib.sh"
need_vkctl

proxy_config 2 "127.0.0.1:$EPORT" >"$CONF"
serve "$CONF" 2
wait_ready 2

py >"$T/load.out" 2>&1 <<'PY' &
import threading

failures, done = [], [0]
lock = threading.Lock()
deadline = time.monotonic() + 30


def client(n):
    i = 0
    while not os.path.exists(T + "/stop") and time.monotonic() < deadline:
        line = b"client %d line %d %s\n" % (n, i, b"x" * (i % 3000))
        i += 1
        try:
            s = socket.create_connection(("127.0.0.1", PORT), timeout=10)
            s.sendall(line)
            got = b""
            while not got.endswith(b"\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
            s.close()
            if got != line:
                raise Exception("got %d of %d bytes" % (len(got), len(line)))
            with lock:
                done[0] += 1
        except Exception as e:
            with lock:
                failures.append("client %d: %r" % (n, e))


threads = [threading.Thread(target=client, args=(n,)) for n in range(16)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("proxied %d, failed %d" % (done[0], len(failures)))
for f in failures[:10]:
    print(f)
check(not failures, "%d connections failed" % len(failures))
check(done[0] > 100, "only %d connections proxied" % done[0])
PY
load=$!
note_pids "$load"
reload_under_load 2 "$load"
stop_vkd
exit 0
