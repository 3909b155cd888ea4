#!/bin/sh
# kv across a reload: services start empty in the new generation (what
# survives is nothing: the old generation's shards end with it); a
# connection of the old generation still reaches the old shards while it
# lasts, a new one reaches the new, empty ones.
. "$top_srcdir/tests/integration/lib.sh"
need_vkctl

KV_WORKERS=2
serve_app kv 2
VKCTL_CMD="$VKCTL -s $SOCK"
export VKCTL_CMD

kv_py <<'EOF'
import subprocess
shards = keys_by_shard(WORKERS_N, 5)
old = Redis(PORT)
for keys in shards.values():
    for k in keys:
        check(old.cmd("SET", k, "v" + k) == "OK", "SET " + k)
done = subprocess.run(os.environ["VKCTL_CMD"].split() + ["reload", "--wait"],
                      capture_output=True, text=True)
check(done.returncode == 0, "reload: %s %s" % (done.stdout, done.stderr))
new = Redis(PORT)
for keys in shards.values():
    for k in keys:
        check(new.cmd("GET", k) is None, "the new generation has " + k)
        check(old.cmd("GET", k) == ("v" + k).encode(), "the old connection lost " + k)
EOF

wait_ready 2 2 10000
stop_vkd
exit 0
