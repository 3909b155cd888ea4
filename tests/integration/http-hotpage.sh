#!/bin/sh
# An idle keep-alive connection of the HTTP app keeps one page of its heap
# resident (the hot page: the send ring's tail, the socket, the coroutine
# and its state, the receive ring's first bytes), also after a request
# head of a browser's size: the idle-connection figure of the README
# (<= 4.5 KiB) and the cost of every protection change rest on it. Counts
# the resident pages of the worker's heap mappings (64 KiB each, isolation
# on: PROT_NONE between dispatches; each followed by its read-only guard
# page) in /proc/PID/pagemap.
. "$top_srcdir/tests/integration/lib.sh"
need_python
[ -r /proc/self/pagemap ] || skip "no /proc/PID/pagemap"

serve_http 1 "isolation = on"
wait_workers 1
[ -r "/proc/$WORKERS/pagemap" ] || skip "cannot read the worker's pagemap"

http_py <<EOF2
import socket, time
WORKER = $WORKERS

# Heads of 40 bytes (wrk's) to 400 (a browser's, with its cookies kept short).
for extra in (0, 100, 360):
    head = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    if extra:
        head += b"User-Agent: " + b"a" * (extra - 14) + b"\r\n"
    head += b"\r\n"
    conns = []
    for i in range(20):
        s = socket.create_connection(("127.0.0.1", PORT), timeout=5)
        s.sendall(head)
        got = b""
        while HELLO not in got:
            chunk = s.recv(4096)
            check(chunk, "connection closed after %d bytes" % len(got))
            got += chunk
        conns.append(s)
    time.sleep(0.2)
    pages = [len(h) for h in heap_present_pages(WORKER)]
    check(len(pages) >= 20, "expected 20 heaps with resident pages, saw %r" % pages)
    over = [p for p in pages if p > 1]
    check(not over, "head of %d bytes: %d of %d idle connections keep more than one page "
          "resident: %r" % (len(head), len(over), len(pages), sorted(pages)[-5:]))
    for s in conns:
        s.close()
    time.sleep(0.2)
EOF2
