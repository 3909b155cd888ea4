"""An HTTP upstream for proxy-http.sh: proxy_http_upstream.py PORT.

Keep-alive HTTP/1.1, one thread a connection, numbered from 1. By path:
    /echo             200, JSON: method, path, the request's fields, the
                      connection's number, the body's length and sha256
    /upload           200, the request's body back (Content-Length)
    /big?n=N          200, N bytes of a fixed pattern (Content-Length)
    /chunked?n=N      200, the same N bytes in chunks of up to 7000
    /close            200, the same 100000 bytes, ended by the close
    /204              204, no body
    /slow             200 after 3 s
    /cut              a head announcing 1000 bytes, 10 of them, the close
    /bad              Content-Length and Transfer-Encoding together
    /badlf            a field line ending in a bare LF
    /reset            the close, no answer
    /bigfield?n=N     200 with a field X-Big of N bytes
    /status?n=N       an answer with status N
    /midcut?n=N       a head announcing N bytes, N/2 of them, the close
    /midreset?n=N     the same, then a reset (SO_LINGER 0)
    /midchunk         chunks of 1000 bytes, then a reset before the last
    /early413         413 before reading the request's body, then the
                      close (a reset: the body is left unread)
Prints "ready" once listening on 127.0.0.1:PORT; exits after 120 s.
When PORT is taken (another process got it after the test picked it),
prints "taken PORT" and exits with status 98 (EADDRINUSE): the test moves
the port (upstream_util.py).
"""
import hashlib
import json
import socket
import struct
import sys
import threading
import time

from upstream_util import bind

PATTERN = bytes(range(256)) * 4096


def body_of(n):
    out = PATTERN * (n // len(PATTERN) + 1)
    return out[:n]


def read_head(f):
    line = f.readline()
    if not line:
        return None
    method, target, _ = line.decode().rstrip("\r\n").split(" ", 2)
    fields = []
    while True:
        line = f.readline().decode()
        if line in ("\r\n", ""):
            break
        name, value = line.rstrip("\r\n").split(":", 1)
        fields.append((name, value.strip()))
    return method, target, fields


def read_body(f, fields):
    d = {n.lower(): v for n, v in fields}
    if "content-length" in d:
        return f.read(int(d["content-length"]))
    if d.get("transfer-encoding", "").lower() == "chunked":
        out = b""
        while True:
            size = int(f.readline().split(b";")[0], 16)
            if size == 0:
                while f.readline() not in (b"\r\n", b""):
                    pass
                return out
            out += f.read(size)
            f.readline()
    return b""


def answer(conn, status, body, extra=b""):
    conn.sendall(b"HTTP/1.1 %d X\r\nContent-Length: %d\r\n%s\r\n" % (status, len(body), extra) + body)


counter = [0]
lock = threading.Lock()


def handle(conn):
    with lock:
        counter[0] += 1
        number = counter[0]
    f = conn.makefile("rb")
    try:
        while True:
            head = read_head(f)
            if head is None:
                break
            method, target, fields = head
            path, _, query = target.partition("?")
            n = int(query[2:]) if query.startswith("n=") else 0
            if path == "/early413":
                conn.sendall(b"HTTP/1.1 413 Too Large\r\nContent-Length: 9\r\n"
                             b"Connection: close\r\n\r\ntoo large")
                time.sleep(0.2)
                break
            body = read_body(f, fields)
            if path in ("/midcut", "/midreset", "/midchunk"):
                if path == "/midchunk":
                    conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
                                 b"3e8\r\n" + b"c" * 1000 + b"\r\n" * 1 + b"3e8\r\n" + b"d" * 500)
                else:
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % n +
                                 body_of(n // 2))
                if path != "/midcut":
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                break
            if path == "/bigfield":
                answer(conn, 200, b"ok\n", b"X-Big: %s\r\n" % (b"b" * n))
            elif path == "/status":
                answer(conn, n, b"s\n")
            elif path == "/echo":
                out = json.dumps({"method": method, "path": target, "fields": fields,
                                  "conn": number, "len": len(body),
                                  "sha": hashlib.sha256(body).hexdigest()}).encode()
                answer(conn, 200, out, b"Content-Type: application/json\r\nX-Up: yes\r\n"
                       b"Connection: X-Hop\r\nX-Hop: dropped\r\n")
            elif path == "/upload":
                answer(conn, 200, body)
            elif path == "/big":
                if method == "HEAD":
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % n)
                else:
                    answer(conn, 200, body_of(n))
            elif path == "/chunked":
                data = body_of(n)
                out = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                for i in range(0, len(data), 7000):
                    piece = data[i:i + 7000]
                    out += b"%x\r\n%s\r\n" % (len(piece), piece)
                conn.sendall(out + b"0\r\n\r\n")
            elif path == "/close":
                conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + body_of(100000))
                break
            elif path == "/204":
                conn.sendall(b"HTTP/1.1 204 No Content\r\n\r\n")
            elif path == "/slow":
                time.sleep(3)
                answer(conn, 200, b"late\n")
            elif path == "/cut":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789")
                break
            elif path == "/bad":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
                             b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
                break
            elif path == "/badlf":
                conn.sendall(b"HTTP/1.1 200 OK\r\nX-A: 1\nContent-Length: 2\r\n\r\nok")
                break
            elif path == "/reset":
                break
            else:
                answer(conn, 404, b"no\n")
    except (OSError, ValueError):
        pass
    conn.close()


def main():
    port = int(sys.argv[1])
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    bind(ls, port)
    ls.listen(1024)
    threading.Thread(target=lambda: (time.sleep(120), sys.exit(0)), daemon=True).start()
    print("ready", flush=True)
    end = time.monotonic() + 120
    ls.settimeout(1)
    while time.monotonic() < end:
        try:
            conn, _ = ls.accept()
        except socket.timeout:
            continue
        threading.Thread(target=handle, args=(conn,), daemon=True).start()


main()
