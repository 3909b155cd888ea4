#!/bin/sh
# An idle keep-alive connection of the HTTP app keeps one page of its heap
# resident (the hot page: the send ring's tail, the socket, the coroutine
# and its state, the receive ring's first bytes), also after a request
# head of a browser's size: the idle-connection figure of the README
# (<= 4.5 KiB) and the cost of every protection change rest on it. Counts
# the resident pages of the worker's heap mappings (64 KiB each, isolation
# on: PROT_NONE between dispatches; each followed by its read-only guard
# page) in /proc/PID/smaps.
. "$top_srcdir/tests/integration/lib.sh"
need_python
[ -r /proc/self/smaps ] || skip "no /proc/PID/smaps"

serve_http 1 "isolation = on"
wait_workers 1
[ -r "/proc/$WORKERS/smaps" ] || skip "cannot read the worker's smaps"

http_py <<EOF2
import socket, time
WORKER = $WORKERS

def heap_pages():
    """Resident pages of each heap, from smaps: an anonymous 64 KiB mapping
    (PROT_NONE between dispatches, or the one left open) followed at once by
    its read-only guard page. The guard tells a heap from the allocator's own
    64 KiB mappings (ASan's, for one)."""
    maps = []
    for line in open("/proc/%d/smaps" % WORKER):
        f = line.split()
        if "-" in f[0] and len(f) >= 5:
            a, b = (int(x, 16) for x in f[0].split("-"))
            maps.append([a, b, f[1], len(f) == 5, 0])
        elif f[0] == "Rss:" and maps:
            maps[-1][4] = int(f[1]) // 4
    pages = []
    for m, nxt in zip(maps, maps[1:]):
        a, b, perms, anon, rss = m
        if (b - a == 65536 and anon and perms in ("---p", "rw-p") and nxt[0] == b
                and nxt[1] - nxt[0] == 4096 and nxt[2] == "r--p"):
            pages.append(rss)
    return pages

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
    pages = [p for p in heap_pages() if p]
    check(len(pages) >= 20, "expected 20 heaps with resident pages, saw %r" % pages)
    over = [p for p in pages if p > 1]
    check(not over, "head of %d bytes: %d of %d idle connections keep more than one page "
          "resident: %r" % (len(head), len(over), len(pages), sorted(pages)[-5:]))
    for s in conns:
        s.close()
    time.sleep(0.2)
EOF2
