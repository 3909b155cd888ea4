#!/bin/sh
# A keep-alive client connection of the HTTP proxy (isolation on) keeps
# few pages of its heap present, close together. With isolation on, each
# protection change flushes the TLB entry of every page between the first
# and the last present page of the heap (~4.5 us a page on this
# paravirtualised VM, on top of ~17 us a dispatch): a proxied request is
# two dispatches or more, so the heap's span is most of what isolation
# costs the proxy. The answer's head and body buffers and the upstream
# socket's rings, each a fresh 16 KiB block, made 8 present pages over a
# span of 23 (pages 4, 8, 9, 10, 14, 18, 22, 26 of the heap); with the
# answer read through the handler's frame and the upstream rings' first
# bytes side by side, 6 over 11 (4, 8, 9, 10, 13, 14).
# Counts the present pages of the worker's heap mappings (256 KiB,
# isolation on, each followed by its read-only guard page) in
# /proc/PID/pagemap after 20 keep-alive clients made 3 requests each.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/proxy_lib.sh"

new_port U
"$PYTHON" "$top_srcdir/tests/integration/proxy_http_upstream.py" "$U" >"$T/up.out" 2>&1 &
UPSTREAM_PIDS="$UPSTREAM_PIDS $!"
_end=$(($(now_ms) + 5000))
until grep -q ready "$T/up.out" 2>/dev/null; do
	[ "$(now_ms)" -lt "$_end" ] || fail "upstream: $(cat "$T/up.out")"
	sleep 0.02
done

proxy_config 1 "127.0.0.1:$U" 'opt.mode = http' 'isolation = on' 'heap = 256k' >"$CONF"
serve "$CONF" 1
note_workers
MAXPRESENT=6
MAXSPAN=12
[ -r "/proc/$WORKERS/pagemap" ] || skip "cannot read the worker's pagemap"

http_py <<EOF2
import socket, struct, time
WORKER = $WORKERS
HEAP = 256 * 1024
MAXPRESENT, MAXSPAN = $MAXPRESENT, $MAXSPAN

def heaps():
    """The present pages of each heap: an anonymous mapping of HEAP bytes
    followed at once by its read-only guard page."""
    maps = []
    for line in open("/proc/%d/maps" % WORKER):
        f = line.split()
        a, b = (int(x, 16) for x in f[0].split("-"))
        maps.append((a, b, f[1], len(f) == 5))
    out = []
    with open("/proc/%d/pagemap" % WORKER, "rb") as pm:
        for m, nxt in zip(maps, maps[1:]):
            a, b, perms, anon = m
            if not (b - a == HEAP and anon and perms in ("---p", "rw-p") and nxt[0] == b
                    and nxt[1] - nxt[0] == 4096 and nxt[2] == "r--p"):
                continue
            pm.seek(a // 4096 * 8)
            data = pm.read((b - a) // 4096 * 8)
            present = [i for i in range((b - a) // 4096)
                       if (struct.unpack_from("<Q", data, 8 * i)[0] >> 63) & 1]
            if present:
                out.append(present)
    return out

conns = [socket.create_connection(("127.0.0.1", PORT), timeout=5) for _ in range(20)]
for rnd in range(3):
    for s in conns:
        s.sendall(b"GET /status?n=200 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        got = b""
        while not (b"\r\n\r\n" in got and got.endswith(b"s\n")):
            chunk = s.recv(65536)
            check(chunk, "connection closed after %r" % got)
            got += chunk
        check(got.startswith(b"HTTP/1.1 200"), "not a 200: %r" % got[:40])
time.sleep(0.2)
hs = heaps()
check(len(hs) >= 20, "expected 20 heaps with present pages, saw %d" % len(hs))
print("present pages of the first heaps:", hs[:3])
many = [h for h in hs if len(h) > MAXPRESENT]
wide = [h for h in hs if h[-1] - h[0] + 1 > MAXSPAN]
check(not many, "%d of %d proxying connections keep more than %d pages present: %r"
      % (len(many), len(hs), MAXPRESENT, many[:3]))
check(not wide, "%d of %d proxying connections spread their present pages over more than "
      "%d pages: %r" % (len(wide), len(hs), MAXSPAN, wide[:3]))
for s in conns:
    s.close()
EOF2
