#!/bin/sh
# SIGTERM drains: a client in the middle of a conversation finishes its
# exchange after the signal, then vkd exits 0 with no process left. A
# second run shows that drain_timeout ends a connection that never closes.
. "$top_srcdir/tests/integration/lib.sh"

serve_echo 1 "" 10s
hold_start
kill -TERM "$VKD_PID"
sleep 0.5
alive "$VKD_PID" || fail "vkd exited with a connection in flight"
echo go >&3
exec 3>&-
wait "$HOLD" || fail "in-flight connection broken by SIGTERM: $(cat "$T/hold.out")"
# The client closed: the worker has nothing left and vkd exits at once.
expect_vkd_exit 3000 "after the last connection closed"

# drain_timeout = 1s: a connection that stays open does not hold vkd up.
new_log
serve_echo 1 "" 1s
hold_start
start=$(now_ms)
kill -TERM "$VKD_PID"
expect_vkd_exit 5000 "at drain_timeout"
elapsed=$((EXIT_MS - start))
[ "$elapsed" -ge 900 ] || fail "vkd exited after $elapsed ms, before drain_timeout"
exec 3>&-
wait "$HOLD" 2>/dev/null
exit 0
