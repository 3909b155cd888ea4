#!/bin/sh
# Connection handling of the HTTP app, with curl and raw sockets:
# keep-alive reuse, Connection: close (closed at once when clean, with a
# lingering close when more bytes came), HTTP/1.0 with and without
# keep-alive, HEAD, 404 on a kept connection, Expect: 100-continue,
# Date and Server headers.
. "$top_srcdir/tests/integration/lib.sh"
need_python

need_cmd curl

serve_http 2
URL=http://127.0.0.1:$PORT

# ---- curl: three fetches in one invocation reuse one connection ----
out=$(curl -sS --max-time 10 -w '[%{http_code} %{num_connects}]' "$URL/" "$URL/" "$URL/" 2>&1) ||
	fail "curl failed: $out"
expected='Hello, World!
[200 1]Hello, World!
[200 0]Hello, World!
[200 0]'
[ "$out" = "$expected" ] || fail "curl keep-alive: expected one connect for three 200s, got: $out"

# curl sees the same with HTTP/1.0 keep-alive asked for.
out=$(curl -sS --max-time 10 -0 -H 'Connection: keep-alive' -w '[%{http_code} %{num_connects}]' \
	"$URL/" "$URL/" 2>&1) || fail "curl -0 failed: $out"
expected='Hello, World!
[200 1]Hello, World!
[200 0]'
[ "$out" = "$expected" ] || fail "curl HTTP/1.0 keep-alive: got: $out"

# A 404 keeps the connection too.
out=$(curl -sS --max-time 10 -w '[%{http_code} %{num_connects}]' "$URL/nope" "$URL/" 2>&1) ||
	fail "curl failed: $out"
expected='Not Found
[404 1]Hello, World!
[200 0]'
[ "$out" = "$expected" ] || fail "curl 404 then 200: got: $out"

http_py <<'EOF'
# ---- python http.client: many requests on one connection ----
import http.client
hc = http.client.HTTPConnection("127.0.0.1", PORT, timeout=5)
socks = set()
for i in range(20):
    hc.request("GET", "/" if i % 2 == 0 else "/x%d" % i)
    socks.add(id(hc.sock))
    resp = hc.getresponse()
    body = resp.read()
    if i % 2 == 0:
        check(resp.status == 200 and body == HELLO, "http.client: %d %r" % (resp.status, body))
    else:
        check(resp.status == 404, "http.client: expected 404, got %d" % resp.status)
    check(not resp.will_close, "http.client: server asked to close at request %d" % i)
check(len(socks) == 1, "http.client reconnected: %d sockets" % len(socks))
hc.close()

# ---- Date and Server on every kind of answer ----
c = Conn(PORT)
for req in (get("/"), get("/nope"), get("/", method="HEAD"),
            get("/echo", method="POST", headers=["Content-Length: 3"], body=b"abc")):
    c.send(req)
    r = c.read_response(head=req.startswith(b"HEAD"))
    check_date_server(r)
c.close()

# ---- HEAD / is GET / without the body ----
c = Conn(PORT)
c.send(get("/"))
g = c.read_response()
check_hello(g)
c.send(get("/", method="HEAD"))
h = c.read_response(head=True)
check(h.status == 200, "HEAD: %r" % h)
strip = lambda r: [(k.lower(), v) for k, v in r.headers if k.lower() != b"date"]
check(strip(g) == strip(h), "HEAD fields differ from GET's:\n%r\n%r" % (g.raw_head, h.raw_head))
check(h.header("Content-Length") == b"14", "HEAD Content-Length: %r" % h.raw_head)
# No body follows: the next response comes right after the head.
c.send(get("/nope", method="HEAD") + get("/"))
h404 = c.read_response(head=True)
check(h404.status == 404, "HEAD /nope: %r" % h404)
check_hello(c.read_response())
c.expect_open(0.2)
c.close()

# ---- HTTP/1.1 Connection: close ----
c = Conn(PORT)
c.send(get("/", headers=["Connection: close"]))
check_hello_closes(c, "Connection: close answered")

# A clean Connection: close closes the server's socket at once, as nginx
# does, instead of lingering for the client's end: bytes the client sends
# after the answer meet a reset (a lingering server read and dropped them).
c = Conn(PORT)
c.send(get("/", headers=["Connection: close"]))
r = c.read_response()
check_hello(r)
c.expect_closed()
reset = False
for i in range(50):
    try:
        c.sock.send(b"more")
        c.sock.settimeout(0.1)
        if c.sock.recv(16) == b"":
            continue
    except socket.timeout:
        continue
    except (ConnectionResetError, BrokenPipeError):
        reset = True
        break
check(reset, "the server still held the connection after a clean Connection: close")
c.close()
# Bytes after the last request: the server lingers, so the answer is not
# reset away, and the client sees a clean end.
c = Conn(PORT)
c.send(get("/", headers=["Connection: close"]) + get("/"))
check_hello_closes(c, "Connection: close with a request after it")

# ---- HTTP/1.0 without keep-alive: closed after the response ----
c = Conn(PORT)
c.send(b"GET / HTTP/1.0\r\n\r\n")
r = c.read_response()
check(r.status == 200 and r.body == HELLO, "HTTP/1.0 GET: %r" % r)
check(r.header("Content-Length") == b"14", "HTTP/1.0 GET without length: %r" % r.raw_head)
check(r.header("Connection") is None or r.closes(),
      "HTTP/1.0 answered with keep-alive: %r" % r.raw_head)
c.expect_closed()
c.close()

# ---- HTTP/1.0 with Connection: keep-alive stays open ----
c = Conn(PORT)
c.send(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
r = c.read_response()
check(r.status == 200 and r.body == HELLO, "HTTP/1.0 keep-alive GET: %r" % r)
check(r.header("Connection") is not None and r.header("Connection").lower() == b"keep-alive",
      "HTTP/1.0 keep-alive not confirmed: %r" % r.raw_head)
c.expect_open(0.3)
c.send(b"GET /nope HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
r = c.read_response()
check(r.status == 404, "second HTTP/1.0 request: %r" % r)
# ... and the last one without keep-alive closes it.
c.send(b"GET / HTTP/1.0\r\n\r\n")
r = c.read_response()
check(r.status == 200, "third HTTP/1.0 request: %r" % r)
c.expect_closed()
c.close()

# ---- HTTP/1.0 POST /echo with a length ----
c = Conn(PORT)
c.send(b"POST /echo HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello")
r = c.read_response()
check(r.status == 200 and r.body == b"hello", "HTTP/1.0 echo: %r" % r)
c.expect_closed()
c.close()

# ---- HTTP/1.2 is read as 1.1 (RFC 9110 2.5) ----
c = Conn(PORT)
c.send(b"GET / HTTP/1.2\r\nHost: a\r\n\r\n")
check_hello(c.read_response())
c.close()

# ---- Expect: 100-continue: the interim answer comes before the body is sent ----
c = Conn(PORT)
c.send(get("/echo", method="POST", headers=["Content-Length: 11", "Expect: 100-continue"]))
r = c.read_response()
check(r.status == 100, "Expect: 100-continue: expected 100 first, got %r" % r)
check(r.raw_head == b"HTTP/1.1 100 Continue", "interim answer: %r" % r.raw_head)
# The final head waits for the body: sent right behind the 100, HAProxy
# 2.6 passed the client the head and no body (http-haproxy.sh).
c.expect_open(0.3)
c.send(b"hello world")
r = c.read_response()
check(r.status == 200 and r.body == b"hello world", "after 100 Continue: %r" % r)
check(not r.closes(), "closed after 100-continue: %r" % r.raw_head)
# Same connection, again, with the body sent at once (allowed by RFC 9110).
c.send(get("/echo", method="POST", headers=["Content-Length: 3", "Expect: 100-continue"], body=b"abc"))
r = c.read_response()
if r.status == 100:
    r = c.read_response()
check(r.status == 200 and r.body == b"abc", "second 100-continue: %r" % r)
c.close()

# ---- An Expect list holding 100-continue is that expectation (RFC 9110 10.1.1) ----
for expect in ("100-continue, x-other", "x-other, 100-Continue", "x-a,100-continue"):
    c = Conn(PORT)
    c.send(get("/echo", method="POST", headers=["Content-Length: 2", "Expect: " + expect]))
    r = c.read_response()
    check(r.status == 100, "Expect: %s: expected 100 first, got %r" % (expect, r))
    c.send(b"ok")
    r = c.read_response()
    check(r.status == 200 and r.body == b"ok", "Expect: %s: after 100: %r" % (expect, r))
    c.close()

# ---- Empty lines before a request line are ignored (RFC 9112 2.2) ----
c = Conn(PORT)
c.send(b"\r\n\r\n" + get("/"))
check_hello(c.read_response())
c.close()

# ---- Identical duplicate Content-Length is one value ----
c = Conn(PORT)
c.send(b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nxyz")
r = c.read_response()
check(r.status == 200 and r.body == b"xyz", "duplicate identical Content-Length: %r" % r)
c.close()

# ---- Routes go by the path: absolute-form (RFC 9112 3.2.2), query left out ----
c = Conn(PORT)
for target in ("http://127.0.0.1:%d/" % PORT, "http://127.0.0.1:%d" % PORT,
               "HTTP://example.com/?x=1", "/?a=b"):
    c.send(get(target))
    check_hello(c.read_response())
c.send(get("http://127.0.0.1:%d/echo" % PORT, method="POST", headers=["Content-Length: 2"],
           body=b"ok"))
r = c.read_response()
check(r.status == 200 and r.body == b"ok", "POST to an absolute-form /echo: %r" % r)
c.send(get("http://127.0.0.1:%d/nope?/" % PORT))
check(c.read_response().status == 404, "absolute-form /nope?/ was not a 404")
c.close()

# ---- GET / with a body: announced Connection: close, then closed ----
c = Conn(PORT)
c.send(get("/", headers=["Content-Length: 5"], body=b"hello") + get("/"))
check_hello_closes(c, "GET / with a body")
c = Conn(PORT)
c.send(b"HEAD / HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 5\r\n\r\nhello")
r = c.read_response(head=True)
check(r.status == 200 and r.closes(), "HEAD / with a body, HTTP/1.0 keep-alive: %r" % r.raw_head)
c.expect_closed()
c.close()

# ---- A CRLF after a POST body (RFC 9112 2.2) starts no request ----
c = Conn(PORT)
c.send(get("/echo", method="POST", headers=["Content-Length: 5"], body=b"hello") + b"\r\n")
r = c.read_response()
check(r.status == 200 and r.body == b"hello", "POST then CRLF: %r" % r)
c.sock.shutdown(socket.SHUT_WR)
c.expect_closed()
c.close()
c = Conn(PORT)
c.send(b"\r\n")
c.sock.shutdown(socket.SHUT_WR)
c.expect_closed()
c.close()
EOF
stop_vkd
exit 0
