#!/bin/sh
# Clients that connect to the control socket and send nothing (a stuck
# monitoring agent) cannot lock the others out: with 40 of them connected,
# more than the 32 served at once, every status and reload still succeeds.
. "$top_srcdir/tests/integration/lib.sh"
need_vkctl

serve_ready 1

# 40 silent connections, held until $T/release appears; "connected" once
# all of them are (they may be accepted, or queued, or answered busy).
"$PYTHON" - "$SOCK" "$T" <<'PY' >"$T/silent.out" 2>&1 &
import os, socket, sys, time
path, t = sys.argv[1], sys.argv[2]
socks = []
for _ in range(40):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    socks.append(s)
print("connected", flush=True)
end = time.time() + 30
while not os.path.exists(os.path.join(t, "release")) and time.time() < end:
    time.sleep(0.05)
PY
SILENT=$!
note_pids "$SILENT"
end=$(($(now_ms) + 5000))
until grep -q connected "$T/silent.out"; do
	[ "$(now_ms)" -lt "$end" ] || fail "silent clients: $(cat "$T/silent.out")"
	sleep 0.02
done
# Let the master accept them all.
sleep 0.3

failed=0
for i in 1 2 3 4 5 6 7 8 9 10; do
	ctl status >/dev/null 2>"$T/probe.err" || {
		failed=$((failed + 1))
		echo "status $i: $(cat "$T/probe.err")" >>"$T/probes"
	}
done
ctl reload --wait >/dev/null 2>"$T/probe.err" || {
	failed=$((failed + 1))
	echo "reload: $(cat "$T/probe.err")" >>"$T/probes"
}
for i in 1 2 3 4 5; do
	ctl status >/dev/null 2>"$T/probe.err" || {
		failed=$((failed + 1))
		echo "status after the reload $i: $(cat "$T/probe.err")" >>"$T/probes"
	}
done
[ "$failed" -eq 0 ] || fail "$failed of 16 probes failed beside 40 silent clients: $(cat "$T/probes")"
touch "$T/release"
wait "$SILENT"
note_workers
stop_vkd
exit 0
