#!/bin/sh
# SIGTERM drains: a client in the middle of a conversation finishes its
# exchange after the signal, then vkd exits 0 with no process left, and
# meanwhile the port refuses new connections. A reload that moves the app
# to another port closes the old one while its generation drains. A last
# run shows that drain_timeout ends a connection that never closes.
. "$top_srcdir/tests/integration/lib.sh"

serve_echo 1 "" 10s
hold_start
kill -TERM "$VKD_PID"
sleep 0.5
alive "$VKD_PID" || fail "vkd exited with a connection in flight"
# Nobody will accept on the port any more: a new connection is refused,
# not queued for nobody.
if "$VKCLIENT" wait "$PORT" 200 2>/dev/null; then
	fail "a new connection was accepted during the drain"
fi
echo go >&3
exec 3>&-
wait "$HOLD" || fail "in-flight connection broken by SIGTERM: $(cat "$T/hold.out")"
# The client closed: the worker has nothing left and vkd exits at once.
expect_vkd_exit 3000 "after the last connection closed"

# A reload that moves the app to another port: while the old generation
# drains a held connection, the old port refuses new ones.
new_log
serve_echo 1 "" 10s
hold_start
OLD_PORT=$PORT
new_port PORT
echo_config 1 "" 10s >"$CONF"
kill -HUP "$VKD_PID"
wait_port "$PORT" 10000
sleep 0.3
if "$VKCLIENT" wait "$OLD_PORT" 200 2>/dev/null; then
	fail "the old port still accepted while its generation drained"
fi
echo go >&3
exec 3>&-
wait "$HOLD" || fail "in-flight connection broken by the reload: $(cat "$T/hold.out")"
stop_vkd

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
