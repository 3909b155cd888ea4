#!/bin/sh
# A keep-alive connection of static.so serving a file keeps one page of its
# heap resident, as the HTTP app's does (http-hotpage.sh): the fields a
# handler adds (Last-Modified, ETag, Accept-Ranges) are written in the
# connection's hot page, not at the start of a max_head buffer on the heap.
# With isolation on, each protection change flushes the TLB entry of every
# page between the first and the last resident one of the heap (one
# INVLPG each, 1.37 us for one page against 4.2 us for sixteen, and on a
# paravirtualised guest ~4.5 us a page more): a second page four pages
# past the hot one made every request's pair of changes cost five.
# Counts the present pages of the worker's heap mappings (64 KiB, isolation
# on, each followed by its read-only guard page) in /proc/PID/pagemap.
. "$top_srcdir/tests/integration/lib.sh"
need_python

W=$T/www
mkdir -p "$W" || fail "mkdir"
head -c 4096 /dev/urandom >"$W/f4k" || fail "f4k"
{
	vkd_section 1
	printf '[app static]\nmodule = static.so\nlisten = 127.0.0.1:%s\nheap = 64k\n' "$PORT"
	printf 'isolation = on\nopt.root = %s\n' "$W"
} >"$CONF"
serve "$CONF" 1
note_workers
[ -r "/proc/$WORKERS/pagemap" ] || skip "cannot read the worker's pagemap"

http_py <<EOF2
import socket, time
WORKER = $WORKERS

head = b"GET /f4k HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
conns = []
for i in range(20):
    s = socket.create_connection(("127.0.0.1", PORT), timeout=5)
    conns.append(s)
for rnd in range(3):
    for s in conns:
        s.sendall(head)
        got = b""
        while not (b"\r\n\r\n" in got and len(got) >= got.index(b"\r\n\r\n") + 4 + 4096):
            chunk = s.recv(65536)
            check(chunk, "connection closed after %d bytes" % len(got))
            got += chunk
        check(got.startswith(b"HTTP/1.1 200"), "not a 200: %r" % got[:40])
        check(b"ETag:" in got and b"Last-Modified:" in got, "fields missing: %r" % got[:300])
time.sleep(0.2)
pages = [len(h) for h in heap_present_pages(WORKER)]
check(len(pages) >= 20, "expected 20 heaps with present pages, saw %r" % pages)
over = [p for p in pages if p > 1]
check(not over, "%d of %d keep-alive connections of static.so keep more than one page "
      "present: %r" % (len(over), len(pages), sorted(pages)[-5:]))
for s in conns:
    s.close()
EOF2
