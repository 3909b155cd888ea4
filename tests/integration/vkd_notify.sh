#!/bin/sh
# sd_notify: READY=1, then on SIGHUP RELOADING=1 (with MONOTONIC_USEC) and
# READY=1 once the new generation serves, then STOPPING=1 on SIGTERM; all
# to a test-owned datagram socket, a path one and an abstract one. The
# reload replaces every worker and the service never stops answering.
. "$top_srcdir/tests/integration/lib.sh"

# run SOCKET: one life of vkd talking to SOCKET.
run() {
	sock=$1
	out=$T/notify.$2
	: >"$out"
	"$VKCLIENT" notify "$sock" "$out" &
	RECV=$!
	note_pids "$RECV"
	sleep 0.1
	echo_config 2 >"$CONF"
	NOTIFY_SOCKET=$sock start_vkd "$CONF"
	wait_for_line "$out" READY=1 1
	wait_workers 2
	old=$WORKERS
	"$VKCLIENT" load "$PORT" 10 3 || fail "echo before reload"

	# Clients keep coming during the reload: none may fail.
	("$VKCLIENT" load "$PORT" 20 50 >"$T/during" 2>&1; echo $? >>"$T/during") &
	LOAD=$!
	note_pids "$LOAD"
	kill -HUP "$VKD_PID"
	wait_for_line "$out" READY=1 2
	wait "$LOAD"
	[ "$(tail -n 1 "$T/during")" = 0 ] || fail "clients failed during reload: $(cat "$T/during")"
	end=$(($(now_ms) + 5000))
	while :; do
		new=$(workers_of "$VKD_PID")
		both=$(printf '%s\n%s\n' "$old" "$new" | sort | uniq -d)
		[ "$(echo "$new" | grep -c .)" -eq 2 ] && [ -z "$both" ] && break
		[ "$(now_ms)" -lt "$end" ] || fail "old workers not replaced: old $old, now $new"
		sleep 0.05
	done
	note_workers $new
	"$VKCLIENT" load "$PORT" 10 3 || fail "echo after reload"

	stop_vkd
	wait_for_line "$out" STOPPING=1 1
	kill -TERM "$RECV"
	wait "$RECV"
	# The order of the state changes.
	seq=$(grep -oE '(READY|RELOADING|STOPPING)=1' "$out" | tr '\n' ' ')
	[ "$seq" = "READY=1 RELOADING=1 READY=1 STOPPING=1 " ] ||
		fail "notify order: $seq (messages: $(cat "$out"))"
	grep 'RELOADING=1' "$out" | grep -qE 'MONOTONIC_USEC=[0-9]+' ||
		fail "RELOADING=1 without MONOTONIC_USEC: $(cat "$out")"
	grep -q 'STATUS=' "$out" || fail "no STATUS= message"
}

# wait_for_line FILE TEXT COUNT: until TEXT is in FILE COUNT times.
wait_for_line() {
	end=$(($(now_ms) + 5000))
	until [ "$(grep -c "$2" "$1")" -ge "$3" ]; do
		[ "$(now_ms)" -lt "$end" ] || fail "no $2 (x$3) in 5 s: $(cat "$1")"
		sleep 0.02
	done
}

run "$T/notify.sock" path
run "@vkd-test-$$-$(basename "$T")" abstract
exit 0
