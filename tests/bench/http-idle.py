#!/usr/bin/env python3
"""Idle keep-alive connections for tests/bench/http.

    http-idle.py PORT COUNT

Opens COUNT connections to 127.0.0.1:PORT, sends one "GET /" on each and
reads its whole response (so that every connection has served a request
and is now an idle keep-alive connection), then prints "ready N" and holds
them all open until stdin is closed or sends a line; then closes them and
prints "closed N" where N is how many were still open (the server had not
closed them). At most 256 connections are being set up at a time, so the
server's accept queue never overflows.
"""
import os
import resource
import selectors
import socket
import sys
import time

REQUEST = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n"
EXPECT = b"Hello, World!\n"


def main():
    port, count = int(sys.argv[1]), int(sys.argv[2])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = count + 64
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    sel = selectors.DefaultSelector()
    held = []
    started = 0
    pending = {}  # socket -> received bytes
    deadline = time.time() + 120
    while len(held) < count:
        while started < count and len(pending) < 256:
            s = socket.socket()
            s.setblocking(False)
            try:
                s.connect(("127.0.0.1", port))
            except BlockingIOError:
                pass
            sel.register(s, selectors.EVENT_WRITE)
            pending[s] = None
            started += 1
        if time.time() > deadline:
            sys.exit("http-idle: only %d of %d connections set up in 120 s" % (len(held), count))
        for key, ev in sel.select(timeout=1.0):
            s = key.fileobj
            if pending[s] is None:
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    sys.exit("http-idle: connect: %s" % os.strerror(err))
                s.send(REQUEST)  # small: fits any fresh socket buffer
                pending[s] = b""
                sel.modify(s, selectors.EVENT_READ)
                continue
            data = s.recv(4096)
            if not data:
                sys.exit("http-idle: server closed a connection during set-up")
            pending[s] += data
            buf = pending[s]
            head_end = buf.find(b"\r\n\r\n")
            if head_end >= 0 and buf.endswith(EXPECT) and b" 200 " in buf[:16]:
                sel.unregister(s)
                del pending[s]
                held.append(s)
    print("ready %d" % len(held), flush=True)
    sys.stdin.readline()
    alive = 0
    for s in held:
        # An idle connection the server has closed reads as EOF now.
        try:
            alive += s.recv(1, socket.MSG_DONTWAIT | socket.MSG_PEEK) != b""
        except BlockingIOError:
            alive += 1
        except OSError:
            pass
        s.close()
    print("closed %d" % alive, flush=True)


if __name__ == "__main__":
    main()
