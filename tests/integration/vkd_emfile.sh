#!/bin/sh
# A worker out of descriptors: accept fails with EMFILE while connections
# wait in the listen queue. The worker must not spin on the readable
# listener, must not flood the log (it retries every 100 ms), must go on
# serving the connections it has, and once descriptors free up it must
# serve every queued connection: none is lost.
. "$top_srcdir/tests/integration/lib.sh"

need_cmd prlimit
need_python

serve_echo 1
worker=$WORKERS
# Room for 4 more descriptors than the worker has open now.
open=$(ls "/proc/$worker/fd" | wc -l)
prlimit --pid "$worker" --nofile=$((open + 4)):$((open + 4)) || skip "prlimit refused"

cat >"$T/clients.py" <<'EOT'
import os, socket, sys, time

port, log, worker = int(sys.argv[1]), sys.argv[2], sys.argv[3]


def cpu():
    with open("/proc/%s/stat" % worker) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def expect_line(s, line, what):
    """The next bytes on s are `line`, else exit naming `what`."""
    got = b""
    while not got.endswith(b"\n"):
        data = s.recv(4096)
        if not data:
            sys.exit("%s: closed before its line came back" % what)
        got += data
    if got != line:
        sys.exit("%s: got %r, want %r" % (what, got, line))


socks = []
for i in range(20):
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(10)
    s.sendall(b"hello %d\n" % i)
    socks.append(s)
# The first four are served; the rest wait in the listen queue.
for s in socks[:4]:
    s.settimeout(5)
    got = s.recv(4096)
    if not got.startswith(b"hello"):
        sys.exit("a connection within the limit got %r" % got)
size, ticks = os.path.getsize(log), cpu()
time.sleep(3)
spent = (cpu() - ticks) / os.sysconf("SC_CLK_TCK")
grown = os.path.getsize(log) - size
if spent > 0.5:
    sys.exit("the worker used %.2f s of CPU in 3 s out of descriptors: it spins" % spent)
if grown > 1024:
    sys.exit("the log grew %d bytes in 3 s out of descriptors: it floods" % grown)
# The connections it has are still served.
socks[0].sendall(b"still here\n")
expect_line(socks[0], b"still here\n", "a served connection")
# Free descriptors: every queued connection is served, in a bounded time.
for s in socks[:4]:
    s.close()
for i, s in enumerate(socks[4:], 4):
    expect_line(s, b"hello %d\n" % i, "queued connection %d" % i)
    s.close()  # and one more descriptor for the next in the queue
EOT
"$PYTHON" "$T/clients.py" "$PORT" "$LOG" "$worker" || fail "out of descriptors: see above"
alive "$worker" || fail "the worker died out of descriptors"
"$VKCLIENT" load "$PORT" 3 2 || fail "echo after the descriptors came back"
stop_vkd
exit 0
