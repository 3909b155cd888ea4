#!/bin/sh
# ring = SIZE: a connection's socket rings of that size each way. With
# 64k rings (heap = 256k) a 1 MiB echo comes back intact, with Content-Length
# and chunked, and, where strace is installed, the worker's writev calls
# carry more than a 16 KiB ring could hold (each of them is at most a
# ring). A 4k ring still takes a head of 6 KiB (the parser keeps heads
# in its own buffer). Without a heap key the module's heap grows to hold
# the rings; a heap too small for them is a configuration error.
. "$top_srcdir/tests/integration/lib.sh"
need_python

# ring_config HEAP RING: the http app on $PORT; HEAP "" for the module's.
ring_config() {
	vkd_section 1
	printf '[app http]\nmodule = http.so\nlisten = 127.0.0.1:%s\n' "$PORT"
	[ -z "$1" ] || printf 'heap = %s\n' "$1"
	printf 'ring = %s\nopt.max_body = 4M\n' "$2"
}

ring_config 128k 64k >"$T/small.ini"
if "$VKD" -t -c "$T/small.ini" >>"$LOG" 2>&1; then
	fail "vkd -t accepts two 64k rings in a 128k heap"
fi
ring_config "" 64k >"$T/grown.ini"
"$VKD" -t -c "$T/grown.ini" >>"$LOG" 2>&1 || fail "vkd -t refuses ring = 64k without a heap key"

# echo_checks: a 1 MiB body both ways, twice on one connection, and a GET.
echo_checks() {
	http_py <<'PY'
import socket
body = bytes(range(256)) * 4096
for framing in ("length", "chunked"):
    s = socket.create_connection(("127.0.0.1", PORT), timeout=30)
    if framing == "length":
        head = b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % len(body)
        s.sendall(head + body)
    else:
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
        for i in range(0, len(body), 100000):
            piece = body[i:i + 100000]
            s.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
        s.sendall(b"0\r\n\r\n")
    s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    data = b""
    while not data.endswith(b"Hello, World!\n"):
        chunk = s.recv(262144)
        if not chunk:
            break
        data += chunk
    s.close()
    head, _, rest = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 "), (framing, head)
    if framing == "length":
        assert rest[:len(body)] == body, (framing, len(rest))
    else:
        decoded, at = b"", 0
        while True:
            eol = rest.index(b"\r\n", at)
            n = int(rest[at:eol], 16)
            if n == 0:
                break
            decoded += rest[eol + 2:eol + 2 + n]
            at = eol + 4 + n
        assert decoded == body, (framing, len(decoded))
    assert rest.endswith(b"Hello, World!\n"), (framing, rest[-100:])
PY
}

ring_config 256k 64k >"$CONF"
start_vkd "$CONF"
wait_port "$PORT" 10000
note_workers
echo_checks
if command -v strace >/dev/null 2>&1; then
	worker=$(workers_of "$VKD_PID")
	strace -f -e trace=writev -o "$T/writev" -p "$worker" 2>>"$LOG" &
	tracer=$!
	sleep 1
	echo_checks
	kill "$tracer" 2>/dev/null
	wait "$tracer" 2>/dev/null
	# "writev(...) = N": the largest N; 17408 is all a 16 KiB ring holds.
	largest=$(sed -n 's/^.*writev(.*) = \([0-9][0-9]*\)$/\1/p' "$T/writev" | sort -n | tail -1)
	[ -n "$largest" ] || fail "strace saw no writev of the worker"
	[ "$largest" -gt 17408 ] || fail "largest writev is $largest bytes with 64k rings"
	[ "$largest" -le 66560 ] || fail "a writev of $largest bytes, more than a 64k ring"
fi
stop_vkd

ring_config "" 4k >"$CONF"
start_vkd "$CONF"
wait_port "$PORT" 10000
note_workers
http_py <<'PY'
import socket
s = socket.create_connection(("127.0.0.1", PORT), timeout=10)
s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nX-Long: " + b"v" * 6144 + b"\r\n\r\n")
data = b""
while not data.endswith(b"Hello, World!\n"):
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
assert data.startswith(b"HTTP/1.1 200 "), data[:100]
PY
echo_checks
stop_vkd
exit 0
