"""A line client for the chat integration tests (tests/integration/chat*.sh).

Imported by the python checks they run through chat_py (see lib.sh),
which also gives them PORT and T. Only the standard library.
"""
import re
import socket
import time

JOINED = re.compile(r"^\* (guest(\d+)\.\d+) joined$")


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


class Member:
    """One connection to the room, with the lines it received so far."""

    def __init__(self, port, rcvbuf=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.connect(("127.0.0.1", port))
        self.sock.setblocking(False)
        self.buf = b""
        self.lines = []

    def say(self, line):
        self.sock.setblocking(True)
        self.sock.sendall(line.encode() + b"\n")
        self.sock.setblocking(False)

    def poll(self):
        """Take in what arrived; False once the server closed."""
        while True:
            try:
                data = self.sock.recv(1 << 20)
            except BlockingIOError:
                return True
            except ConnectionResetError:
                return False
            if not data:
                return False
            self.buf += data
            *done, self.buf = self.buf.split(b"\n")
            self.lines.extend(x.decode(errors="replace") for x in done)

    def close(self):
        self.sock.close()


def wait_until(members, cond, timeout=10.0, what="condition"):
    """Poll every member until cond() holds, or fail after timeout."""
    end = time.time() + timeout
    while not cond():
        if time.time() > end:
            raise AssertionError("timed out waiting for " + what)
        for m in members:
            m.poll()
        time.sleep(0.005)


def join_spread(port, workers, at_least=2, most=40):
    """Members until each worker has at_least of them (by their guestW.N
    names, as an observer sees them join); returns (observer, members, names,
    worker of each)."""
    observer = Member(port)
    time.sleep(0.1)
    members, names, where = [], [], []
    while len(members) < most:
        m = Member(port)
        members.append(m)
        seen = len(members)
        wait_until([observer], lambda: sum(1 for x in observer.lines if JOINED.match(x)) >= seen,
                   what="join %d" % seen)
        joins = [JOINED.match(x) for x in observer.lines if JOINED.match(x)]
        names.append(joins[-1].group(1))
        where.append(int(joins[-1].group(2)))
        if all(where.count(w) >= at_least for w in range(1, workers + 1)):
            break
    return observer, members, names, where
