#!/bin/sh
# kv over 2 workers, numbers at their edges as Redis reads them: a count
# or a bulk length that is not a canonical 64-bit integer (past int64, no
# digits, a leading zero, "-0") is a protocol error that closes the
# connection, not a number wrapped into another command; an INCR of "-0"
# is not an integer. A time to live that would end past int64 (SET EX or
# PX, EXPIRE) is refused, the key kept as it was. Every case is followed by a PING on another
# connection: the shards and their workers are still there.
. "$top_srcdir/tests/integration/lib.sh"
need_vkctl

KV_WORKERS=2
serve_app kv 2

kv_py <<'EOF_PY'
other = Redis(PORT)
for bad in (b"*18446744073709551617\r\n$4\r\nPING\r\n",
            b"*99999999999999999999\r\n",
            b"*\r\n",
            b"*01\r\n$4\r\nPING\r\n",
            b"*-0\r\n",
            b"*1\r\n$18446744073709551620\r\nPING\r\n",
            b"*1\r\n$-\r\n",
            b"*1\r\n$\r\n\r\n",
            b"*1\r\n$04\r\nPING\r\n"):
    r = Redis(PORT)
    r.send(bad)
    got = r.reply()
    check(isinstance(got, Err) and got.startswith("ERR Protocol error"), "%r: %r" % (bad, got))
    check(r.closed(), "%r: not closed" % bad)
    r.close()
    check(other.cmd("PING") == "PONG", "after %r" % bad)

# The numbers that are canonical still are: an empty and a null array are
# skipped, a zero-length argument is one.
r = Redis(PORT)
r.send(b"*0\r\n*-1\r\n*2\r\n$3\r\nSET\r\n$1\r\nz\r\n")
check(isinstance(r.reply(), Err), "SET of one argument")
check(r.cmd("SET", "z", "") == "OK" and r.cmd("GET", "z") == b"", "empty value")

check(r.cmd("SET", "n", "-0") == "OK", "SET -0")
check(isinstance(r.cmd("INCR", "n"), Err), "INCR of -0")
check(r.cmd("SET", "n", "-1") == "OK" and r.cmd("INCR", "n") == 0, "INCR of -1")

# Expiry times whose end is past int64 ms: refused, the key kept (they
# once answered OK and 1, and the key was gone at once).
big_ms, big_s = str(2**63 - 1), str((2**63 - 1) // 1000)
for unit, n in (("PX", big_ms), ("EX", big_s)):
    got = r.cmd("SET", "t", "v", unit, n)
    check(isinstance(got, Err) and "expire" in got, "SET %s %s: %r" % (unit, n, got))
    check(r.cmd("GET", "t") is None, "SET %s %s stored" % (unit, n))
check(r.cmd("SET", "t", "v") == "OK", "SET t")
for n in (big_s, big_ms, str(2**62)):
    got = r.cmd("EXPIRE", "t", n)
    check(isinstance(got, Err), "EXPIRE %s: %r" % (n, got))
    check(r.cmd("GET", "t") == b"v" and r.cmd("TTL", "t") == -1, "EXPIRE %s lost the key" % n)
check(r.cmd("SET", "t", "v", "EX", str(10**9)) == "OK" and r.cmd("TTL", "t") == 10**9, "EX 1e9")
check(r.cmd("EXPIRE", "t", str(-10**15)) == 1 and r.cmd("GET", "t") is None, "EXPIRE past")
check(other.cmd("PING") == "PONG", "at the end")
EOF_PY

stop_vkd
exit 0
