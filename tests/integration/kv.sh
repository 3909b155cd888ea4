#!/bin/sh
# kv over 2 workers: every command of the subset, keys sharded over both
# workers' shards and reached from connections in either worker, replies
# in order when pipelined, errors for what is not supported; redis-cli and
# redis-benchmark work against it unchanged (when redis-tools is there).
. "$top_srcdir/tests/integration/lib.sh"
need_vkctl

KV_WORKERS=2
serve_app kv 2

kv_py <<'EOF'
shards = keys_by_shard(WORKERS_N, 20)
conns = [Redis(PORT) for _ in range(8)]
r = conns[0]
check(r.cmd("PING") == "PONG", "PING")
check(r.cmd("PING", "hi") == b"hi", "PING msg")

# Keys of both shards, set from some connections, read from others.
for keys in shards.values():
    for i, k in enumerate(keys):
        check(conns[i % 8].cmd("SET", k, "v" + k) == "OK", "SET " + k)
for keys in shards.values():
    for i, k in enumerate(keys):
        got = conns[(i + 3) % 8].cmd("GET", k)
        check(got == ("v" + k).encode(), "GET %s: %r" % (k, got))

# Several keys: split by shard, put back together in order.
ks = shards[1][:5] + shards[2][:5]
check(r.cmd("MSET", *[x for k in ks for x in (k, k + "!")]) == "OK", "MSET")
got = r.cmd("MGET", *ks, "missing")
check(got == [(k + "!").encode() for k in ks] + [None], "MGET: %r" % got)
check(r.cmd("EXISTS", *ks, "missing") == 10, "EXISTS")
check(r.cmd("DEL", *ks[:4], "missing") == 4, "DEL")
check(r.cmd("EXISTS", *ks) == 6, "EXISTS after DEL")
check(r.cmd("DEL", ks[9]) == 1 and r.cmd("DEL", ks[9]) == 0, "DEL one")

# INCR
check(r.cmd("SET", "n", "41") == "OK" and r.cmd("INCR", "n") == 42, "INCR")
check(r.cmd("INCR", "fresh") == 1, "INCR of nothing")
check(isinstance(r.cmd("INCR", ks[5]), Err), "INCR of a word")
check(r.cmd("SET", "top", str(2**63 - 1)) == "OK", "SET top")
check(isinstance(r.cmd("INCR", "top"), Err), "INCR past int64")

# Expiry: SET EX/PX, EXPIRE, TTL
check(r.cmd("SET", "e1", "x", "PX", "150") == "OK", "SET PX")
check(r.cmd("TTL", "e1") in (0, 1), "TTL of PX 150")
check(r.cmd("SET", "e2", "x", "EX", "100") == "OK" and r.cmd("TTL", "e2") == 100, "SET EX")
check(r.cmd("TTL", "n") == -1 and r.cmd("TTL", "nothing") == -2, "TTL -1/-2")
check(r.cmd("EXPIRE", "n", "50") == 1 and r.cmd("TTL", "n") in (49, 50), "EXPIRE")
check(r.cmd("EXPIRE", "nothing", "5") == 0, "EXPIRE of nothing")
time.sleep(0.3)
check(r.cmd("GET", "e1") is None and r.cmd("EXISTS", "e1") == 0, "expired")
check(r.cmd("EXPIRE", "e2", "0") == 1 and r.cmd("GET", "e2") is None, "EXPIRE 0")
check(isinstance(r.cmd("SET", "x", "y", "EX", "0"), Err), "SET EX 0")
# SET's other flags (kv-redis-compare.sh holds them against redis-server).
check(r.cmd("SET", "x", "y", "NX", "PX", "30000") == "OK", "SET NX PX")
check(r.cmd("SET", "x", "z", "NX", "PX", "30000") is None, "SET NX of a key there")
check(r.cmd("SET", "x", "z", "XX", "KEEPTTL", "GET") == b"y" and r.cmd("TTL", "x") == 30, "SET XX KEEPTTL GET")
check(r.cmd("SET", "x", "w", "EXAT", "1") == "OK" and r.cmd("GET", "x") is None, "SET EXAT past")
check(r.cmd("SET", "x", "y", "NX", "XX") == "ERR syntax error", "SET NX XX")

# What is not supported: an error, and the connection goes on.
check(r.cmd("HGETALL", "x").startswith("ERR unknown command"), "unknown command")
check(r.cmd("GET").startswith("ERR wrong number"), "arity")
check(r.cmd("PING") == "PONG", "after errors")

# Pipelined: 200 commands in one write, answered in order across shards.
cmds = [("SET", "p%d" % i, str(i)) for i in range(100)] + [("GET", "p%d" % i) for i in range(100)]
rep = conns[5].pipeline(cmds)
check(rep[:100] == ["OK"] * 100, "pipelined SETs")
check(rep[100:] == [str(i).encode() for i in range(100)], "pipelined GETs")

# A pipeline of 1,000 mixed commands in one write, over keys of both
# shards: every answer checked, in order, against a model of the store.
import random
rnd = random.Random(12)
pool = shards[1][:6] + shards[2][:6] + ["m%d" % i for i in range(8)]
check(isinstance(r.cmd("DEL", *pool), int), "DEL of the pool")
cmds, want = mixed_commands(rnd, pool, 1000, with_ping=True)
check_replies("mixed pipeline", cmds, conns[6].pipeline(cmds), want)

# A value larger than a channel's ring goes through whole, either way.
big = os.urandom(30000).hex()
check(r.cmd("SET", "large", big) == "OK", "SET large")
check(conns[1].cmd("GET", "large") == big.encode(), "GET large")

# Inline commands, as typed into telnet.
r.send(b"PING\r\n")
check(r.reply() == "PONG", "inline PING")
check(r.cmd("QUIT") == "OK" and r.closed(), "QUIT")
EOF

# Both shards served, and the links between the workers carried requests.
status_json >/dev/null
[ "$(jget 'all(w["channels"] > 0 for w in d["workers"])' <"$T/status.json")" = true ] ||
	fail "a shard was not used: $(cat "$T/status.json")"
[ "$(jget 'd["totals"]["link_bytes_in"] > 0 and d["totals"]["services"] == 2' <"$T/status.json")" = true ] ||
	fail "no traffic between the workers: $(cat "$T/status.json")"

if command -v redis-cli >/dev/null 2>&1 && command -v redis-benchmark >/dev/null 2>&1; then
	[ "$(redis-cli -p "$PORT" set greeting hello)" = OK ] || fail "redis-cli set"
	[ "$(redis-cli -p "$PORT" get greeting)" = hello ] || fail "redis-cli get"
	redis-benchmark -p "$PORT" -t set,get -n 2000 -c 10 -P 4 --csv >"$T/bench" 2>&1 ||
		fail "redis-benchmark: $(cat "$T/bench")"
	grep -q '^"SET"' "$T/bench" && grep -q '^"GET"' "$T/bench" ||
		fail "redis-benchmark: $(cat "$T/bench")"
else
	echo "redis-tools not installed: redis-cli and redis-benchmark not tried" >&2
fi

stop_vkd
exit 0
