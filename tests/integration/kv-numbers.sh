#!/bin/sh
# kv over 2 workers, numbers at their edges as Redis reads them: a count
# or a bulk length that is not a canonical 64-bit integer (past int64, no
# digits, a leading zero, "-0") is a protocol error that closes the
# connection, not a number wrapped into another command; an INCR of "-0"
# is not an integer. Every case is followed by a PING on another
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
check(other.cmd("PING") == "PONG", "at the end")
EOF_PY

stop_vkd
exit 0
