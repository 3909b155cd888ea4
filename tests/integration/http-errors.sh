#!/bin/sh
# Every error status of the HTTP app, each on its own connection: the
# status, Connection: close, Date and Server, and then the server closes
# the connection (recv returns b'' after the response). Request smuggling
# shapes are refused with 400, never guessed. Errors inside a chunked
# body are in http-chunked.sh.
. "$top_srcdir/tests/integration/lib.sh"
need_python

serve_http 1 'opt.max_body = 1k'

http_py <<'EOF'
cases = Cases(PORT)
case = cases.refused


H = "Host: localhost"
# ---- 400: malformed request line ----
case("request line without target", b"GET\r\n\r\n", 400)
case("request line with two spaces", b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400)
case("request line with trailing junk", b"GET / HTTP/1.1 x\r\nHost: a\r\n\r\n", 400)
case("lower-case version", b"GET / http/1.1\r\nHost: a\r\n\r\n", 400)
case("control character in target", b"GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n", 400)
case("not a token method", b"G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400)
# No line end will come: the answer must not wait for the header timeout
# (30 s here; the client gives up after 5).
case("TLS ClientHello on a plain port",
     b"\x16\x03\x01\x00\xc8\x01\x00\x00\xc4\x03\x03" + bytes(range(32)), 400)
# ---- 400: bare LF / bare CR ----
case("bare LF everywhere", b"GET / HTTP/1.1\nHost: a\n\n", 400)
case("bare LF after a field", b"GET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n", 400)
case("bare LF ending the head", b"GET / HTTP/1.1\r\nHost: a\r\n\n", 400)
case("bare CR in a field", b"GET / HTTP/1.1\r\nHost: a\rX: y\r\n\r\n", 400)
# ---- 400: field syntax ----
case("obs-fold", b"GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n", 400)
case("obs-fold with a tab", b"GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n\tc\r\n\r\n", 400)
case("space before the colon", b"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400)
case("field without a colon", b"GET / HTTP/1.1\r\nHost: a\r\nXYZ\r\n\r\n", 400)
case("NUL in a field value", b"GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n", 400)
# ---- 400: framing (request smuggling) ----
case("Content-Length and Transfer-Encoding",
     b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
     b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 400)
case("Transfer-Encoding and Content-Length",
     b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
     b"Content-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 400)
case("two differing Content-Length",
     b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400)
case("differing Content-Length list",
     b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\nhello!", 400)
case("signed Content-Length",
     b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello", 400)
case("Transfer-Encoding chunked twice",
     b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 400)
case("Transfer-Encoding not ending in chunked",
     b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 400)
case("Transfer-Encoding in HTTP/1.0",
     b"POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400)
# ---- 400: Host ----
case("HTTP/1.1 without Host", b"GET / HTTP/1.1\r\n\r\n", 400)
case("two Host fields", b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400)
case("bad Host value", b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400)
# Host is host [":" port] (RFC 9112 3.2, RFC 3986 3.2.2): a port of
# digits, one colon outside brackets, whole escapes, a closed bracket.
for host in (b"t:abc", b"t:80:80", b"t%zz", b"t%4", b"[::1", b"[::1]x", b"[::1]:8x", b"[zz::1]",
             b"::1", b"[]"):
    case("Host: %s" % host.decode(), b"GET / HTTP/1.1\r\nHost: " + host + b"\r\n\r\n", 400)
# ---- 400: end of stream inside a head ----
def half_closed_head():
    c = Conn(PORT)
    c.send(b"GET / HTTP/1.1\r\nHost: a\r\n")
    c.sock.shutdown(socket.SHUT_WR)
    r = c.read_response()
    check(r.status == 400, "half-closed inside a head: expected 400, got %r" % r)
    c.expect_closed()
    c.close()


cases.run("end of stream inside a head", half_closed_head)
# ---- 413: body over opt.max_body (1k here) ----
case("Content-Length over max_body",
     b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 1025\r\n\r\n", 413)
case("Content-Length over max_body with Expect",
     b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 2000000\r\nExpect: 100-continue\r\n\r\n", 413)
# ---- 414 / 431: line and head sizes (max_line 8k, max_head 16k) ----
case("request line over max_line", get("/" + "a" * 9000), 414)
case("field line over max_line", get("/", headers=["X-Long: " + "b" * 9000]), 431)
case("too many fields", get("/", headers=["X-F%d: v" % i for i in range(120)]), 431)
case("head over max_head", get("/", headers=["X-F%d: %s" % (i, "c" * 1000) for i in range(24)]), 431)


# A client still sending a head far too large (200 KB) when the 431 goes
# out: the server must read and drop the rest before it closes, or the
# kernel resets the connection and the 431 is lost.
def huge_head_still_coming():
    c = Conn(PORT)
    head = get("/", headers=["X-Pad%d: %s" % (i, "p" * 4000) for i in range(50)])
    try:
        c.sock.sendall(head)
        r = c.read_response()
    except (BrokenPipeError, ConnectionResetError) as e:
        raise AssertionError("reset while a too-large head was still coming: %r" % e)
    check(r.status == 431 and r.closes(), "200 KB head: expected 431 close, got %r" % r)
    c.expect_closed()
    c.close()


cases.run("head of 200 KB still coming", huge_head_still_coming)
# ---- 501: unknown method, unsupported coding ----
case("unknown method BREW", b"BREW / HTTP/1.1\r\nHost: a\r\n\r\n", 501)
case("unknown method on 1.0", b"BREW /pot HTTP/1.0\r\n\r\n", 501)
case("gzip before chunked",
     b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501)
# ---- 505: HTTP version ----
case("HTTP/2.0 request line", b"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505)
case("HTTP/0.9 style version", b"GET / HTTP/0.9\r\n\r\n", 505)
case("HTTP/3.1 request line", b"GET / HTTP/3.1\r\nHost: a\r\n\r\n", 505)

# ---- an error after a good request on the same connection: in order ----
def good_then_bad():
    c = Conn(PORT)
    c.send(get("/") + b"GET / HTTP/1.1\r\n\r\n" + get("/"))
    check_hello(c.read_response())
    r = c.read_response()
    check(r.status == 400 and r.closes(), "pipelined bad request: expected 400 close, got %r" % r)
    c.expect_closed()
    c.close()


cases.run("good then bad request", good_then_bad)

# ---- the server still serves after all that ----
check_serves(PORT)
cases.report("error")
EOF
stop_vkd
exit 0
