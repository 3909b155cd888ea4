#!/bin/sh
# kv over 2 workers, isolation on: each client is handed to its worker's
# shard, which carries out the commands on its own keys in place and sends
# the others to the other worker's shard. Batches over both shards are
# answered in order, and a pipelined batch costs no protection change:
# the shards run and nothing else (through each client's own process,
# about five mprotect calls a batch). A shard that faults closes the
# clients handed to it; a client of the other worker gets an error for
# the faulted shard's keys, keeps the rest, and reaches the restarted
# shard, empty.
. "$top_srcdir/tests/integration/lib.sh"
need_vkctl

KV_WORKERS=2
serve_app kv 2 'isolation = on' 'opt.crash_command = on'

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

# Clients in both workers: each one's worker found by its address in ps.
export VKCTL SOCK
kv_py <<'EOF_PY'
import json, subprocess

def ps_workers():
    out = subprocess.run([os.environ["VKCTL"], "-s", os.environ["SOCK"], "--json", "ps"],
                         capture_output=True, text=True)
    check(out.returncode == 0, "vkctl ps: %s" % out.stderr)
    return {p["peer"]: p["worker"] for p in json.loads(out.stdout)["procs"]}

shards = keys_by_shard(WORKERS_N, 16, "hf")
by = {1: [], 2: []}
for _ in range(100):
    c = Redis(PORT)
    check(c.cmd("PING") == "PONG", "PING")
    by[ps_workers()["127.0.0.1:%d" % c.sock.getsockname()[1]]].append(c)
    if by[1] and by[2]:
        break
check(by[1] and by[2], "no client in each worker in 100: %r" % {w: len(v) for w, v in by.items()})
a, b = by[1][0], by[2][0]
check(a.cmd("SET", shards[2][0], "a") == "OK" and b.cmd("SET", shards[2][1], "b") == "OK", "SET")
check(b.cmd("SET", shards[1][0], "c") == "OK", "b's SET on shard 1")

got = b.cmd("DEBUG", "SEGFAULT", shards[1][0])
check(isinstance(got, Err), "the crashing request: %r" % got)
check(a.closed(), "a client handed to the faulted shard is still open")
check(b.cmd("GET", shards[2][1]) == b"b" and b.cmd("GET", shards[2][0]) == b"a",
      "the other shard lost keys")
end = time.time() + 5
while True:
    got = b.cmd("GET", shards[1][0])
    if not isinstance(got, Err) or time.time() > end:
        break
    time.sleep(0.05)
check(got is None, "GET from the restarted shard: %r" % got)
c = Redis(PORT)
check(c.cmd("SET", shards[1][1], "d") == "OK" and b.cmd("GET", shards[1][1]) == b"d",
      "a new client and the restarted shard")
EOF_PY
[ "$(status_total service_restarts)" = 1 ] || fail "service restarts: $(cat "$T/status.json")"

stop_vkd
exit 0
