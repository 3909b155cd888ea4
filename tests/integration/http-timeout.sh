#!/bin/sh
# Timeouts: opt.header_timeout (1s here) bounds a started request head:
# a partial head, or one trickled a byte at a time, gets 408 and a close.
# idle_timeout (2s here) closes a keep-alive connection that sends
# nothing, silently; a connection that keeps busy is not cut by it. After
# an error answer, what the client still sends is read for 2 s in all.
. "$top_srcdir/tests/integration/lib.sh"
need_python

serve_http 1 'idle_timeout = 2s' 'opt.header_timeout = 1s'

http_py <<'EOF'
import threading

cases = Cases(PORT)


def expect_408(c, t0, what, latest):
    c.sock.settimeout(latest + 1)
    try:
        r = c.read_response()
    except EOFError as e:
        raise AssertionError("%s: closed without 408: %s" % (what, e))
    except socket.timeout:
        raise AssertionError("%s: no answer within %g s (header_timeout = 1s)" % (what, latest + 1))
    took = time.time() - t0
    check(r.status == 408, "%s: expected 408, got %r" % (what, r))
    check(r.closes(), "%s: 408 without Connection: close" % what)
    check(0.8 <= took <= latest, "%s: 408 after %.2f s (header_timeout = 1s)" % (what, took))
    c.expect_closed()


def partial(what, data):
    c = Conn(PORT, timeout=8)
    t0 = time.time()
    c.send(data)
    expect_408(c, t0, what, 3.0)
    c.close()


def partial_head():
    partial("partial head", b"GET / HTTP/1.1\r\nHost: a\r\nX-Partial: ")


def partial_request_line():
    partial("partial request line", b"GE")


def after_a_request():
    # The header timeout starts with the next head's first byte, not with
    # the connection: a kept connection that starts a head late gets 408
    # one header_timeout after that byte.
    c = Conn(PORT, timeout=8)
    c.send(get("/"))
    check_hello(c.read_response())
    time.sleep(0.7)
    t0 = time.time()
    c.send(b"GET / HT")
    expect_408(c, t0, "second head", 3.0)
    c.close()


def trickle():
    # A slow client (one byte every 0.25 s) must not stretch the head past
    # header_timeout: the deadline is for the whole head.
    c = Conn(PORT, timeout=8)
    head = get("/", headers=["X-Slow: " + "s" * 40])
    stop = threading.Event()

    def sender():
        for b in head[:-4]:
            if stop.is_set():
                return
            try:
                c.send(bytes([b]))
            except OSError:
                return
            time.sleep(0.25)

    t0 = time.time()
    th = threading.Thread(target=sender, daemon=True)
    th.start()
    try:
        expect_408(c, t0, "trickled head", 3.0)
    finally:
        stop.set()
        th.join()
        c.close()


def expect_idle_close(c, t0, what):
    """The server closes c, with no answer, one idle_timeout after t0."""
    c.expect_closed(4.0)
    took = time.time() - t0
    check(1.5 <= took <= 4.0, "%s closed after %.2f s (idle_timeout = 2s)" % (what, took))
    c.close()


def idle():
    c = Conn(PORT, timeout=8)
    c.send(get("/"))
    check_hello(c.read_response())
    t0 = time.time()
    c.expect_open(1.3)  # within idle_timeout: still open
    expect_idle_close(c, t0, "idle keep-alive")


def idle_fresh():
    # A connection that never sends a byte is idle, not a started head: no 408.
    c = Conn(PORT, timeout=8)
    expect_idle_close(c, time.time(), "silent connection")


def busy():
    # Requests every 0.5 s for 3 s: longer than idle_timeout in total, but
    # never idle that long.
    c = Conn(PORT, timeout=8)
    for _ in range(6):
        c.send(get("/"))
        check_hello(c.read_response())
        time.sleep(0.5)
    c.send(get("/"))
    check_hello(c.read_response())
    c.close()


def linger_trickle():
    # After an error answer the server reads what still comes, but for
    # 2 s in all: a byte every 0.3 s must not keep the connection open.
    c = Conn(PORT, timeout=8)
    c.send(b"GET / HTTP/1.1\r\n\r\n")  # no Host: 400
    r = c.read_response()
    check(r.status == 400 and r.closes(), "no Host: expected 400 close, got %r" % r)
    # Our end of stream came with the 400; the server's close shows when a
    # byte we send is answered with a reset, and the next send fails.
    t0 = time.time()
    closed = False
    while time.time() - t0 < 6 and not closed:
        try:
            c.sock.sendall(b"x")
        except (BrokenPipeError, ConnectionResetError):
            closed = True
            break
        time.sleep(0.3)
    took = time.time() - t0
    check(closed, "a trickle after a 400 held the connection for 6 s")
    check(took < 3.5, "a trickle after a 400 held the connection for %.1f s (2 s)" % took)
    c.close()


# Run them side by side: the timings are each its own.
threads = [threading.Thread(target=cases.run, args=(f.__name__, f))
           for f in (partial_head, partial_request_line, after_a_request, trickle, idle,
                     idle_fresh, busy, linger_trickle)]
for t in threads:
    t.start()
for t in threads:
    t.join()

cases.report("timeout")
EOF
stop_vkd
exit 0
