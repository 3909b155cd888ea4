#!/bin/sh
# A client that goes away in the middle of a reply costs its shard nothing
# for good: the shard's buffer for a reply larger than its own (or for a
# large request) goes back to its heap when the channel that carried it
# closes. With opt.handoff off, 1 worker and opt.max_request = 480k
# (the shard keeps 1 MiB for its channels), clients that ask for a value
# of 480,000 bytes three times and close without reading must leave the
# shard able to serve it (it failed every later GET of it: 480k of its
# heap kept each time). Then with the defaults over 2 workers (handoff
# on: a GET of a key of the other worker's shard goes over a channel), 20
# such clients must leave both shards' heaps used as before, within 64
# KiB (vkctl ps; 60,000 bytes were kept per GET cut short).
. "$top_srcdir/tests/integration/lib.sh"
need_vkctl
need_python

# gone N SIZE: set a value of SIZE bytes on keys of every shard, then N
# clients each ask for them three times and close without reading; a
# client that stays must then read each back whole.
gone() {
	GONE_N=$1 GONE_SIZE=$2 kv_py <<'EOF_PY'
import socket
n, size = int(os.environ["GONE_N"]), int(os.environ["GONE_SIZE"])
keys = [k[0] for k in keys_by_shard(WORKERS_N, 1, "gone").values()]
c = Redis(PORT, timeout=20)
for k in keys:
    check(c.cmd("SET", k, "v" * size) == "OK", "SET %s" % k)
for i in range(n):
    s = socket.create_connection(("127.0.0.1", PORT))
    s.sendall(b"".join(Redis.encode("GET", k) for k in keys) * 3)
    s.close()
    time.sleep(0.05)
time.sleep(0.3)
for k in keys:
    r = Redis(PORT, timeout=20)
    got = r.cmd("GET", k)
    check(got == b"v" * size, "GET %s after %d clients went: %r" % (k, n, got[:60]))
    r.close()
EOF_PY
}

# shard_heap: the heap used by the kv shards of every worker, summed.
shard_heap() {
	ctl --json ps | jget 'sum(p["heap_used"] for p in d["procs"] if p["app"] == "kv" and p["peer"] == "no peer")'
}

serve_app kv 1 'opt.handoff = off' 'opt.max_request = 480k' 'heap = 4M'
gone 3 480000
stop_vkd

KV_WORKERS=2
new_log
serve_app kv 2
gone 1 60000
before=$(shard_heap)
gone 20 60000
after=$(shard_heap)
[ "$after" -le $((before + 65536)) ] ||
	fail "the shards' heaps grew from $before to $after bytes after 20 clients went"
stop_vkd
exit 0
