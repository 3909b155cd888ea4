#!/bin/sh
# vkctl stop: answered, then vkd drains and exits 0 and removes its
# socket. A stale socket file (vkd killed) is replaced at the next start;
# a second vkd on a socket that answers, or on a path that is not a
# socket, refuses to start and leaves both alone.
. "$top_srcdir/tests/integration/lib.sh"
need_vkctl

serve_ready 2
[ -S "$SOCK" ] || fail "no control socket at $SOCK"

ctl stop >"$T/out" 2>&1 || fail "vkctl stop: $(cat "$T/out")"
expect_vkd_exit 10000 "after vkctl stop"
[ -e "$SOCK" ] && fail "control socket left after stop"
ctl status 2>/dev/null
[ $? -eq 3 ] || fail "status after stop: not exit 3"

# Killed outright, vkd leaves its socket file; the next one replaces it.
serve "$CONF" 2
workers=$WORKERS
for p in $workers; do kill -KILL "$p"; done
kill -KILL "$VKD_PID"
wait_exit "$VKD_PID" 5000 || fail "vkd survived SIGKILL"
# Gone for good, listeners included, before the port is bound again.
for p in $workers; do
	wait_exit "$p" 5000 || fail "worker $p survived SIGKILL"
done
[ -S "$SOCK" ] || fail "expected a stale socket file"
serve "$CONF" 2
wait_ready 2
[ "$(status_json | jget 'd["pid"]')" = "$VKD_PID" ] || fail "stale socket not replaced"

# A second vkd on the same socket (its own port): refused, exit 1; the
# first one still answers on it.
new_port PORT2
c2=$T/vkd2.ini
PORT=$PORT2 echo_config 1 >"$c2"
"$VKD" -f -c "$c2" >>"$LOG" 2>&1 &
second=$!
note_pids "$second"
wait_exit "$second" 5000 || fail "a second vkd on a live socket kept running"
[ "$EXIT_STATUS" -eq 1 ] || fail "second vkd: exit $EXIT_STATUS, want 1"
[ "$(status_json | jget 'd["pid"]')" = "$VKD_PID" ] || fail "the first vkd lost its socket"

# A path that is not a socket is left alone.
echo precious >"$T/file.sock"
sed "s|^control = .*|control = $T/file.sock|" "$c2" >"$T/vkd3.ini"
"$VKD" -f -c "$T/vkd3.ini" >>"$LOG" 2>&1 &
third=$!
note_pids "$third"
wait_exit "$third" 5000 || fail "vkd on a regular file kept running"
[ "$EXIT_STATUS" -eq 1 ] || fail "vkd on a regular file: exit $EXIT_STATUS, want 1"
[ "$(cat "$T/file.sock")" = precious ] || fail "vkd replaced a regular file"

ctl stop >/dev/null || fail "vkctl stop"
expect_vkd_exit 10000 "after vkctl stop"
exit 0
