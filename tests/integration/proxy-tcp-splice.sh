#!/bin/sh
# The TCP proxy's bulk path through pipes (vk_forward() splices): while
# 20 clients are joined to their upstreams (the echo app, in the same
# worker), each forward holds two pipes (four descriptors beside its two
# sockets and the echo's one); the bytes it moves count in its process's
# counters; half the connections killed mid-stream (vkctl kill W/ID: the
# fault path) and half ended by a half-close leave no descriptor behind.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/proxy_lib.sh"
need_vkctl

# Descriptors to spare beyond what max_connections needs: pipes take no other.
proxy_config 1 "127.0.0.1:$EPORT" 'max_connections = 100' | sed 's/^\[app echo\]$/&\nmax_connections = 100/' >"$CONF"
serve "$CONF" 1
W=$WORKERS
export W VKCTL SOCK
py <<'PY'
import json, subprocess

W, VKCTL, SOCK = int(os.environ["W"]), os.environ["VKCTL"], os.environ["SOCK"]
N, SIZE = 20, 256 * 1024


def fds():
    return len(os.listdir("/proc/%d/fd" % W))


def ctl(*args):
    out = subprocess.run([VKCTL, "-s", SOCK] + list(args), capture_output=True, text=True)
    check(out.returncode == 0, "vkctl %s: %s" % (" ".join(args), out.stderr))
    return out.stdout


def drain(s):
    try:
        while s.recv(65536):
            pass
    except ConnectionResetError:
        pass


base = fds()
conns = []
for i in range(N):
    s = socket.create_connection(("127.0.0.1", PORT), timeout=10)
    data = os.urandom(SIZE - 1) + b"\n"  # the echo answers lines
    s.sendall(data)
    got = b""
    while len(got) < SIZE:
        chunk = s.recv(65536)
        check(chunk, "the echo ended after %d bytes" % len(got))
        got += chunk
    check(got == data, "the echo differs")
    conns.append(s)
during = fds()
# Each forward: the client, the upstream, the echo's end of it, two pipes.
check(during - base == 7 * N, "%d more descriptors for %d forwards, want %d" %
      (during - base, N, 7 * N))
procs = [p for p in json.loads(ctl("--json", "ps"))["procs"] if p["app"] == "proxy"]
check(len(procs) == N, "%d proxy processes, want %d" % (len(procs), N))
for p in procs:
    check(p["bytes_in"] == 2 * SIZE and p["bytes_out"] == 2 * SIZE, "counters: %r" % p)
for s in conns[:N // 2]:
    s.sendall(os.urandom(100000))
    peer = "127.0.0.1:%d" % s.getsockname()[1]
    ctl("kill", [str(p["worker"]) + "/" + str(p["id"]) for p in procs if p["peer"] == peer][0])
    drain(s)
    s.close()
for s in conns[N // 2:]:
    s.shutdown(socket.SHUT_WR)
    drain(s)
    s.close()
end = time.monotonic() + 10
while fds() != base and time.monotonic() < end:
    time.sleep(0.05)
check(fds() == base, "%d descriptors now, %d before" % (fds(), base))
PY
stop_vkd
exit 0
