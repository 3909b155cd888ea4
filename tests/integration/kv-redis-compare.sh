#!/bin/sh
# kv answers SET's flags (NX, XX, GET, KEEPTTL, EX, PX, EXAT, PXAT) byte
# for byte as the installed redis-server does: the same commands go to
# both, one at a time and in a pipelined batch, and every reply is
# compared as sent. The combinations Redis 7 refuses (NX with XX, KEEPTTL
# or two kinds of expiry together, a flag without its value), a time that
# is no integer, zero, negative or past int64, a time already past, the
# lock idiom (SET key token NX PX ms) and GET's old value (also one larger
# than the shard's reply buffers). Run over one worker, two workers
# (commands on the other worker's keys go over the link) and two workers
# with opt.handoff off (every command goes to its shard over a channel).
# kv-redis-replies.sh keeps redis-server 7.0.15's answers to the other
# commands, for machines without it.
. "$top_srcdir/tests/integration/lib.sh"
need_vkctl
need_python
need_cmd redis-server redis-cli

REDIS_PID=""
redis_cleanup() {
	_rrc=$?
	if [ -n "$REDIS_PID" ] && ours "$REDIS_PID"; then
		kill "$REDIS_PID" 2>/dev/null
		wait "$REDIS_PID" 2>/dev/null
	fi
	(exit "$_rrc")
	cleanup
}
trap redis_cleanup EXIT

# redis-server on $REDIS_PORT (persistence off); a port taken before it
# bound moves, at most 5 times.
new_port REDIS_PORT
for _try in 1 2 3 4 5 6; do
	redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
		--daemonize no --dir "$T" --logfile "$T/redis.log" &
	REDIS_PID=$!
	note_pids "$REDIS_PID"
	_end=$(($(now_ms) + 5000))
	until [ "$(redis-cli -p "$REDIS_PORT" PING 2>/dev/null)" = PONG ]; do
		alive "$REDIS_PID" || break
		[ "$(now_ms)" -lt "$_end" ] || fail "redis-server does not answer"
		sleep 0.05
	done
	alive "$REDIS_PID" && break
	[ "$_try" -lt 6 ] || fail "redis-server: $(tail -n 3 "$T/redis.log")"
	move_port "$REDIS_PORT"
done
export REDIS_PORT

# compare PREFIX: the commands below (keys named PREFIX...) against both.
compare() {
	KV_PREFIX=$1 kv_py <<'EOF_PY'
import time
P = os.environ["KV_PREFIX"]
shards = keys_by_shard(WORKERS_N, 12, P)
K = [shards[1 + i % WORKERS_N][i // WORKERS_N] for i in range(12)]
a, b, lk, n, e, big, huge, t1, t2, t3, t4, lock = K
value_big = "b" * 3000
value_huge = "h" * 20000
NOW = lambda: int(time.time())
FAR = 9223372036854775807
seq = [
    # Refused before anything is read: a syntax error.
    ("SET", a, "v", "NX", "XX"), ("SET", a, "v", "XX", "NX"), ("SET", a, "v", "nx", "xx"),
    ("SET", a, "v", "EX", "10", "KEEPTTL"), ("SET", a, "v", "KEEPTTL", "EX", "10"),
    ("SET", a, "v", "KEEPTTL", "PX", "10"), ("SET", a, "v", "KEEPTTL", "EXAT", "10"),
    ("SET", a, "v", "PXAT", "10", "KEEPTTL"), ("SET", a, "v", "EX", "10", "EXAT", "10"),
    ("SET", a, "v", "PX", "10", "PXAT", "10"), ("SET", a, "v", "EXAT", "10", "PXAT", "10"),
    ("SET", a, "v", "EXAT", "1", "EX", "1"), ("SET", a, "v", "PXAT", "1", "PX", "1"),
    ("SET", a, "v", "EXAT"), ("SET", a, "v", "PXAT"), ("SET", a, "v", "NX", "EX"),
    ("SET", a, "v", "GET", "FOO"), ("SET", a, "v", "EXAT", "abc", "XX", "NX"),
    ("SET", a, "v", "KEEPTTL", "EX"), ("SET", a, "v", "GETX"), ("SET", a, "v", "N"),
    ("GET", a),
    # The time: no integer, zero, negative, past int64.
    ("SET", a, "v", "NX", "EX", "abc"), ("SET", a, "v", "EX", "NX"),
    ("SET", a, "v", "EXAT", "1.5"), ("SET", a, "v", "PXAT", "99999999999999999999"),
    ("SET", a, "v", "EXAT", "0"), ("SET", a, "v", "EXAT", "-1"), ("SET", a, "v", "PXAT", "0"),
    ("SET", a, "v", "PXAT", "-5"), ("SET", a, "v", "EX", "-1"), ("SET", a, "v", "PX", "-1"),
    ("SET", a, "v", "EXAT", "9223372036854776"), ("SET", a, "v", "EX", "9223372036854775"),
    ("SET", a, "v", "PX", str(FAR)), ("SET", a, "v", "NX", "GET", "PX", str(FAR)),
    ("GET", a),
    # NX and XX.
    ("SET", a, "v1", "XX"), ("GET", a), ("SET", a, "v1", "XX", "GET"), ("GET", a),
    ("SET", a, "v1", "NX"), ("SET", a, "v2", "NX"), ("GET", a), ("SET", a, "v3", "XX"),
    ("GET", a), ("SET", a, "v4", "nx", "nx"), ("SET", a, "v5", "xx", "xx"), ("GET", a),
    # GET: the old value, or nil; with NX (Redis 7): the old value and nothing set.
    ("SET", b, "w1", "GET"), ("SET", b, "w2", "GET"), ("SET", b, "w3", "get", "GET"),
    ("GET", b), ("SET", b, "w4", "NX", "GET"), ("GET", b), ("SET", "%snone" % P, "x", "NX", "GET"),
    ("GET", "%snone" % P), ("SET", b, "w5", "XX", "GET"), ("SET", b, "", "GET"),
    ("SET", b, "w6", "GET"), ("INCR", n), ("INCR", n), ("SET", n, "x", "GET"),
    ("MSET", e, "e1", lk, "l1"), ("SET", e, "e2", "GET"), ("SET", lk, "l2", "XX", "GET"),
    ("SET", big, value_big), ("SET", big, "s", "GET"), ("SET", big, value_big, "GET"),
    ("SET", huge, value_huge), ("SET", huge, value_huge + "x", "GET"), ("GET", huge),
    ("SET", huge, "s", "XX", "GET", "EX", "100"), ("TTL", huge),
    # KEEPTTL keeps the time to live; a SET without it clears it.
    ("SET", t1, "v", "EX", "100"), ("SET", t1, "w", "KEEPTTL"), ("TTL", t1), ("GET", t1),
    ("SET", t1, "x", "XX", "KEEPTTL", "GET"), ("TTL", t1), ("SET", t1, "y"), ("TTL", t1),
    ("SET", t1, "z", "KEEPTTL", "KEEPTTL"), ("TTL", t1), ("SET", t2, "v", "keepttl"),
    ("TTL", t2), ("SET", t2, "w", "PX", "100000", "GET"), ("TTL", t2),
    ("SET", t2, "w", "NX", "EX", "5"), ("TTL", t2), ("SET", t2, "w", "XX", "EX", "7"),
    ("TTL", t2), ("SET", t2, "w", "EX", "9", "XX", "KEEPTTL"),
    # EXAT and PXAT: absolute times; one past expires the key at once.
    ("SET", t3, "v", "EXAT", "1"), ("GET", t3), ("TTL", t3), ("EXISTS", t3),
    ("SET", t3, "v"), ("SET", t3, "w", "PXAT", "1", "GET"), ("GET", t3),
    ("SET", t3, "v", "XX", "PXAT", "1"), ("SET", t3, "v", "EXAT", "9223372036854775"),
    ("GET", t3), ("SET", t3, "w", "PXAT", str(FAR), "GET"), ("GET", t3),
    "align",
    ("SET", t4, "v", "EXAT", lambda: str(NOW() + 100)), ("TTL", t4),
    ("SET", t4, "v", "pxat", lambda: str(NOW() * 1000 + 200500), "GET"), ("TTL", t4),
    ("SET", t4, "v", "EXAT", lambda: str(NOW() + 300), "EXAT", lambda: str(NOW() + 50)),
    ("TTL", t4), ("SET", t4, "v", "KEEPTTL"), ("TTL", t4),
    # The lock idiom: the first takes it, the next finds it taken, until it expires.
    ("SET", lock, "t1", "NX", "PX", "30000"), ("SET", lock, "t2", "NX", "PX", "30000"),
    ("GET", lock), ("TTL", lock), ("SET", lock, "t3", "NX", "PX", "150", "GET"),
    ("SET", lk, "t1", "NX", "PX", "150"), ("SET", lk, "t2", "NX", "PX", "150"),
    "sleep",
    ("GET", lk), ("SET", lk, "t2", "NX", "PX", "150"), ("GET", lk),
    ("SET", lk, "t3", "XX", "EX", "100", "GET"), ("TTL", lk),
]


def args_of(cmd):
    return tuple(x() if callable(x) else x for x in cmd)


def align():
    """Wait until a second is 0.05 to 0.3 through: an EXAT's TTL then
    rounds alike on both, however long the command took."""
    for _ in range(40):
        if 0.05 <= time.time() % 1 < 0.3:
            return
        time.sleep(0.025)
    raise AssertionError("the clock never reached a second's first third")


redis, kv = Redis(int(os.environ["REDIS_PORT"])), Redis(PORT)
problems = []
for cmd in seq:
    if cmd == "align":
        align()
        continue
    if cmd == "sleep":
        time.sleep(0.3)
        continue
    args = args_of(cmd)
    redis.send(Redis.encode(*args))
    kv.send(Redis.encode(*args))
    want, got = redis.raw(), kv.raw()
    if want != got:
        problems.append("%r: kv %r, redis %r" % (tuple(str(x)[:40] for x in args), got[:60], want[:60]))

# The same in one pipelined batch each, over fresh keys: the replies in order.
batch = [args_of(c) for c in seq if c not in ("align", "sleep")]
batch = [tuple(x.replace(P, P + "p") for x in c) for c in batch]
for c in (redis, kv):
    c.send(b"".join(Redis.encode(*args) for args in batch))
want = [redis.raw() for _ in batch]
got = [kv.raw() for _ in batch]
for args, w, g in zip(batch, want, got):
    if w != g:
        problems.append("pipelined %r: kv %r, redis %r" % (tuple(str(x)[:40] for x in args), g[:60], w[:60]))
check(not problems, "%d differ: %s" % (len(problems), "; ".join(problems[:20])))
EOF_PY
}

serve_app kv 1
compare kvcmp1:
stop_vkd

KV_WORKERS=2
new_log
serve_app kv 2
compare kvcmp2:
stop_vkd

new_log
serve_app kv 2 'opt.handoff = off'
compare kvcmp3:
stop_vkd
exit 0
