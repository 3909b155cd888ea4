"""A strict Redis protocol (RESP 2) client for the kv integration tests.

Imported by the python checks that tests/integration/kv-*.sh run through
kv_py (see lib.sh), which also gives them PORT and T. Only the standard
library. Replies come back as Python values: str for a status (+OK),
int for an integer, bytes for a bulk string, None for a null bulk, a
list for an array, and Err for an error reply (never raised, so that a
test can compare it).
"""
import socket
import time


class Err(str):
    """An error reply, its text without the leading '-'."""


class Redis:
    def __init__(self, port, timeout=5.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def close(self):
        self.sock.close()

    @staticmethod
    def encode(*args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            if isinstance(a, int):
                a = str(a)
            if isinstance(a, str):
                a = a.encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        return b"".join(out)

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("connection closed")
        self.buf += data

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n + 2:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return Err(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n)
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.reply() for _ in range(n)]
        raise ValueError("bad reply line %r" % line)

    def raw(self):
        """One reply as the bytes it came in (its CRLFs included)."""
        line = self._line()
        out = line + b"\r\n"
        n = int(line[1:]) if line[:1] in (b"$", b"*") else -1
        if line[:1] == b"$" and n >= 0:
            out += self._exact(n) + b"\r\n"
        elif line[:1] == b"*":
            for _ in range(n):
                out += self.raw()
        return out

    def cmd(self, *args):
        self.send(self.encode(*args))
        return self.reply()

    def pipeline(self, commands):
        self.send(b"".join(self.encode(*c) for c in commands))
        return [self.reply() for _ in commands]

    def closed(self, timeout=2.0):
        """True when the server closes the connection within timeout."""
        end = time.time() + timeout
        self.sock.settimeout(timeout)
        try:
            while time.time() < end:
                if not self.sock.recv(65536):
                    return True
        except (ConnectionResetError, socket.timeout):
            return False
        return False


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def keys_by_shard(workers, count=64, prefix="key"):
    """Keys spread over the shards, as kv shards them: FNV-1a 64 modulo the workers."""
    shards = {w: [] for w in range(1, workers + 1)}
    for i in range(count * workers * 4):
        k = "%s%d" % (prefix, i)
        h = 0xcbf29ce484222325
        for c in k.encode():
            h ^= c
            h = (h * 0x100000001b3) & 0xffffffffffffffff
        w = h % workers + 1
        if len(shards[w]) < count:
            shards[w].append(k)
        if all(len(v) == count for v in shards.values()):
            break
    return shards


def mixed_commands(rnd, pool, count, with_ping=False):
    """count random commands on the keys of pool (SET, GET, INCR, EXISTS,
    DEL, MGET, an unknown one, and PING when with_ping), and the reply each
    must get, from a model of the store that starts with pool deleted."""
    model, cmds, want = {}, [], []
    kinds = 8 if with_ping else 7
    for i in range(count):
        k, c = rnd.choice(pool), rnd.randrange(kinds)
        if c == 0:
            cmds.append(("SET", k, "s%d" % i)); want.append("OK"); model[k] = b"s%d" % i
        elif c == 1:
            cmds.append(("GET", k)); want.append(model.get(k))
        elif c == 2:
            n = int(model[k]) + 1 if k in model and model[k].isdigit() else (1 if k not in model else None)
            cmds.append(("INCR", k)); want.append(n if n is not None else Err)
            if n is not None:
                model[k] = str(n).encode()
        elif c == 3:
            k2 = rnd.choice(pool)
            cmds.append(("EXISTS", k, k2)); want.append(int(k in model) + int(k2 in model))
        elif c == 4:
            cmds.append(("DEL", k)); want.append(int(model.pop(k, None) is not None))
        elif c == 5:
            k2 = rnd.choice(pool)
            cmds.append(("MGET", k, k2)); want.append([model.get(k), model.get(k2)])
        elif c == 6 and with_ping:
            cmds.append(("PING",)); want.append("PONG")
        else:
            cmds.append(("NOSUCH", k)); want.append(Err)
    return cmds, want


def check_replies(what, cmds, rep, want):
    """Every reply as the model wants it, in order."""
    check(len(rep) == len(want), "%s: %d replies, not %d" % (what, len(rep), len(want)))
    for i, (got, w) in enumerate(zip(rep, want)):
        ok = isinstance(got, Err) if w is Err else got == w
        check(ok, "%s, command %d %r: %r, not %r" % (what, i, cmds[i], got, w))
