#!/bin/sh
# A reload whose module hangs in its init hook does not stop the master:
# while the module check waits for its timeout, `status` answers at once
# and a killed worker is respawned at once; the reload then fails, naming
# the app, the module file and its config line, and generation 1 goes on.
. "$top_srcdir/tests/integration/lib.sh"
need_vkctl

[ -f "$TESTMODDIR/crashmod.so" ] || skip "test modules not built"
new_port PORT2
echo_config 1 >"$CONF"
printf '[app crash]\nmodule = %s\nlisten = 127.0.0.1:%s\n' "$TESTMODDIR/crashmod.so" "$PORT2" \
	>>"$CONF"
serve "$CONF" 1
wait_ready 1 1
old=$WORKERS

# The same config, but the crash app's init hook never returns.
echo "opt.crash = hang" >>"$CONF"
line=$(grep -n '^\[app crash\]' "$CONF" | cut -d: -f1)
start=$(now_ms)
ctl reload >"$T/reload.out" 2>"$T/reload.err" &
RELOAD=$!
note_pids "$RELOAD"
# Until the master has forked the check child (a child that is no worker).
end=$(($(now_ms) + 5000))
until [ -n "$(children_of "$VKD_PID" | grep -vx "$old")" ]; do
	[ "$(now_ms)" -lt "$end" ] || fail "no module check started"
	sleep 0.02
done

t0=$(now_ms)
status_json >/dev/null
[ $(($(now_ms) - t0)) -lt 2000 ] || fail "status took $(($(now_ms) - t0)) ms during the check"
[ "$(jget 'd["checking"]' <"$T/status.json")" = true ] ||
	fail "status does not say the modules are being checked: $(cat "$T/status.json")"

# A worker that dies meanwhile is replaced at once, not after the check.
kill -KILL "$old"
t0=$(now_ms)
while new=$(workers_of "$VKD_PID") && { [ -z "$new" ] || [ "$new" = "$old" ]; }; do
	[ $(($(now_ms) - t0)) -lt 3000 ] || fail "no worker respawned during the module check"
	sleep 0.02
done
note_workers "$new"
"$VKCLIENT" load "$PORT" 3 3 || fail "the respawned worker does not serve during the check"
kill -0 "$RELOAD" 2>/dev/null || fail "reload answered before the check's timeout"

# The reload's answer: the check timed out in the crash app's init hook.
wait "$RELOAD"
rc=$?
[ "$rc" -eq 1 ] || fail "reload of a hanging module: exit $rc, want 1: $(cat "$T/reload.out")"
elapsed=$(($(now_ms) - start))
[ "$elapsed" -ge 9000 ] || fail "the reload failed after $elapsed ms, before the check timeout"
grep -q "$CONF:$line: app crash: $TESTMODDIR/crashmod.so: .*init hook" "$T/reload.err" ||
	fail "the error does not name the app, its line and module: $(cat "$T/reload.err")"
[ "$(status_json | jget 'd["generation"]')" = 1 ] || fail "a failed reload changed the generation"
[ "$(status_json | jget 'd["checking"]')" = false ] || fail "still checking after the answer"
"$VKCLIENT" load "$PORT" 3 3 || fail "no service after the failed reload"
stop_vkd
exit 0
