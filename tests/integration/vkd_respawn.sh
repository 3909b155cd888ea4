#!/bin/sh
# kill -9 one worker: a new worker serves within 1 s, and a connection
# held open on the other worker still echoes afterwards.
. "$top_srcdir/tests/integration/lib.sh"

serve_echo 2
workers=$WORKERS

# A held connection: vkclient echoes a line, says "held", waits on a fifo.
hold_start

# Which worker serves it: the client's port in /proc/net/tcp gives the inode.
cport=$(awk '/held/ { print $2 }' "$T/hold.out")
inode=$(server_inode "$cport" "$PORT")
holder=$(owner_of_inode "$inode" $workers) || fail "no worker holds the connection"
victim=$(echo "$workers" | grep -vx "$holder")

# Freeze the holder so that only a new worker can answer, then kill the other.
limit=$(load_scaled_ms 1000)
kill -STOP "$holder"
start=$(now_ms)
kill -KILL "$victim"
while :; do
	now=$(workers_of "$VKD_PID" | grep -vx "$holder" | grep -vx "$victim")
	[ -n "$now" ] && break
	[ $(($(now_ms) - start)) -lt "$limit" ] || { kill -CONT "$holder"; fail "no new worker in $limit ms"; }
	sleep 0.01
done
note_workers $now
"$VKCLIENT" load "$PORT" 3 2 || { kill -CONT "$holder"; fail "the new worker does not serve"; }
elapsed=$(($(now_ms) - start))
kill -CONT "$holder"
[ "$elapsed" -le "$limit" ] || fail "a new worker served only after $elapsed ms (limit $limit)"

# The held connection on the other worker is untouched.
echo go >&3
exec 3>&-
wait "$HOLD" || fail "held connection broken: $(cat "$T/hold.out")"
grep -q ok "$T/hold.out" || fail "held connection: $(cat "$T/hold.out")"
stop_vkd
exit 0
