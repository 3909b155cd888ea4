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
# bytes side by side, 6 over 11 (4, 8, 9, 10, 13, 14); measured again at
# d37d2ac, 4 over 10 (4, 8, 9, 13), and the same with the handler's state
# from 4 KiB down to ~330 bytes: the bounds follow.
# Counts the present pages of the worker's heap mappings (256 KiB,
# isolation on, each followed by its read-only guard page) in
# /proc/PID/pagemap after 20 keep-alive clients made 3 requests each.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/proxy_lib.sh"

new_port U
http_upstream "$U"

proxy_config 1 "127.0.0.1:$U" 'opt.mode = http' 'isolation = on' 'heap = 256k' >"$CONF"
serve "$CONF" 1
note_workers
MAXPRESENT=4
MAXSPAN=10
[ -r "/proc/$WORKERS/pagemap" ] || skip "cannot read the worker's pagemap"

http_py <<EOF2
import socket, time
WORKER = $WORKERS
HEAP = 256 * 1024
MAXPRESENT, MAXSPAN = $MAXPRESENT, $MAXSPAN

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
hs = heap_present_pages(WORKER, HEAP)
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
