#!/bin/sh
# kv with one worker: each connection hands its client to the shard
# (vk_channel_handoff()), which parses and carries out the commands in
# place. Every command of the subset answers as over channels; pipelined
# batches, cut anywhere, and values larger than a channel's ring go
# through whole; a pipelined batch costs one dispatch (of the shard), not
# three (the connection twice, the shard once); a fault of the shard
# closes its clients, and the restarted shard serves new ones, empty.
. "$top_srcdir/tests/integration/lib.sh"
need_vkctl

KV_WORKERS=1
serve_app kv 1 'isolation = on' 'opt.crash_command = on'

kv_py <<'EOF_PY'
import random
r = Redis(PORT)
check(r.cmd("PING") == "PONG" and r.cmd("PING", "hi") == b"hi", "PING")
ks = ["k%d" % i for i in range(10)]
check(r.cmd("MSET", *[x for k in ks for x in (k, k + "!")]) == "OK", "MSET")
check(r.cmd("MGET", *ks, "missing") == [(k + "!").encode() for k in ks] + [None], "MGET")
check(r.cmd("EXISTS", *ks, "missing") == 10, "EXISTS")
check(r.cmd("DEL", *ks[:4], "missing") == 4, "DEL")
check(r.cmd("SET", "n", "41") == "OK" and r.cmd("INCR", "n") == 42, "INCR")
check(isinstance(r.cmd("INCR", ks[5]), Err), "INCR of a word")
check(r.cmd("SET", "e", "x", "EX", "100") == "OK" and r.cmd("TTL", "e") == 100, "SET EX")
check(r.cmd("EXPIRE", "e", "0") == 1 and r.cmd("GET", "e") is None, "EXPIRE 0")
check(r.cmd("HGETALL", "x").startswith("ERR unknown command"), "unknown command")

# 1,000 mixed commands in one write, against a model of the store.
rnd = random.Random(7)
pool = ["m%d" % i for i in range(12)]
check(isinstance(r.cmd("DEL", *pool), int), "DEL of the pool")
cmds, want = mixed_commands(rnd, pool, 1000)
check_replies("mixed pipeline", cmds, Redis(PORT).pipeline(cmds), want)

# About 60 KiB in one batch, a 20,000-byte value in it, cut anywhere.
cmds, want = [], []
for i in range(120):
    v = ("%d-" % i) * (1 + (i * 37) % 233)
    if i == 60:
        v = "x" * 20000
    cmds += [("SET", "b%d" % (i % 9), v), ("GET", "b%d" % (i % 9)), ("PING", "p%d" % i)]
    want += ["OK", v.encode(), ("p%d" % i).encode()]
data = b"".join(Redis.encode(*c) for c in cmds)
for cut in (1, 5, 4096, 16384, 16385, data.index(b"x" * 100) + 10, len(data) - 1):
    c = Redis(PORT)
    c.send(data[:cut])
    time.sleep(0.02)
    c.send(data[cut:])
    got = [c.reply() for _ in cmds]
    check(got == want, "batch cut at %d" % cut)
    c.close()
big = os.urandom(30000).hex()
check(r.cmd("SET", "large", big) == "OK" and Redis(PORT).cmd("GET", "large") == big.encode(),
      "a value larger than a channel's ring")
# 500 clients at once, each with its parser in the shard's heap.
many = [Redis(PORT) for _ in range(500)]
for i, c in enumerate(many):
    c.send(Redis.encode("SET", "c%d" % i, str(i)))
check(all(c.reply() == "OK" for c in many), "500 clients SET")
check(all(c.cmd("GET", "c%d" % i) == str(i).encode() for i, c in enumerate(many)), "500 clients GET")
for c in many:
    c.close()
r.send(b"PING\r\n")
check(r.reply() == "PONG", "inline PING")
check(r.cmd("QUIT") == "OK" and r.closed(), "QUIT")
EOF_PY

# 200 pipelined batches of 16 SETs, each sent once the last was answered.
before=$(status_total dispatches)
kv_py <<'EOF_PY'
c = Redis(PORT)
for b in range(200):
    check(c.pipeline([("SET", "d%d" % i, "v") for i in range(16)]) == ["OK"] * 16, "batch %d" % b)
c.close()
EOF_PY
after=$(status_total dispatches)
# One dispatch of the shard a batch, a few for the connection's start and
# end, and the shard's expiry timer (every 100 ms): 216 seen; through
# channels (opt.handoff = off) three a batch, 609 seen.
echo "dispatches for 200 batches: $((after - before))"
[ $((after - before)) -le 400 ] || fail "$((after - before)) dispatches for 200 batches"

# A reload while a client is handed off: the draining worker dispatches
# every process to re-time its idle waits, and the connection's must leave
# alone the rings it handed off (their waiters are the shard's tasks: this
# faulted the connection, closing its client at once).
kv_py <<'EOF_PY' &
c = Redis(PORT)
check(c.cmd("SET", "r", "1") == "OK", "before the reload")
open(T + "/handed", "w").close()
time.sleep(1.5)
check(c.cmd("GET", "r") == b"1", "a client of the draining worker is still served")
EOF_PY
pid=$!
i=0
while [ ! -e "$T/handed" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
ctl reload --wait >/dev/null || fail "reload"
wait $pid || fail "the handed-off client during the reload"

kv_py <<'EOF_PY'
a, b = Redis(PORT), Redis(PORT)
check(a.cmd("SET", "kept", "1") == "OK" and b.cmd("GET", "kept") == b"1", "before the fault")
a.send(Redis.encode("DEBUG", "SEGFAULT"))
check(a.closed(), "the client of the faulting command is closed")
check(b.closed(), "every client of the shard is closed")
end = time.time() + 5
while True:
    try:
        got = Redis(PORT).cmd("GET", "kept")
        break
    except OSError:
        if time.time() > end:
            raise
        time.sleep(0.05)
check(got is None, "the restarted shard starts empty: %r" % got)
EOF_PY
status_json >/dev/null
[ "$(jget 'd["totals"]["service_restarts"] == 1 and d["totals"]["faults"] == 1' <"$T/status.json")" = true ] ||
	fail "restarts and faults: $(cat "$T/status.json")"

stop_vkd
exit 0
