#!/bin/sh
# A worker whose module refuses to start is respawned with a growing
# delay: the first time at once, then 100 ms, 200 ms, ... (with jitter).
# The test module appends the monotonic time of each start to a file; it
# accepts its first start (vkd's module check) and refuses every later
# one (the workers), naming opt.crash.
. "$top_srcdir/tests/integration/lib.sh"

crashloop_config >"$CONF"
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
# The gaps between starts double: the second is at least 80 ms (100 ms
# less its 20% jitter), the third 160, the fourth 320, ... A loaded
# machine only lengthens a gap (the backoff runs from the death the master
# saw), so each is checked against its floor, not against the one before:
# a slow start followed by a quick one made that order fail under load.
awk 'NR > 1 { gap = $1 - prev; g = NR - 1; floor = g < 2 ? 0 : 80 * 2 ^ (g - 2);
	if (gap < floor) bad = 1; printf "%d(>=%d) ", gap, floor } { prev = $1 }
	END { print ""; exit bad }' "$T/worker-starts" >"$T/gaps" ||
	fail "restart intervals below the backoff: $(cat "$T/gaps")"
# Each refusal names the option the module named (vk_app_refuse(), ABI
# 2.14) at its own line of the configuration.
crash_line=$(grep -n '^opt.crash =' "$CONF" | cut -d: -f1)
grep -qF "$CONF:$crash_line: app crash: opt.crash: init failed" "$LOG" ||
	fail "a worker's refusal does not name opt.crash at line $crash_line"
stop_vkd
exit 0
