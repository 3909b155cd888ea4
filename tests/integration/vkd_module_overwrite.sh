#!/bin/sh
# A module file overwritten in place (`cp new.so live.so`: same inode, as
# `make install` of a module does) changes nothing until a reload: echo
# clients running all through the copy see no failed exchange, no fault
# and no respawn, and the old code still answers. The reload then checks
# and serves the new content. Truncating or deleting the file afterwards
# changes nothing either, not even for a respawned worker.
. "$top_srcdir/tests/integration/lib.sh"
need_vkctl

[ -f "$TESTMODDIR/ver1.so" ] || skip "test modules not built"
mkdir "$T/mods"
cp "$TESTMODDIR/ver1.so" "$T/mods/live.so"
inode=$(stat -c %i "$T/mods/live.so")
{
	vkd_section 1
	printf '[app ver]\nmodule = %s\nlisten = 127.0.0.1:%s\n' "$T/mods/live.so" "$PORT"
} >"$CONF"
serve "$CONF" 1
wait_ready 1 1
worker=$WORKERS
[ "$("$VKCLIENT" ask "$PORT" version)" = 1 ] || fail "version 1 does not answer"

# Echo clients all through the copy: connections one round after another.
# rounds: how many rounds have ended so far.
rounds() {
	cat "$T/load-rounds" 2>/dev/null || echo 0
}
# wait_rounds N: until N rounds have ended (a slow build takes its time).
wait_rounds() {
	_end=$(($(now_ms) + 30000))
	until [ "$(rounds)" -ge "$1" ] || [ -e "$T/load-failed" ]; do
		[ "$(now_ms)" -lt "$_end" ] || fail "only $(rounds) client rounds in 30 s"
		sleep 0.05
	done
}
rm -f "$T/stop-load" "$T/load-failed"
(
	n=0
	while [ ! -e "$T/stop-load" ] && [ "$n" -lt 2000 ]; do
		"$VKCLIENT" load "$PORT" 8 10 >>"$T/load.out" 2>&1 || {
			echo "round $n failed" >"$T/load-failed"
			exit 1
		}
		n=$((n + 1))
		echo "$n" >"$T/load-rounds"
	done
) &
LOADER=$!
wait_rounds 2
cp "$TESTMODDIR/ver2.so" "$T/mods/live.so"
[ "$(stat -c %i "$T/mods/live.so")" = "$inode" ] || fail "cp made a new file: not the case tested"
# Rounds that started after the copy ended.
wait_rounds $(($(rounds) + 3))
touch "$T/stop-load"
wait "$LOADER"
[ -e "$T/load-failed" ] &&
	fail "echo clients failed after the overwrite: $(cat "$T/load-failed") $(tail -n 3 "$T/load.out")"
[ "$("$VKCLIENT" ask "$PORT" version)" = 1 ] || fail "the overwrite changed the code before a reload"
status_json >/dev/null
[ "$(jget 'd["totals"]["faults"]' <"$T/status.json")" = 0 ] ||
	fail "faults after the overwrite: $(cat "$T/status.json")"
[ "$(workers_of "$VKD_PID")" = "$worker" ] || fail "the worker died after the overwrite"

# The reload checks and loads what the file holds now.
ctl reload --wait >"$T/reload.out" 2>&1 || fail "reload after the overwrite: $(cat "$T/reload.out")"
wait_ready 1 2
note_workers
[ "$("$VKCLIENT" ask "$PORT" version)" = 2 ] || fail "the reload does not serve the new content"

# Truncated, then deleted: a respawned worker still loads its generation's copy.
for how in truncate delete; do
	case $how in
	truncate) : >"$T/mods/live.so" ;;
	delete) rm "$T/mods/live.so" ;;
	esac
	old=$(workers_of "$VKD_PID")
	kill -KILL "$old"
	end=$(($(now_ms) + 5000))
	while new=$(workers_of "$VKD_PID") && { [ -z "$new" ] || [ "$new" = "$old" ]; }; do
		[ "$(now_ms)" -lt "$end" ] || fail "no worker respawned after the file was ${how}d"
		sleep 0.05
	done
	note_workers "$new"
	wait_ready 1 2
	[ "$("$VKCLIENT" ask "$PORT" version)" = 2 ] ||
		fail "a worker respawned after the file was ${how}d does not serve"
done
stop_vkd
exit 0
