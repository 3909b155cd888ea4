#!/bin/sh
# vkctl status counts by app beside the per-worker rows: connections now
# and in all, faults, watchdog ends, app errors and refused connections,
# each app its own; and those totals never go backwards: not when the
# worker is killed and respawned, not across a reload.
. "$top_srcdir/tests/integration/lib.sh"
need_vkctl

new_port TPORT
{
	vkd_section 1
	printf '[app echo]\nmodule = echo.so\nlisten = 127.0.0.1:%s\nmax_connections = 5\n' "$PORT"
	printf '[app trap]\nmodule = %s\nlisten = 127.0.0.1:%s\nmax_run = 100ms\n' \
		"$TESTMODDIR/trapmod.so" "$TPORT"
} >"$CONF"
serve "$CONF" 1
wait_ready 1

# app APP KEY: the app's counter in status.
app() {
	status_json | jget "[a['$2'] for a in d['apps'] if a['name'] == '$1'][0]"
}

"$VKCLIENT" load "$PORT" 5 2 || fail "echo load"
for how in segv spin bigstate; do
	"$VKCLIENT" crowd "$TPORT" 3 "!$how" >"$T/crowd" 2>&1 || fail "!$how: $(cat "$T/crowd")"
done
# Seven connections to echo at once: five are served, two refused.
"$PYTHON" - "$PORT" <<'PY' || fail "the refused connections"
import socket, sys, time
conns = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for _ in range(7)]
time.sleep(0.5)
for c in conns:
    c.close()
PY
check() {
	[ "$(app echo connections_total)" -ge 10 ] || fail "echo total: $(cat "$T/status.json")"
	[ "$(app echo refused)" = 2 ] || fail "echo refused: $(cat "$T/status.json")"
	[ "$(app echo faults)" = 0 ] || fail "echo faults: $(cat "$T/status.json")"
	[ "$(app trap faults)" = 1 ] || fail "trap faults: $(cat "$T/status.json")"
	[ "$(app trap watchdog)" = 1 ] || fail "trap watchdog: $(cat "$T/status.json")"
	[ "$(app trap app_errors)" = 1 ] || fail "trap app_errors: $(cat "$T/status.json")"
	[ "$(app trap connections_total)" = 12 ] || fail "trap total: $(cat "$T/status.json")"
}
end=$(($(now_ms) + 5000))
until [ "$(app echo connections)" = 0 ]; do
	[ "$(now_ms)" -lt "$end" ] || fail "echo connections stay: $(cat "$T/status.json")"
	sleep 0.1
done
check

# The table has a row per app.
ctl status >"$T/table" || fail "vkctl status"
grep -q '^APP ' "$T/table" || fail "no app table: $(cat "$T/table")"
grep -q '^trap ' "$T/table" || fail "no trap row: $(cat "$T/table")"

# A worker killed and respawned: its apps' totals go on.
old=$WORKERS
ctl kill 1 KILL >/dev/null || fail "vkctl kill 1 KILL"
end=$(($(now_ms) + 5000))
while [ "$(workers_of "$VKD_PID")" = "$old" ] || [ -z "$(workers_of "$VKD_PID")" ]; do
	[ "$(now_ms)" -lt "$end" ] || fail "no respawn"
	sleep 0.05
done
wait_ready 1
check

# A reload: a new generation, the same totals.
ctl reload --wait >/dev/null || fail "reload"
wait_ready 1 2
check
"$VKCLIENT" load "$PORT" 1 1 || fail "echo after the reload"
[ "$(app echo connections_total)" -ge 11 ] || fail "echo total after the reload"
stop_vkd
exit 0
