#!/bin/sh
# A handler that computes forever (the line "!spin") is ended by the
# watchdog once it used max_run of CPU time: its connection is closed,
# 100 other connections on the same worker complete, the worker keeps its
# pid, and status counts one watchdog end (not a fault), logged with the
# app and the code address. Without max_run the default (1s) applies.
. "$top_srcdir/tests/integration/lib.sh"
need_vkctl

spin() {
	"$VKCLIENT" crowd "$PORT" 100 "!spin" >"$T/crowd" 2>&1 || fail "!spin: $(cat "$T/crowd")"
	took=$(sed -n 's/closed after \([0-9]*\) ms/\1/p' "$T/crowd")
	[ "$(workers_of "$VKD_PID")" = "$worker" ] ||
		fail "worker $worker was replaced by $(workers_of "$VKD_PID")"
}

serve_trap 1 'max_run = 100ms'
worker=$WORKERS
spin
# CPU time is at most wall time: not before the budget.
[ "$took" -ge 100 ] || fail "ended after $took ms, before max_run (100ms)"
[ "$(status_json | jget 'd["totals"]["watchdog"]')" = 1 ] ||
	fail "watchdog not counted: $(cat "$T/status.json")"
[ "$(status_json | jget 'd["totals"]["faults"]')" = 0 ] ||
	fail "a watchdog end counted as a fault: $(cat "$T/status.json")"
grep "watchdog" "$LOG" | grep "app trap" | grep -q "trapmod.so+0x" ||
	fail "no watchdog line naming the app and the code"
stop_vkd

# The default budget, 1 s of CPU.
new_log
serve_trap 1
worker=$WORKERS
spin
[ "$took" -ge 1000 ] || fail "ended after $took ms, before the default max_run (1s)"
[ "$(status_json | jget 'd["totals"]["watchdog"]')" = 1 ] ||
	fail "watchdog not counted by default: $(cat "$T/status.json")"
stop_vkd
exit 0
