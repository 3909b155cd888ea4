#!/bin/sh
# Chunked request bodies on POST /echo, with raw sockets: the body is
# decoded and echoed chunked (HTTP/1.1); extensions and trailers are
# accepted and dropped; the next pipelined request is served after it.
# A malformed chunk-size line, or a first chunk over opt.max_body, is
# refused with 400 / 413 and a close before any 200 goes out; an error
# later in the body (after the 200 head is out) cuts the response short,
# with no last-chunk, and closes.
. "$top_srcdir/tests/integration/lib.sh"
need_python

serve_http 1 'opt.max_body = 64k'

http_py <<'EOF'
cases = Cases(PORT)
run, refused = cases.run, cases.refused


POST = b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"


def echo_ok(body_wire, expect, pieces=1):
    c = Conn(PORT)
    step = max(1, len(body_wire) // pieces)
    c.send(POST)
    for i in range(0, len(body_wire), step):
        c.send(body_wire[i:i + step])
        if pieces > 1:
            time.sleep(0.002)
    c.send(get("/"))
    r = c.read_response()
    check(r.status == 200, "expected 200, got %r" % r)
    check(r.header("Transfer-Encoding") == b"chunked", "echo of 1.1 is not chunked: %r" % r)
    check(r.body == expect, "echoed %r, expected %r" % (r.body[:80], expect[:80]))
    check(not r.closes(), "keep-alive expected after a complete chunked body: %r" % r)
    check_hello(c.read_response())
    c.close()


run("simple chunked", lambda: echo_ok(b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", b"hello world"))
run("upper-case hex and extensions",
    lambda: echo_ok(b"A;name=value\r\n0123456789\r\n1;x\r\n!\r\n0\r\n\r\n", b"0123456789!"))
run("trailer fields",
    lambda: echo_ok(b"3\r\nabc\r\n0\r\nX-Trailer: yes\r\nX-Other: 1\r\n\r\n", b"abc"))
run("empty body", lambda: echo_ok(b"0\r\n\r\n", b""))
big = bytes(range(256)) * 200  # 51200 bytes, under max_body
wire = b"".join(b"%x\r\n" % len(big[i:i + 777]) + big[i:i + 777] + b"\r\n"
                for i in range(0, len(big), 777)) + b"0\r\n\r\n"
run("many chunks, one write", lambda: echo_ok(wire, big))
run("many chunks, split writes", lambda: echo_ok(wire, big, pieces=97))
run("byte by byte", lambda: echo_ok(b"5\r\nhello\r\n0\r\n\r\n", b"hello", pieces=100))


# Refused before any answer: the 200 must not go out first.
refused("bad chunk size", POST + b"zz\r\nhello\r\n0\r\n\r\n", 400)
refused("negative chunk size", POST + b"-5\r\nhello\r\n0\r\n\r\n", 400)
refused("chunk size with bare LF", POST + b"5\nhello\r\n0\r\n\r\n", 400)
# Over 64 bits is also over any max_body: either answer is right.
refused("chunk size overflowing 64 bits", POST + b"10000000000000000\r\n", (400, 413))
refused("first chunk over max_body", POST + b"100000\r\n", 413)


def cut_short(name, body_wire):
    """An error after some body was echoed: the response must end without
    its last-chunk, and the connection must close."""
    c = Conn(PORT)
    c.send(POST + body_wire[0])
    time.sleep(0.2)  # let the first chunk be echoed
    c.send(body_wire[1])
    try:
        r = c.read_response()
    except EOFError:
        c.close()
        return  # cut short: right
    c.close()
    raise AssertionError("%s: got a complete response %r" % (name, r))


run("bad chunk after good data",
    lambda: cut_short("bad chunk", (b"5\r\nhello\r\n", b"zz\r\n0\r\n\r\n")))
run("missing CRLF after chunk data",
    lambda: cut_short("missing CRLF", (b"5\r\nhello\r\n", b"3\r\nabcX\r\n0\r\n\r\n")))
run("body over max_body in a later chunk",
    lambda: cut_short("over max_body", (b"8000\r\n" + b"a" * 0x8000 + b"\r\n",
                                        b"8001\r\n" + b"b" * 0x8001 + b"\r\n0\r\n\r\n")))

# The server still serves.
check_serves(PORT)
cases.report("chunked")
EOF
stop_vkd
exit 0
