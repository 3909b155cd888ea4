#!/bin/sh
# Pipelining: 100 requests in one write, answered in order. The requests
# follow a known pattern of GET / (200), GET /nope-N (404), HEAD / and
# POST /echo with a numbered body, so that any reordering, loss or
# duplication shows. Then the same split at awkward places, a pipeline
# that ends in Connection: close, and 64 answers gathered into one or two
# writev calls (strace on the worker).
. "$top_srcdir/tests/integration/lib.sh"
need_python

serve_http 2

http_py <<'EOF'
def pattern(n):
    reqs = []
    for i in range(n):
        k = i % 4
        if k == 0:
            reqs.append(("GET", get("/")))
        elif k == 1:
            reqs.append(("NOPE", get("/nope-%d" % i)))
        elif k == 2:
            reqs.append(("HEAD", get("/", method="HEAD")))
        else:
            body = b"request %d" % i
            reqs.append((body, get("/echo", method="POST",
                                   headers=["Content-Length: %d" % len(body)], body=body)))
    return reqs


def check_answers(c, reqs, what):
    for i, (kind, _) in enumerate(reqs):
        try:
            r = c.read_response(head=kind == "HEAD")
        except (EOFError, OSError) as e:
            raise AssertionError("%s: response %d of %d: %s" % (what, i + 1, len(reqs), e))
        where = "%s: response %d" % (what, i + 1)
        if kind == "GET":
            check(r.status == 200 and r.body == HELLO, "%s: expected GET / 200, got %r" % (where, r))
        elif kind == "NOPE":
            check(r.status == 404 and r.body == NOT_FOUND, "%s: expected 404, got %r" % (where, r))
        elif kind == "HEAD":
            check(r.status == 200 and r.header("Content-Length") == b"14" and not r.body,
                  "%s: expected HEAD 200, got %r" % (where, r))
        else:
            check(r.status == 200 and r.body == kind, "%s: expected echo %r, got %r" % (where, kind, r))
        check(not r.closes(), "%s: unexpected close %r" % (where, r.raw_head))


# ---- 100 requests, one sendall ----
reqs = pattern(100)
c = Conn(PORT, timeout=10)
c.send(b"".join(w for _, w in reqs))
check_answers(c, reqs, "100 in one write")
c.expect_open(0.2)
# ... and the connection goes on after it.
c.send(get("/"))
check_hello(c.read_response())
c.close()

# ---- the same bytes split at odd places (across heads and bodies) ----
wire = b"".join(w for _, w in reqs)
c = Conn(PORT, timeout=10)
for i in range(0, len(wire), 61):
    c.send(wire[i:i + 61])
check_answers(c, reqs, "100 in 61-byte writes")
c.close()

# ---- 1000 small requests in one write: more than one ring of answers ----
reqs = pattern(1000)
c = Conn(PORT, timeout=20)
c.send(b"".join(w for _, w in reqs))
check_answers(c, reqs, "1000 in one write")
c.close()

# ---- a pipeline whose 5th request says close: exactly 5 answers, then close ----
reqs = pattern(4)
c = Conn(PORT)
c.send(b"".join(w for _, w in reqs) + get("/", headers=["Connection: close"]) + get("/") * 3)
check_answers(c, reqs, "before close")
check_hello_closes(c, "request with Connection: close answered")
EOF
stop_vkd

# ---- one writev per batch: 64 pipelined answers (about 9 KiB) in one or two ----
need_cmd strace
serve_http 1
worker=$(workers_of "$VKD_PID")
strace -f -e trace=writev -o "$T/writev" -p "$worker" 2>>"$LOG" &
tracer=$!
sleep 1 # strace attaches
http_py <<'EOF'
c = Conn(PORT, timeout=10)
c.send(get("/") * 64)
for i in range(64):
    check_hello(c.read_response())
c.close()
EOF
sleep 0.2
kill "$tracer" 2>/dev/null
wait "$tracer" 2>/dev/null
writes=$(grep -c 'writev(' "$T/writev")
[ "$writes" -ge 1 ] && [ "$writes" -le 2 ] || fail "64 pipelined answers took $writes writev: $(cat "$T/writev")"
stop_vkd
exit 0
