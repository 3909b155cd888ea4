#!/bin/sh
# A worker whose module refuses to start is respawned with a growing
# delay: the first time at once, then 100 ms, 200 ms, ... (with jitter).
# The test module appends the monotonic time of each start to a file; it
# accepts its first start (vkd's module check) and refuses every later
# one (the workers).
. "$top_srcdir/tests/integration/lib.sh"

vkd_section 1 >"$CONF"
cat >>"$CONF" <<EOT
[app crash]
module = $TESTMODDIR/crashmod.so
listen = 127.0.0.1:$PORT
opt.crash = workers
opt.stamp = $T/starts
EOT
start_vkd "$CONF"
sleep 3.5
alive "$VKD_PID" || fail "the master died"
# The first line is the module check, the rest are worker starts.
sed 1d "$T/starts" >"$T/worker-starts"
starts=$(wc -l <"$T/worker-starts")
# Without backoff: thousands of starts. With it: 0, 100, 200, 400, 800,
# 1600 ms apart, so 6 or 7 in 3.5 s.
[ "$starts" -ge 5 ] || fail "only $starts starts in 3.5 s: not respawned"
[ "$starts" -le 10 ] || fail "$starts starts in 3.5 s: no backoff"
# The gaps between starts (from the second on) grow every time.
awk 'NR > 1 { gap = $1 - prev; if (NR > 2 && gap <= last) bad = 1;
	printf "%d ", gap; last = gap } { prev = $1 }
	END { print ""; exit bad }' "$T/worker-starts" >"$T/gaps" ||
	fail "restart intervals do not grow: $(cat "$T/gaps")"
stop_vkd
exit 0
