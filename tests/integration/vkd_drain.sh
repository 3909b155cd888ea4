#!/bin/sh
# SIGTERM drains: a client in the middle of a conversation finishes its
# exchange after the signal, then vkd exits 0 with no process left. A
# second run shows that drain_timeout ends a connection that never closes.
. "$top_srcdir/tests/integration/lib.sh"

PORT=$(free_port) || exit 1

# hold_start: a held connection driven through the fifo $T/go (fd 3).
hold_start() {
	rm -f "$T/go" "$T/hold.out"
	mkfifo "$T/go"
	"$VKCLIENT" hold "$PORT" <"$T/go" >"$T/hold.out" 2>&1 &
	HOLD=$!
	note_pids "$HOLD"
	exec 3>"$T/go"
	end=$(($(now_ms) + 5000))
	until grep -q held "$T/hold.out"; do
		[ "$(now_ms)" -lt "$end" ] || fail "hold client: $(cat "$T/hold.out")"
		sleep 0.02
	done
}

c=$T/vkd.ini
vkd_section 1 10s >"$c"
printf '[app echo]\nmodule = echo.so\nlisten = 127.0.0.1:%s\n' "$PORT" >>"$c"
start_vkd "$c"
wait_port "$PORT"
workers=$(wait_workers 1) || exit 1
note_pids $workers

hold_start
kill -TERM "$VKD_PID"
sleep 0.5
kill -0 "$VKD_PID" 2>/dev/null || fail "vkd exited with a connection in flight"
echo go >&3
exec 3>&-
wait "$HOLD" || fail "in-flight connection broken by SIGTERM: $(cat "$T/hold.out")"
# The client closed: the worker has nothing left and vkd exits at once.
wait_exit "$VKD_PID" 3000 || fail "vkd did not exit after the last connection closed"
[ "$EXIT_STATUS" -eq 0 ] || fail "vkd exited with $EXIT_STATUS after SIGTERM"
for p in $workers; do
	kill -0 "$p" 2>/dev/null && fail "worker $p outlived the master"
done

# drain_timeout = 1s: a connection that stays open does not hold vkd up.
: >"$LOG"
vkd_section 1 1s >"$c"
printf '[app echo]\nmodule = echo.so\nlisten = 127.0.0.1:%s\n' "$PORT" >>"$c"
start_vkd "$c"
wait_port "$PORT"
workers=$(wait_workers 1) || exit 1
note_pids $workers
hold_start
start=$(now_ms)
kill -TERM "$VKD_PID"
wait_exit "$VKD_PID" 5000 || fail "vkd did not exit at drain_timeout"
[ "$EXIT_STATUS" -eq 0 ] || fail "vkd exited with $EXIT_STATUS at drain_timeout"
elapsed=$(($(now_ms) - start))
[ "$elapsed" -ge 900 ] || fail "vkd exited after $elapsed ms, before drain_timeout"
exec 3>&-
wait "$HOLD" 2>/dev/null
exit 0
