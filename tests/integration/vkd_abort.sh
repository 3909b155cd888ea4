#!/bin/sh
# abort() and a failed assert() in app code end only the connection that
# ran them: 100 other connections on the same worker go on and complete,
# the worker is the same process afterwards, and each end is a fault in
# vkctl status.
. "$top_srcdir/tests/integration/lib.sh"
need_vkctl

serve_trap 1
worker=$WORKERS

for how in abort assert; do
	"$VKCLIENT" crowd "$PORT" 100 "!$how" >"$T/crowd" 2>&1 ||
		fail "!$how: $(cat "$T/crowd")"
	[ "$(workers_of "$VKD_PID")" = "$worker" ] ||
		fail "!$how: worker $worker was replaced by $(workers_of "$VKD_PID")"
done
faults=$(status_json | jget 'd["totals"]["faults"]')
[ "$faults" = 2 ] || fail "expected 2 faults, status says: $(cat "$T/status.json")"
[ "$(status_json | jget 'd["workers"][0]["restarts"]')" = 0 ] || fail "the worker restarted"
stop_vkd
exit 0
