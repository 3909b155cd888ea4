#!/bin/sh
# kv over 2 workers, isolation on: each client is handed to its worker's
# shard, which carries out the commands on its own keys in place and sends
# the others to the other worker's shard. Batches over both shards are
# answered in order, and a pipelined batch costs no protection change:
# the shards run and nothing else (through each client's own process,
# about five mprotect calls a batch).
. "$top_srcdir/tests/integration/lib.sh"
need_vkctl

KV_WORKERS=2
serve_app kv 2 'isolation = on'

kv_py <<'EOF_PY'
shards = keys_by_shard(WORKERS_N, 16, "hw")
c = Redis(PORT)
cmds = [("SET", shards[1 + i % 2][i // 2], "v%d" % i) for i in range(16)]
check(c.pipeline(cmds) == ["OK"] * 16, "a batch over both shards")
cmds = [("GET", shards[1 + i % 2][i // 2]) for i in range(16)]
check(c.pipeline(cmds) == [("v%d" % i).encode() for i in range(16)], "read back in order")
EOF_PY

# 200 pipelined batches of 16 SETs over keys of both shards, each sent once
# the last was answered, from 4 clients (in either worker).
before=$(status_total protections)
kv_py <<'EOF_PY'
shards = keys_by_shard(WORKERS_N, 16, "hw")
clients = [Redis(PORT) for _ in range(4)]
for b in range(50):
    for c in clients:
        c.send(b"".join(Redis.encode("SET", shards[1 + i % 2][i // 2], "v") for i in range(16)))
    for c in clients:
        check([c.reply() for _ in range(16)] == ["OK"] * 16, "batch %d" % b)
for c in clients:
    c.close()
EOF_PY
after=$(status_total protections)
# The clients' connections and channels opening and closing: 30 seen;
# through each client's process, about 5 a batch (994 seen).
echo "protections for 200 batches: $((after - before))"
[ $((after - before)) -le 200 ] || fail "$((after - before)) protections for 200 batches"

stop_vkd
exit 0
