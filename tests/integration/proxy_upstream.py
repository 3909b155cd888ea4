"""Upstreams for the proxy tests (proxy-*.sh), one per process.

    proxy_upstream.py ident NAME PORT   send "NAME\\n", then echo until the
                                        client ends, then end our side
    proxy_upstream.py hello PORT FILE   send "hello" and end our side at once,
                                        then count what the client still
                                        sends until it ends; append the
                                        count to FILE, a line a connection
    proxy_upstream.py full PORT         a listening socket whose backlog is
                                        full and that never accepts: connects
                                        to it hang until they time out

Each prints "ready" once listening on 127.0.0.1:PORT, and exits after
120 s whatever happens (the test also kills it). When PORT is taken
(another process got it after the test picked it), each prints "taken
PORT" and exits with status 98 (EADDRINUSE): the test moves the port
(upstream_util.py).
"""
import os
import socket
import sys
import threading
import time

from upstream_util import bind


def serve(port, handle, backlog=64):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    bind(ls, port)
    ls.listen(backlog)
    print("ready", flush=True)
    while True:
        conn, _ = ls.accept()
        threading.Thread(target=handle, args=(conn,), daemon=True).start()


def ident(name):
    def handle(conn):
        try:
            conn.sendall(name.encode() + b"\n")
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                conn.sendall(data)
            conn.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        conn.close()
    return handle


def hello(path):
    lock = threading.Lock()

    def handle(conn):
        count = 0
        try:
            conn.sendall(b"hello")
            conn.shutdown(socket.SHUT_WR)
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                count += len(data)
        except OSError:
            count = -1
        conn.close()
        with lock, open(path, "a") as f:
            f.write("%d\n" % count)
    return handle


def full(port):
    ls = socket.socket()
    bind(ls, port)
    ls.listen(0)
    fillers = []
    for _ in range(4):
        c = socket.socket()
        c.setblocking(False)
        c.connect_ex(("127.0.0.1", port))
        fillers.append(c)
    print("ready", flush=True)
    time.sleep(120)


def main():
    threading.Timer(120, lambda: os._exit(0)).start()
    mode = sys.argv[1]
    if mode == "ident":
        serve(int(sys.argv[3]), ident(sys.argv[2]))
    elif mode == "hello":
        serve(int(sys.argv[2]), hello(sys.argv[3]))
    elif mode == "full":
        full(int(sys.argv[2]))
    else:
        sys.exit("unknown mode " + mode)


main()
