#!/bin/sh
# Channels to "the shard that owns key K" over 2 workers (shardmod.c): from
# a connection of each worker, to the shard in its own worker and to the
# one in the other worker (over the inter-worker path), the same ops give
# the same results: lines and hups (two messages on one channel), 100 KB
# read exactly (far more than a channel's ring), EOF then EPIPE when the
# service closes. When the remote shard faults, the opener's read and
# write see EPIPE at once, not a hang; the shard is restarted and answers
# again.
. "$top_srcdir/tests/integration/lib.sh"
need_vkctl

{
	vkd_section 2
	printf '[app shard]\nmodule = %s\nlisten = 127.0.0.1:%s\n' "$TESTMODDIR/shardmod.so" "$PORT"
} >"$CONF"
start_vkd "$CONF"
wait_port "$PORT" 10000
wait_ready 2 "" 10000
note_workers

"$PYTHON" - "$PORT" <<'EOF' || fail "python checks failed"
import errno, socket, sys, time

PORT = int(sys.argv[1])

def check(cond, msg):
    if not cond:
        raise AssertionError(msg)

class Conn:
    def __init__(self):
        self.sock = socket.create_connection(("127.0.0.1", PORT), timeout=5)
        self.file = self.sock.makefile("rb")
        self.worker = int(self.ask("where x").split()[1])

    def ask(self, line):
        # A reply that does not come in 5 s raises socket.timeout: a hang.
        self.sock.sendall(line.encode() + b"\n")
        reply = self.file.readline()
        check(reply.endswith(b"\n"), "no reply to %r" % line)
        return reply.decode().rstrip("\n")

def owner(c, key):
    return int(c.ask("where " + key).split()[3])

# A connection in each worker. Both workers wait on the one listening
# socket and the first awake accepts, so on a busy machine one worker can
# win dozens in a row: new connections are tried for up to 10 s, with a
# pause after each that gives the other worker time to be scheduled.
conns = {}
deadline = time.time() + 10
while len(conns) < 2 and time.time() < deadline:
    c = Conn()
    if c.worker in conns:
        c.file.close()
        c.sock.close()
        time.sleep(0.02)
        continue
    conns[c.worker] = c
check(sorted(conns) == [1, 2], "connections reached workers %r only" % sorted(conns))
keys = {}
for i in range(1000):
    keys.setdefault(owner(conns[1], "k%d" % i), "k%d" % i)
    if len(keys) == 2:
        break
check(sorted(keys) == [1, 2], "keys hash to shards %r only" % sorted(keys))

EPIPE = -errno.EPIPE
for w, c in sorted(conns.items()):
    for o, k in sorted(keys.items()):
        where = "worker %d to the shard of %s in worker %d" % (w, k, o)
        got = c.ask("echo %s a b c" % k)
        check(got == "worker %d|a|b|c;worker %d|again" % (o, o), "%s: echo %r" % (where, got))
        got = c.ask("bulk %s 100000" % k)
        check(got == "bulk worker %d 100000 OK" % o, "%s: bulk %r" % (where, got))
        got = c.ask("close " + k)
        check(got == "close read=0 write=%d" % EPIPE, "%s: close %r" % (where, got))
        print("%s: ok" % where, file=sys.stderr)

# The remote shard faults: its opener sees EPIPE, reading and writing.
c = conns[1]
k = keys[2]
start = time.time()
got = c.ask("crash " + k)
check(got == "crash read=%d write=%d" % (EPIPE, EPIPE), "crash: %r" % got)
print("remote fault seen in %.3f s" % (time.time() - start), file=sys.stderr)
# Restarted, the shard answers again; the other shard never stopped.
end = time.time() + 5
while True:
    got = c.ask("echo %s a" % k)
    if not got.startswith("error") or time.time() > end:
        break
    time.sleep(0.05)
check(got == "worker 2|a;worker 2|again", "after the restart: %r" % got)
check(conns[2].ask("echo %s b" % keys[1]) == "worker 1|b;worker 1|again", "shard 1")
EOF

status_json >/dev/null
[ "$(jget 'd["totals"]["service_restarts"]' <"$T/status.json")" = 1 ] ||
	fail "service restarts: $(cat "$T/status.json")"
[ "$(jget 'd["totals"]["faults"]' <"$T/status.json")" = 1 ] ||
	fail "faults: $(cat "$T/status.json")"
[ "$(jget 'd["totals"]["link_bytes_in"] > 200000' <"$T/status.json")" = true ] ||
	fail "the remote bulk did not cross the link: $(cat "$T/status.json")"

stop_vkd
exit 0
