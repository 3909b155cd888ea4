#!/bin/sh
# kv batches over 2 workers: a pipelined batch whose commands alternate
# between both shards, with replies the connection makes itself in between
# and commands on keys of both shards at once, is answered in order; a
# batch cut anywhere (inside a length, a key, a value; at and around the
# 16 KiB end of the connection's receive ring) is answered as if it had
# come whole, a command larger than the ring included.
. "$top_srcdir/tests/integration/lib.sh"
need_vkctl

KV_WORKERS=2
serve_app kv 2

kv_py <<'EOF_PY'
import time

shards = keys_by_shard(WORKERS_N, 64, "batch")
a, b = shards[1], shards[2]

# One batch: each command on the other shard than the one before.
cmds, want = [], []
for i in range(64):
    va, vb = "a%d" % i, "b%d" % i
    cmds += [("SET", a[i], va), ("SET", b[i], vb), ("PING",), ("GET", a[i]), ("GET", b[i]),
             ("MGET", b[i], a[i], b[i]), ("INCR", a[i]), ("DEL", a[i], b[i]),
             ("EXISTS", a[i], b[i]), ("GET", b[i])]
    want += ["OK", "OK", "PONG", va.encode(), vb.encode(), [vb.encode(), va.encode(), vb.encode()],
             Err, 2, 0, None]
r = Redis(PORT)
rep = r.pipeline(cmds)
check(len(rep) == len(want), "spanning batch: %d replies" % len(rep))
for i, (got, w) in enumerate(zip(rep, want)):
    ok = isinstance(got, Err) if w is Err else got == w
    check(ok, "spanning batch, command %d %r: %r, not %r" % (i, cmds[i], got, w))

# A batch of about 60 KiB (values of 1 to 700 bytes, one of 20,000: more
# than the receive ring holds), over keys of both shards.
cmds, want = [], []
for i in range(120):
    k = (a, b)[i % 2][i % 64]
    v = ("%d-" % i) * (1 + (i * 37) % 233)
    if i == 60:
        v = "x" * 20000
    cmds += [("SET", k, v), ("GET", k), ("PING", "p%d" % i)]
    want += ["OK", v.encode(), ("p%d" % i).encode()]
data = b"".join(Redis.encode(*c) for c in cmds)
check(len(data) > 4 * 16384, "batch size %d" % len(data))

def run(conn, pieces, pause):
    for j, p in enumerate(pieces):
        conn.send(p)
        if pause and j + 1 < len(pieces):
            time.sleep(pause)
    got = [conn.reply() for _ in cmds]
    return got

def verify(got, what):
    check(len(got) == len(want), "%s: %d replies" % (what, len(got)))
    for i, (g, w) in enumerate(zip(got, want)):
        check(g == w, "%s, command %d %r: %r, not %r" % (what, i, cmds[i][:2], g[:40] if g else g,
                                                          w[:40]))

# Cut once, the second part after a pause: inside the first command's
# head and length, around the ring's end, inside the large value.
big_at = data.index(b"x" * 100)
for cut in (1, 2, 4, 5, 8, 13, 100, 4095, 4096, 16383, 16384, 16385, 32768, big_at + 10,
            big_at + 16384, len(data) - 1):
    c = Redis(PORT)
    verify(run(c, [data[:cut], data[cut:]], 0.05), "cut at %d" % cut)
    c.close()

# Cut every N bytes, sent as fast as the socket takes them.
for step in (7, 1021, 16384, 16385):
    c = Redis(PORT)
    verify(run(c, [data[o:o + step] for o in range(0, len(data), step)], 0), "every %d" % step)
    c.close()
EOF_PY

stop_vkd
exit 0
