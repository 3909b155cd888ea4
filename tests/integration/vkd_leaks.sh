#!/bin/sh
# No descriptor or process left behind: the master's and the workers'
# descriptor counts are the same before and after many connections, and
# after a stop no child of vkd is alive.
. "$top_srcdir/tests/integration/lib.sh"

serve_echo 2
workers=$WORKERS

fds() {
	for p in "$VKD_PID" $workers; do
		printf '%s:%s ' "$p" "$(ls "/proc/$p/fd" | wc -l)"
	done
}

"$VKCLIENT" load "$PORT" 20 2 || fail "warm-up"
sleep 0.2
before=$(fds)
for i in 1 2 3 4 5; do
	"$VKCLIENT" load "$PORT" 100 3 || fail "load round $i"
done
# The server closes after the client: give it a moment to see the hang-up.
end=$(($(now_ms) + 3000))
while after=$(fds) && [ "$after" != "$before" ]; do
	[ "$(now_ms)" -lt "$end" ] || fail "descriptors before: $before after: $after"
	sleep 0.05
done
[ "$(workers_of "$VKD_PID" | sort)" = "$(echo "$workers" | sort)" ] ||
	fail "workers changed under load"
master=$VKD_PID
stop_vkd
[ -z "$(ps -o pid= --ppid "$master")" ] || fail "children of vkd left after stop"
exit 0
