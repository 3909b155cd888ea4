#!/bin/sh
# The handler API of vk_http(3), through a test app (httpmod.c): routes
# and their parameters, 404 and 405, pipelined requests to two handlers
# where the first streams a chunked answer, a handler blocked in vk_sleep
# while another connection is served, one that faults (only its
# connection ends), one that raises (500, a log line, the connection
# closes), one that returns without answering (500, the connection goes
# on), answers cut after their head, added fields, whole bodies (413 and
# 400 before any answer, whatever the framing), a body read in small
# pieces, HEAD and 204, a Content-Type from one buffer the handler
# rewrites (the library keeps nothing of a type by its address), and a
# body that stalls for idle_timeout (408).
. "$top_srcdir/tests/integration/lib.sh"
need_python

{
	vkd_section 1
	printf '[app handlers]\nmodule = %s\nlisten = 127.0.0.1:%s\n' "$TESTMODDIR/httpmod.so" "$PORT"
	echo 'opt.max_body = 4k'
	echo 'idle_timeout = 2s'
} >"$CONF"
start_vkd "$CONF"
wait_port "$PORT" 10000
note_workers

http_py <<'EOF'
import threading

cases = Cases(PORT)
run, refused = cases.run, cases.refused


def one(req, head=False):
    c = Conn(PORT)
    c.send(req)
    r = c.read_response(head=head)
    return c, r


# ---- routes, parameters, 404, 405 ----
def params():
    c, r = one(get("/users/a%20b/posts/7?x=1&y=%41"))
    check(r.status == 200, "params: %r" % r)
    check(r.body == b"id=a b post=7 path=/users/a%20b/posts/7 query=x=1&y=%41",
          "params: %r" % r.body)
    c.send(get("/files/a/b/../c%2Fd.txt"))
    r = c.read_response()
    check(r.body == b"tail=a/b/../c/d.txt", "tail: %r" % r.body)
    c.send(get("/files/"))
    check(c.read_response().body == b"tail=", "empty tail")
    c.close()


run("parameters, query and tail", params)
refused("a parameter escaping a NUL", get("/users/a%00/posts/1"), 400)
refused("a parameter with a bad escape", get("/users/a%zz/posts/1"), 400)


def not_found_and_not_allowed():
    c, r = one(get("/nope"))
    check(r.status == 404 and r.body == NOT_FOUND, "404: %r" % r)
    check(not r.closes(), "404 closed: %r" % r.raw_head)
    c.send(get("/hello", method="DELETE"))
    r = c.read_response()
    check(r.status == 405, "405: %r" % r)
    check(r.header("Allow") == b"GET, HEAD", "Allow: %r" % r.raw_head)
    check(not r.closes(), "405 closed: %r" % r.raw_head)
    for m in ("PUT", "OPTIONS", "PATCH"):
        c.send(get("/any", method=m))
        r = c.read_response()
        check(r.status == 200 and r.body == m.encode(), "ANY %s: %r" % (m, r))
    # A 405 with a body left unread: said, then closed.
    c.send(get("/hello", method="POST", headers=["Content-Length: 3"], body=b"abc"))
    r = c.read_response()
    check(r.status == 405 and r.closes(), "405 with a body: %r" % r.raw_head)
    c.close()


run("404, 405 with Allow, any method", not_found_and_not_allowed)


# ---- pipelined: a chunked stream, then another handler, in order ----
def pipelined():
    c = Conn(PORT)
    c.send(get("/stream/5") + get("/hello") + get("/stream/2", method="HEAD") + get("/hello"))
    r = c.read_response()
    check(r.status == 200 and r.header("Transfer-Encoding") == b"chunked", "stream: %r" % r)
    check(r.body == b"".join(b"chunk %d\n" % i for i in range(5)), "stream body: %r" % r.body)
    r = c.read_response()
    check(r.status == 200 and r.body == b"hello\n", "hello after the stream: %r" % r)
    r = c.read_response(head=True)
    check(r.status == 200 and r.header("Transfer-Encoding") == b"chunked", "HEAD stream: %r" % r)
    r = c.read_response()
    check(r.body == b"hello\n", "hello after HEAD: %r" % r)
    c.expect_open(0.2)
    c.close()


run("pipelined: a chunked stream, then hello", pipelined)


# ---- a handler sleeping does not hold another connection ----
def sleeping():
    a = Conn(PORT)
    a.send(get("/sleep/800"))
    time.sleep(0.1)
    t0 = time.time()
    b, r = one(get("/hello"))
    fast = time.time() - t0
    check(r.body == b"hello\n", "hello during a sleep: %r" % r)
    check(fast < 0.5, "hello waited %.2f s behind the sleeping handler" % fast)
    r = a.read_response()
    check(r.status == 200 and r.body == b"slept\n", "slept: %r" % r)
    check(time.time() - t0 >= 0.6, "the sleep was cut short")
    a.close()
    b.close()


run("vk_sleep in one handler, another connection served", sleeping)


# ---- faults, raises, silence ----
def fault():
    # Another client, kept alive across the fault.
    other, r = one(get("/hello"))
    check(r.body == b"hello\n", "hello: %r" % r)
    # A fault ends the micro-process where it stands: what its send ring
    # held goes with it, so the faulting request is sent alone.
    c = Conn(PORT)
    c.send(get("/fault"))
    c.expect_closed()
    c.close()
    other.send(get("/hello"))
    r = other.read_response()
    check(r.body == b"hello\n" and not r.closes(), "the other connection after a fault: %r" % r)
    other.close()
    c, r = one(get("/hello"))
    check(r.body == b"hello\n", "served after a fault: %r" % r)
    c.close()


run("a faulting handler ends its connection only", fault)


def raised():
    c = Conn(PORT)
    c.send(get("/hello") + get("/raise") + get("/hello"))
    check(c.read_response().body == b"hello\n", "the answer before the raise")
    r = c.read_response()
    check(r.status == 500 and r.closes(), "raise: %r" % r)
    c.expect_closed()
    c.close()


run("a raising handler gets 500 and a close", raised)


def raised_late():
    c = Conn(PORT)
    c.send(get("/raise-late"))
    try:
        r = c.read_response()
        raise AssertionError("a complete answer from a handler that raised: %r" % r)
    except EOFError:
        pass
    c.close()


run("a raise after the head cuts the answer", raised_late)


def silent():
    c = Conn(PORT)
    c.send(get("/silent") + get("/hello"))
    r = c.read_response()
    check(r.status == 500 and not r.closes(), "silent: %r" % r)
    check(c.read_response().body == b"hello\n", "after a silent handler")
    c.close()


run("a handler that does not answer gets 500, the connection goes on", silent)


def short():
    c = Conn(PORT)
    c.send(get("/short") + get("/hello"))
    try:
        r = c.read_response()
        raise AssertionError("a complete short answer: %r" % r)
    except EOFError:
        pass
    c.close()


run("an answer shorter than its length is cut", short)


# ---- fields ----
def fields():
    c, r = one(get("/header", headers=["X-In: from client"]))
    check(r.header("X-Echo") == b"from client" and r.header("X-Added") == b"yes",
          "fields: %r" % r.raw_head)
    check(r.count("Server") == 1 and r.count("Date") == 1, "fields: %r" % r.raw_head)
    c.send(get("/bad-header"))
    r = c.read_response()
    check(r.status == 500 and r.header("X-Injected") is None, "injection: %r" % r.raw_head)
    c.close()


run("added fields, and no CR LF through one", fields)


def content_types():
    for kind in ("crlf", "del", "long"):
        c, r = one(get("/type/" + kind))
        check(r.status == 500 and r.header("X-Injected") is None, "%s: %r" % (kind, r.raw_head))
    c, r = one(get("/type/tab"))
    check(r.status == 200 and r.header("Content-Type") == b"text/plain;\tcharset=utf-8",
          "tab: %r" % r.raw_head)
    c, r = one(get("/type/max"))
    check(r.status == 200 and len(r.header("Content-Type")) == 128, "max: %r" % r.raw_head)


run("a handler's Content-Type: no CR LF, DEL or more than 128 bytes", content_types)


def content_type_buffer():
    # One buffer, other text in it each time, on one connection.
    c = Conn(PORT)
    for kind in ("a", "b", "a", "ab"):
        c.send(get("/type/buf-" + kind))
        r = c.read_response()
        check(r.status == 200 and r.header("Content-Type") == b"text/" + kind.encode(),
              "buf-%s: %r" % (kind, r.raw_head))
    c.send(get("/type/buf-a%0d%0aX-Injected:%201"))
    r = c.read_response()
    check(r.status == 500 and r.header("X-Injected") is None, "buf crlf: %r" % r.raw_head)
    c.close()


run("a Content-Type from a buffer the handler rewrites", content_type_buffer)


def no_content():
    c, r = one(get("/204"))
    check(r.status == 204 and r.header("Content-Length") is None, "204: %r" % r.raw_head)
    check(r.header("Transfer-Encoding") is None, "204: %r" % r.raw_head)
    c.send(get("/hello"))
    check(c.read_response().body == b"hello\n", "after 204")
    c.close()


run("204 has no framing", no_content)


# ---- bodies ----
CHUNKED = ["Transfer-Encoding: chunked"]


def whole(body_wire, headers, expect):
    c, r = one(get("/all", method="POST", headers=headers, body=body_wire))
    check(r.status == 200 and r.body == expect, "whole body: %r" % r)
    c.close()


run("whole body, length", lambda: whole(b"x" * 1000, ["Content-Length: 1000"], b"x" * 1000))
run("whole body, chunked, with a trailer",
    lambda: whole(b"3\r\nabc\r\n2\r\nde\r\n0\r\nX-T: 1\r\n\r\n", CHUNKED, b"abcde"))
run("whole body, exactly the room",
    lambda: whole(b"400\r\n" + b"y" * 1024 + b"\r\n0\r\n\r\n", CHUNKED, b"y" * 1024))
# Over the handler's room (1 KiB) or opt.max_body (4k): 413 before any
# answer, whatever the framing.
refused("whole body over the room, length", get("/all", method="POST",
        headers=["Content-Length: 1025"]) + b"z" * 1025, 413)
refused("whole body over the room, chunked", get("/all", method="POST", headers=CHUNKED) +
        b"401\r\n" + b"z" * 1025 + b"\r\n0\r\n\r\n", 413)
refused("whole body over the room, chunked in pieces", get("/all", method="POST", headers=CHUNKED) +
        b"".join(b"64\r\n" + b"z" * 100 + b"\r\n" for _ in range(11)) + b"0\r\n\r\n", 413)
refused("whole body over max_body, chunked", get("/all", method="POST", headers=CHUNKED) +
        b"1001\r\n", 413)
# A malformed body or trailer: 400 before any answer.
refused("obs-fold in a trailer", get("/all", method="POST", headers=CHUNKED) +
        b"3\r\nabc\r\n0\r\nX-T: 1\r\n folded\r\n\r\n", 400)
refused("bad chunk size", get("/all", method="POST", headers=CHUNKED) + b"zz\r\n", 400)
# A body that stalls for idle_timeout (2s): 408 before any answer.
refused("a body that stalls", get("/all", method="POST", headers=["Content-Length: 100"]) +
        b"0123456789", 408)


def slow_body():
    body = bytes(range(256)) * 3
    c, r = one(get("/slow", method="POST", headers=["Content-Length: %d" % len(body)], body=body))
    check(r.status == 200 and r.body == body and not r.closes(), "slow body: %r" % r)
    c.send(get("/slow", method="POST", headers=CHUNKED,
               body=b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"))
    r = c.read_response()
    check(r.status == 200 and r.body == b"hello world", "slow chunked: %r" % r)
    check(r.header("Transfer-Encoding") == b"chunked", "slow chunked: %r" % r.raw_head)
    check(not r.closes(), "slow chunked closes: %r" % r.raw_head)
    c.close()
    # An answer started before the body was asked for cannot promise to
    # read it: it says close, and still echoes all of it.
    c, r = one(get("/slow?early", method="POST", headers=["Content-Length: 5"], body=b"early"))
    check(r.status == 200 and r.body == b"early" and r.closes(), "early answer: %r" % r)
    c.expect_closed()
    c.close()


run("a body read 7 bytes at a time", slow_body)


# ---- Expect: 100-continue ----
def expect_continue():
    c = Conn(PORT)
    # Whole body: the 100 comes before the client sends it.
    c.send(get("/all", method="POST", headers=["Content-Length: 5", "Expect: 100-continue"]))
    r = c.read_response()
    check(r.status == 100, "whole body: expected 100 first, got %r" % r)
    c.send(b"12345")
    r = c.read_response()
    check(r.status == 200 and r.body == b"12345" and not r.closes(), "after 100: %r" % r)
    # An answer started before the body was asked for: no 100 behind the
    # final head, ever (it was sent after it, and read as the body); the
    # body the client sends anyway is still read, then the close.
    c.send(get("/slow?early", method="POST", headers=["Content-Length: 4",
                                                       "Expect: 100-continue"]))
    r = c.read_response(head=True)
    check(r.status == 200 and r.closes(), "early answer: %r" % r)
    c.send(b"abcd")
    body = c._exact(4)
    check(body == b"abcd", "early answer's body: %r" % body)
    c.expect_closed()
    c.close()
    # No body read (a route that ignores it): no 100, the answer, a close.
    c, r = one(get("/hello", headers=["Content-Length: 3", "Expect: 100-continue"]))
    check(r.status == 200 and r.body == b"hello\n" and r.closes(), "unread body: %r" % r)
    c.close()


run("Expect: 100-continue", expect_continue)


def head():
    c, r = one(get("/hello", method="HEAD"), head=True)
    check(r.status == 200 and r.header("Content-Length") == b"6", "HEAD: %r" % r.raw_head)
    c.send(get("/hello"))
    r = c.read_response()
    check(r.body == b"hello\n", "after HEAD (no body was sent): %r" % r)
    c.send(get("/nope", method="HEAD"))
    r = c.read_response(head=True)
    check(r.status == 404 and not r.closes(), "HEAD 404: %r" % r.raw_head)
    c.expect_open(0.2)
    c.close()


run("HEAD of a whole answer and of a 404", head)

cases.report("handler")
EOF
# The raise, and not the silent handler, left a line in the log.
grep -q "GET /raise: the handler raised" "$LOG" || fail "no log line for the raising handler"
grep -q "/silent" "$LOG" && fail "a log line for the silent handler"

# ---- a drain: the answer of a handler at work says Connection: close ----
http_py <<'EOF'
import signal
c = Conn(PORT)
c.send(get("/sleep/600"))
time.sleep(0.2)
os.kill(VKD_PID, signal.SIGTERM)
r = c.read_response()
check(r.status == 200 and r.body == b"slept\n", "the sleeping handler in a drain: %r" % r)
check(r.closes(), "no Connection: close during a drain: %r" % r.raw_head)
c.expect_closed()
c.close()
EOF
expect_vkd_exit 5000 "after its handler answered"
exit 0
