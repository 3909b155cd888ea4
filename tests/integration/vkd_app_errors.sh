#!/bin/sh
# Silent ends are app errors now, logged and counted: a coroutine whose
# state does not fit its heap ("!bigstate"), and a blocking operation
# inside the app's own switch ("!switch"), which resumes at vk_end() and
# skips vk_finally(). Each ends with an error its caller sees (the trap
# app then closes the connection), is counted in status (app_errors) and
# logged naming the app and the reason; 100 other connections of the
# worker go on. A vk_alloc() that does not fit the heap ("!bigalloc": as
# a heap too small for an app's options, such as proxy.so's opt.buffer,
# closed every connection with nothing logged) is logged with the bytes
# asked, not counted (an app may handle the ENOMEM). So is a socket's
# receive ring that does not fit when its first read allocates it
# ("!bigring": an HTTP handler's outbound connection on a 64k heap failed
# its first read with ENOMEM and only "the handler raised" was logged).
. "$top_srcdir/tests/integration/lib.sh"
need_vkctl
need_python

serve_trap 1
worker=$WORKERS
for how in bigstate bigalloc switch; do
	"$VKCLIENT" crowd "$PORT" 100 "!$how" >"$T/crowd" 2>&1 ||
		fail "!$how: $(cat "$T/crowd")"
done
[ "$(workers_of "$VKD_PID")" = "$worker" ] || fail "the worker was replaced"
[ "$(status_json | jget 'd["totals"]["app_errors"]')" = 2 ] ||
	fail "expected 2 app errors: $(cat "$T/status.json")"
[ "$(status_json | jget 'd["totals"]["faults"]')" = 0 ] || fail "counted as faults"
grep "app trap:" "$LOG" | grep -q "does not fit" || fail "no line for the state that does not fit"
grep "app trap:" "$LOG" | grep -q "switch" || fail "no line for the lost resume point"
grep "app trap:" "$LOG" | grep -q "allocation of 1048576 bytes" ||
	fail "no line for the allocation that does not fit"
ring=$(ask_line "$PORT" '!bigring' 2>&1) || fail "!bigring: $ring"
ring=${ring#ring }
for _ in $(seq 50); do
	grep -q "allocation of $ring bytes" "$LOG" && break
	sleep 0.1
done
grep "app trap:" "$LOG" | grep -q "allocation of $ring bytes" ||
	fail "no line for the receive ring of $ring bytes that does not fit"
stop_vkd
exit 0
