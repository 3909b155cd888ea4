#!/bin/sh
# Log levels follow the table of vkd(8): a worker that dies of a signal
# the master did not send is an error, whether it was serving or
# draining; a worker that ends as it was told (a drain, vkctl kill) is
# not. Run at log_level = error, so only error lines are written; a line
# counts when it names the worker's pid.
. "$top_srcdir/tests/integration/lib.sh"
need_vkctl

# error_about PID: whether an error line names PID.
error_about() {
	grep -E " error vkd\[[0-9]+\]" "$LOG" | grep -qw "pid $1"
}

echo_config 1 >"$CONF"
sed -i 's/^log_level = debug$/log_level = error/' "$CONF"
serve "$CONF" 1
wait_ready 1 1

# A serving worker killed by SIGABRT (sent from outside: it ends the worker).
w=$WORKERS
kill -ABRT "$w"
wait_gone "$w" 5000 || fail "worker $w did not die of SIGABRT"
wait_ready 1 1
error_about "$w" || fail "a serving worker killed by SIGABRT is not logged as an error"

# A draining worker killed by SIGSEGV: it lost the connection it drained.
w=$(workers_of "$VKD_PID")
note_workers "$w"
hold_start
# Answered once generation 2 serves; the old worker drains the held one.
ctl reload --wait >/dev/null 2>"$T/err" || fail "reload: $(cat "$T/err")"
alive "$w" || fail "the old worker did not wait for its held connection"
kill -SEGV "$w"
wait_gone "$w" 5000 || fail "worker $w did not die of SIGSEGV"
exec 3>&-
sleep 0.2
error_about "$w" || fail "a draining worker killed by SIGSEGV is not logged as an error"

# Ends the master asked for are not errors: a drain, and vkctl kill.
w=$(workers_of "$VKD_PID")
note_workers "$w"
ctl reload --wait >/dev/null 2>"$T/err" || fail "reload: $(cat "$T/err")"
wait_gone "$w" 5000 || fail "worker $w did not drain"
wait_ready 1 3
sleep 0.2
error_about "$w" && fail "a worker that drained as told is logged as an error"
w=$(workers_of "$VKD_PID")
note_workers "$w"
ctl kill 1 KILL >/dev/null || fail "vkctl kill"
wait_gone "$w" 5000 || fail "worker $w did not die of vkctl kill"
wait_ready 1 3
sleep 0.2
error_about "$w" && fail "a worker killed by vkctl kill is logged as an error"
stop_vkd
exit 0
