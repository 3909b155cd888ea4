#!/bin/sh
# Totals in vkctl status never go backwards: the connections, faults and
# bytes that a worker counted stay in the totals after it dies, and in its
# row after it is respawned; after a reload, the totals still hold what
# the old generation counted.
. "$top_srcdir/tests/integration/lib.sh"
need_vkctl

[ -f "$TESTMODDIR/trapmod.so" ] || skip "test modules not built"
serve_trap 1
wait_ready 1 1

# 5 echo connections and one that faults.
"$VKCLIENT" load "$PORT" 5 3 || fail "echo"
"$VKCLIENT" crowd "$PORT" 2 "!segv" >"$T/crowd" 2>&1 || fail "!segv: $(cat "$T/crowd")"

# totals KEY: a number from the totals of a fresh status.
totals() {
	status_json | jget "d['totals']['$1']"
}
row() {
	status_json | jget "d['workers'][0]['$1']"
}
keys="connections_total faults bytes_in bytes_out"
for k in $keys; do
	eval "before_$k=\$(totals $k)"
done
[ "$before_faults" -ge 1 ] || fail "no fault counted: $(cat "$T/status.json")"
[ "$before_connections_total" -ge 8 ] || fail "connections not counted: $(cat "$T/status.json")"

# never_less WHEN: every total (and the row of worker 1) is at least what it was.
never_less() {
	for k in $keys; do
		eval "was=\$before_$k"
		now=$(totals "$k")
		[ "$now" -ge "$was" ] || fail "$1: totals.$k went from $was to $now"
	done
	[ "$(totals restarts)" -ge "${2:-0}" ] || fail "$1: restarts went down"
}

old=$WORKERS
kill -KILL "$old"
end=$(($(now_ms) + 5000))
while new=$(workers_of "$VKD_PID") && { [ -z "$new" ] || [ "$new" = "$old" ]; }; do
	[ "$(now_ms)" -lt "$end" ] || fail "the worker was not respawned"
	sleep 0.02
done
note_workers "$new"
never_less "after the worker died" 1
wait_ready 1 1
never_less "after the worker was respawned" 1
for k in $keys; do
	eval "was=\$before_$k"
	now=$(row "$k")
	[ "$now" -ge "$was" ] || fail "after the respawn: worker 1's $k went from $was to $now"
done

# A reload: generation 1 is gone, its counts stay in the totals.
ctl reload --wait >/dev/null 2>"$T/err" || fail "reload: $(cat "$T/err")"
wait_ready 1 2
note_workers
never_less "after a reload" 1
"$VKCLIENT" load "$PORT" 2 2 || fail "echo after the reload"
now=$(totals connections_total)
[ "$now" -ge $((before_connections_total + 2)) ] ||
	fail "new connections not added to the totals: $now"
stop_vkd
exit 0
