#!/bin/sh
# The TCP proxy (proxy.so) in front of the echo app: 1,000 concurrent
# clients, each with a payload of random bytes up to 8 MiB, get exactly
# their bytes back (each ends its side first: the half-close goes through
# the proxy to the echo and the echo's end comes back); an upstream that
# ends its side first still receives what the client sends after.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/proxy_lib.sh"
[ -x "$top_builddir/tests/integration/proxyclient" ] || skip "proxyclient is not built"

new_port HPORT
upstream hello "$HPORT" "$T/hello.count"
# 1,000 connects at once: room in the listen queues, and time to be accepted.
proxy_config 1 "127.0.0.1:$EPORT" 'backlog = 4096' 'opt.connect_timeout = 60s' >"$CONF"
serve "$CONF" 1

"$top_builddir/tests/integration/proxyclient" echo "$PORT" 1000 8388608 7 >"$T/bulk.out" 2>&1 ||
	fail "1000 clients through the proxy: $(cat "$T/bulk.out")"
cat "$T/bulk.out"
stop_vkd

# The upstream ends its side at once; the client's bytes still reach it.
new_log
proxy_config 1 "127.0.0.1:$HPORT" >"$CONF"
serve "$CONF" 1
py <<'PY'
s = socket.create_connection(("127.0.0.1", PORT), timeout=10)
got = b""
while True:
    chunk = s.recv(100)
    if not chunk:
        break
    got += chunk
check(got == b"hello", "the upstream's hello and end: %r" % got)
s.sendall(b"x" * 100000)
s.shutdown(socket.SHUT_WR)
end, counts = time.monotonic() + 10, []
while "100000" not in counts and time.monotonic() < end:
    time.sleep(0.02)
    if os.path.exists(T + "/hello.count"):
        counts = open(T + "/hello.count").read().split()
check("100000" in counts, "the upstream counted %r bytes after its end, want 100000" % counts)
s.close()
PY
stop_vkd
exit 0
