#!/bin/sh
# The HTTP app's opt.* limits are honoured, on both sides of each limit:
# opt.max_line (414 for the request line, 431 for a field line),
# opt.max_headers (431), opt.max_head (431; heads past the in-state buffer
# still parse up to it) and opt.max_body (413).
. "$top_srcdir/tests/integration/lib.sh"
need_python

serve_http 1 'opt.max_line = 300' 'opt.max_headers = 6' 'opt.max_head = 1k' \
	'opt.max_body = 100'

http_py <<'EOF'
cases = Cases(PORT)
refused = cases.refused


def ok(name, data, body=HELLO):
    def exchange():
        c = Conn(PORT)
        c.send(data)
        r = c.read_response()
        check(r.status == 200 and r.body == body, "expected 200, got %r" % r)
        c.send(get("/"))
        check_hello(c.read_response())
        c.close()

    cases.run(name, exchange)


def line(n):
    """A request line of exactly n bytes, CRLF included."""
    target = "/?" + "a" * (n - len("GET /? HTTP/1.1\r\n"))
    return target


# opt.max_line = 300: lines of 300 bytes pass (200: routes leave the
# query out), 301 do not.
def line_at_max_line():
    c = Conn(PORT)
    c.send(get(line(300)))
    r = c.read_response()
    check_hello(r)
    c.close()


cases.run("request line at max_line", line_at_max_line)
refused("request line over max_line", get(line(301)), 414)
field = "X-F: " + "v" * (300 - len("X-F: \r\n"))
ok("field line at max_line", get("/", headers=[field]))
refused("field line over max_line", get("/", headers=[field + "v"]), 431)
# opt.max_headers = 6 (Host is one of them).
ok("6 fields", get("/", headers=["X-%d: v" % i for i in range(5)]))
refused("7 fields", get("/", headers=["X-%d: v" % i for i in range(6)]), 431)
# opt.max_head = 1k: a head of 1024 bytes passes, 1025 does not (in 5
# fields, each line under max_line).
names = ["X-A", "X-B", "X-C", "X-D"]
fill = 1024 - len(get("/", headers=[n + ": " for n in names]))
heads = [n + ": " + n[-1] * (fill // 4 + (i < fill % 4)) for i, n in enumerate(names)]
check(len(get("/", headers=heads)) == 1024, "test bug: head of %d" % len(get("/", headers=heads)))
ok("head of max_head", get("/", headers=heads))
refused("head over max_head", get("/", headers=heads[:3] + [heads[3] + "D"]), 431)
# opt.max_body = 100.
ok("body at max_body", get("/echo", method="POST", headers=["Content-Length: 100"], body=b"e" * 100),
   body=b"e" * 100)
refused("body over max_body", get("/echo", method="POST", headers=["Content-Length: 101"]), 413)
ok("chunked body at max_body",
   get("/echo", method="POST", headers=["Transfer-Encoding: chunked"],
       body=b"32\r\n" + b"x" * 50 + b"\r\n32\r\n" + b"y" * 50 + b"\r\n0\r\n\r\n"),
   body=b"x" * 50 + b"y" * 50)

cases.report("option")
EOF
stop_vkd
exit 0
