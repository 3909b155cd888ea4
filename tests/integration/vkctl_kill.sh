#!/bin/sh
# vkctl kill N [SIGNAL]: worker N gets the signal, supervision respawns it
# (a new pid, restarts + 1), the other workers are untouched; a fault
# signal sent from outside (SEGV) acts as that signal, not as a contained
# fault; bad worker numbers and signal names are errors (exit 1) that
# change nothing.
. "$top_srcdir/tests/integration/lib.sh"
need_vkctl

serve_ready 2

# worker_field N KEY: KEY of worker N of the serving generation.
worker_field() {
	status_json | jget "[w['$2'] for w in d['workers'] if w['index'] == $1][0]"
}

# kill_and_check N SIGNAL...: the pid of N changes, restarts grows by one.
kill_and_check() {
	n=$1
	shift
	pid=$(worker_field "$n" pid)
	restarts=$(worker_field "$n" restarts)
	other=$(worker_field $((3 - n)) pid)
	ctl kill "$n" "$@" >"$T/out" 2>&1 || fail "vkctl kill $n $*: $(cat "$T/out")"
	grep -q "worker $n (pid $pid)" "$T/out" || fail "kill output: $(cat "$T/out")"
	end=$(($(now_ms) + 5000))
	while :; do
		new=$(worker_field "$n" pid 2>/dev/null)
		state=$(worker_field "$n" state 2>/dev/null)
		[ -n "$new" ] && [ "$new" != "$pid" ] && [ "$state" = ready ] && break
		[ "$(now_ms)" -lt "$end" ] || fail "worker $n not respawned: $(cat "$T/status.json")"
		sleep 0.05
	done
	note_workers "$new"
	[ "$(worker_field "$n" restarts)" -eq $((restarts + 1)) ] ||
		fail "restarts of worker $n: was $restarts, now $(worker_field "$n" restarts)"
	[ "$(worker_field $((3 - n)) pid)" = "$other" ] || fail "kill $n touched the other worker"
	kill -0 "$pid" 2>/dev/null && fail "old worker $pid still alive"
	[ "$(status_pids)" = "$(sorted_workers)" ] || fail "status and children disagree"
}

kill_and_check 1             # TERM by default: it drains and is respawned
kill_and_check 2 KILL
kill_and_check 1 sigkill     # a second quick death: respawned after a backoff
kill_and_check 2 SEGV        # sent, not a fault: it kills, whatever runs
"$VKCLIENT" load "$PORT" 10 3 || fail "echo after the kills"

# Errors: exit 1 with the daemon's message, nothing changes.
before=$(status_pids)
expect_error() {
	ctl kill "$@" 2>"$T/err" >/dev/null
	rc=$?
	[ $rc -eq 1 ] || fail "vkctl kill $*: exit $rc, want 1"
	grep -q "$KILL_MSG" "$T/err" || fail "vkctl kill $*: message $(cat "$T/err")"
}
KILL_MSG='no worker 3' expect_error 3
KILL_MSG='no worker 0' expect_error 0
KILL_MSG="bad worker number 'x'" expect_error x
KILL_MSG="bad worker number '-1'" expect_error -1
KILL_MSG="unknown signal 'NOPE'" expect_error 1 NOPE
KILL_MSG="unknown signal '0'" expect_error 1 0
KILL_MSG='usage' expect_error
KILL_MSG='usage' expect_error 1 TERM extra
[ "$(status_pids)" = "$before" ] || fail "a failed kill changed the workers"
[ "$(status_json | jget 'd["pid"]')" = "$VKD_PID" ] || fail "master changed"

stop_vkd
exit 0
