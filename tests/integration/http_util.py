"""Raw HTTP/1.x client helpers for the vkd HTTP integration tests.

Imported by the python checks that tests/integration/http-*.sh run through
http_py (see lib.sh), which also gives them PORT, T and VKD_PID. Only
the standard library: a socket, a buffer, and a strict response reader, so
that what the server sends is checked byte for byte rather than through a
forgiving client library. Cases runs a list of named cases and reports
every failing one.
"""
import os
import re
import socket
import struct
import sys
import time
from email.utils import parsedate_to_datetime

HELLO = b"Hello, World!\n"
NOT_FOUND = b"Not Found\n"
IMF_FIXDATE = re.compile(
    rb"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d "
    rb"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$")


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def heap_present_pages(worker, heap_size=65536):
    """For each micro-heap of the worker process, the indexes of its present
    pages (from /proc/PID/pagemap; heaps with none are left out). A heap is
    an anonymous mapping of heap_size bytes (PROT_NONE between dispatches,
    rw- the one left open) followed at once by its read-only guard page: the
    guard tells it from the allocator's own mappings of that size."""
    maps = []
    for line in open("/proc/%d/maps" % worker):
        f = line.split()
        a, b = (int(x, 16) for x in f[0].split("-"))
        maps.append((a, b, f[1], len(f) == 5))
    heaps = []
    with open("/proc/%d/pagemap" % worker, "rb") as pm:
        for (a, b, perms, anon), nxt in zip(maps, maps[1:]):
            if not (b - a == heap_size and anon and perms in ("---p", "rw-p") and nxt[0] == b
                    and nxt[1] - nxt[0] == 4096 and nxt[2] == "r--p"):
                continue
            pm.seek(a // 4096 * 8)
            data = pm.read((b - a) // 4096 * 8)
            present = [i for i in range((b - a) // 4096)
                       if (struct.unpack_from("<Q", data, 8 * i)[0] >> 63) & 1]
            if present:
                heaps.append(present)
    return heaps


def get(target="/", host="localhost", version="HTTP/1.1", headers=(), method="GET", body=b""):
    """Build a request. Host is added for HTTP/1.1 unless host is None."""
    lines = ["%s %s %s" % (method, target, version)]
    if host is not None and version == "HTTP/1.1":
        lines.append("Host: " + host)
    lines.extend(headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Response:
    def __init__(self, version, status, reason, headers, body, raw_head):
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers  # [(name bytes, value bytes)] in order
        self.body = body
        self.raw_head = raw_head

    def header(self, name):
        """The value of the first field called name (case-insensitive), or None."""
        name = name.lower().encode()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    def count(self, name):
        name = name.lower().encode()
        return sum(1 for k, _ in self.headers if k.lower() == name)

    def names(self):
        return [k.lower() for k, _ in self.headers]

    def closes(self):
        v = self.header("Connection")
        return v is not None and b"close" in v.lower()

    def __repr__(self):
        return "<%d %r body=%d bytes>" % (self.status, self.raw_head[:300], len(self.body))


class Conn:
    def __init__(self, port, timeout=5.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.timeout = timeout
        self.buf = bytearray()

    def send(self, data):
        self.sock.sendall(data)

    def close(self):
        self.sock.close()

    def _fill(self):
        data = self.sock.recv(1 << 16)
        if not data:
            raise EOFError("connection closed by the server (%d bytes unparsed: %r)"
                           % (len(self.buf), bytes(self.buf[:200])))
        self.buf += data

    def _until(self, sep, limit=1 << 20):
        while True:
            i = self.buf.find(sep)
            if i >= 0:
                out = bytes(self.buf[:i])
                del self.buf[:i + len(sep)]
                return out
            check(len(self.buf) < limit, "no %r within %d bytes" % (sep, limit))
            self._fill()

    def _exact(self, n):
        while len(self.buf) < n:
            self._fill()
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def read_response(self, head=False):
        """Read one response (a 1xx too: the caller reads on). head: the
        request was HEAD, so no body follows whatever the fields say."""
        raw = self._until(b"\r\n\r\n")
        lines = raw.split(b"\r\n")
        m = re.match(rb"^(HTTP/1\.[01]) (\d{3}) ?(.*)$", lines[0])
        check(m, "bad status line %r" % lines[0])
        version, status, reason = m.group(1), int(m.group(2)), m.group(3)
        headers = []
        for line in lines[1:]:
            check(b":" in line and line[:1] not in (b" ", b"\t"), "bad field line %r" % line)
            k, v = line.split(b":", 1)
            check(re.match(rb"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$", k), "bad field name %r" % k)
            headers.append((k, v.strip(b" \t")))
        r = Response(version, status, reason, headers, b"", raw)
        if head or status < 200 or status in (204, 304):
            return r
        try:
            self._read_body(r)
        except EOFError as e:
            raise EOFError("%s, after the head %r" % (e, raw[:200]))
        return r

    def _read_body(self, r):
        te = r.header("Transfer-Encoding")
        cl = r.header("Content-Length")
        if te is not None:
            check(te.lower() == b"chunked", "unexpected Transfer-Encoding %r" % te)
            check(cl is None, "both Content-Length and Transfer-Encoding in %r" % r.raw_head)
            body = bytearray()
            while True:
                size_line = self._until(b"\r\n", 4096)
                size = int(size_line.split(b";")[0], 16)
                if size == 0:
                    while self._until(b"\r\n", 8192) != b"":
                        pass
                    break
                body += self._exact(size)
                check(self._exact(2) == b"\r\n", "chunk not followed by CRLF")
            r.body = bytes(body)
        elif cl is not None:
            r.body = self._exact(int(cl))
        else:
            # Close-delimited.
            try:
                while True:
                    self._fill()
            except EOFError:
                pass
            r.body = bytes(self.buf)
            self.buf.clear()

    def expect_closed(self, timeout=5.0):
        """The server must close the connection cleanly (FIN, no reset)
        with no more bytes after what was read."""
        check(not self.buf, "unexpected bytes after the response: %r" % bytes(self.buf[:200]))
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(4096)
        except socket.timeout:
            raise AssertionError("server did not close the connection within %gs" % timeout)
        except ConnectionResetError:
            raise AssertionError("connection reset instead of closed")
        finally:
            self.sock.settimeout(self.timeout)
        check(data == b"", "unexpected bytes instead of a close: %r" % data[:200])

    def expect_open(self, wait=0.3):
        """Nothing arrives and the connection stays open for `wait` s."""
        check(not self.buf, "unexpected bytes: %r" % bytes(self.buf[:200]))
        self.sock.settimeout(wait)
        try:
            data = self.sock.recv(4096)
        except socket.timeout:
            return
        finally:
            self.sock.settimeout(self.timeout)
        raise AssertionError("expected the connection to stay open, got %r"
                             % (data[:200] if data else "a close"))


def check_hello(r, version=b"HTTP/1.1"):
    check(r.status == 200, "expected 200, got %r" % r)
    check(r.version == version, "expected %s, got %r" % (version, r))
    check(r.body == HELLO, "bad body %r" % r.body)


def check_date_server(r):
    check(r.count("Server") == 1, "Server: missing or repeated in %r" % r.raw_head)
    check(r.header("Server"), "empty Server in %r" % r.raw_head)
    check(r.count("Date") == 1, "Date: missing or repeated in %r" % r.raw_head)
    date = r.header("Date")
    check(IMF_FIXDATE.match(date), "Date is not an IMF-fixdate: %r" % date)
    skew = abs(parsedate_to_datetime(date.decode()).timestamp() - time.time())
    check(skew < 60, "Date %r is %d s off" % (date, skew))


def expect_error(port, data, status, name=None, delay=0.0):
    """Send data on a new connection: the answer must be `status` (or one
    of a tuple of them), with Connection: close, and then the server must
    close the connection."""
    what = name or repr(data[:60])
    allowed = status if isinstance(status, tuple) else (status,)
    c = Conn(port)
    try:
        c.send(data)
        if delay:
            time.sleep(delay)
        try:
            r = c.read_response()
        except EOFError as e:
            raise AssertionError("%s: expected %s, connection closed: %s" % (what, status, e))
        check(r.status in allowed, "%s: expected %s, got %r" % (what, status, r))
        check(r.closes(), "%s: %d without Connection: close: %r" % (what, r.status, r))
        check_date_server(r)
        try:
            c.expect_closed()
        except AssertionError as e:
            raise AssertionError("%s: after %d: %s" % (what, r.status, e))
    finally:
        c.close()


def check_hello_closes(c, what):
    """The next response on c is GET /'s, with Connection: close, and then
    the server closes the connection (closed here too)."""
    r = c.read_response()
    check_hello(r)
    check(r.closes(), "%s without Connection: close: %r" % (what, r.raw_head))
    c.expect_closed()
    c.close()


def signal_lets_go(c, pid, sig, within, what):
    """Send sig to vkd (pid) to drain it: the idle connection c must be
    closed cleanly (no answer) within `within` seconds, not held to
    drain_timeout. Closes c here too."""
    t0 = time.time()
    os.kill(pid, sig)
    c.expect_closed(within + 3.0)
    took = time.time() - t0
    check(took < within, "%s closed %.1f s after signal %d: it held the drain up"
          % (what, took, sig))
    c.close()


def check_serves(port):
    """The server still answers GET / on a new connection."""
    c = Conn(port)
    c.send(get("/"))
    check_hello(c.read_response())
    c.close()


class Cases:
    """Named cases against the server on port that do not stop at the first
    failure: each failing case is noted, and report() lists them all, so
    that one run shows every broken case."""

    def __init__(self, port):
        self.port = port
        self.failures = []  # list.append is atomic: cases may run in threads

    def run(self, name, fn):
        """Run fn(); a failed check (or a socket error) fails the case."""
        try:
            fn()
        except (AssertionError, OSError, EOFError) as e:
            self.failures.append("%s: %s" % (name, e))

    def refused(self, name, data, status):
        """expect_error() as a case (its message names the case already)."""
        try:
            expect_error(self.port, data, status, name)
        except (AssertionError, OSError, EOFError) as e:
            self.failures.append(str(e) if str(e).startswith(name) else "%s: %s" % (name, e))

    def report(self, what):
        """Exit 1 with the list of failed cases, if any."""
        if self.failures:
            print("%d %s case(s) failed:" % (len(self.failures), what))
            for f in self.failures:
                print("  " + f)
            sys.exit(1)


def keepalive_load(port, stop_path, exchange, clients=16, limit_s=30):
    """clients threads run exchange(conn, rnd) back to back (one request and
    its checked response, which it returns) on keep-alive connections to
    port until stop_path exists (or limit_s passes); a response that closes
    its connection (a draining generation's goodbye) makes that client
    reconnect. Any exception is a failed request. Prints the counts and
    checks that nothing failed, that more than 100 requests were answered
    and that some connection was told to close (a reload happened)."""
    import os
    import random
    import threading

    failures, answered, reconnects = [], [0], [0]
    lock = threading.Lock()
    deadline = time.monotonic() + limit_s

    def client(n):
        rnd = random.Random(n)
        c = None
        while not os.path.exists(stop_path) and time.monotonic() < deadline:
            try:
                if c is None:
                    c = Conn(port, timeout=10)
                r = exchange(c, rnd)
                with lock:
                    answered[0] += 1
                if r.closes():
                    c.close()
                    c = None
                    with lock:
                        reconnects[0] += 1
            except Exception as e:
                with lock:
                    failures.append("client %d: %r" % (n, e))
                if c is not None:
                    c.close()
                c = None

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("answered %d, reconnected %d, failed %d" % (answered[0], reconnects[0], len(failures)))
    for f in failures[:10]:
        print(f)
    check(not failures, "%d requests failed" % len(failures))
    check(answered[0] > 100, "only %d requests answered" % answered[0])
    check(reconnects[0] > 0, "no connection was told to close: was there a reload?")
