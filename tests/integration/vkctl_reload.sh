#!/bin/sh
# vkctl reload --wait: answers ok with the new generation once it serves
# and the old one accepts no more;
# every worker is new, and echo clients running all through the reload
# see no failed exchange. A broken config: exit 1 with its file:line
# error, and the old workers keep serving (same pids); so they do when the
# new generation dies while starting. A plain reload answers as soon as
# the new generation starts.
. "$top_srcdir/tests/integration/lib.sh"
need_vkctl

serve_echo 2
wait_ready 2 1
old=$(status_pids)

# Clients all through the reload: short connections, one after another.
rm -f "$T/stop-load" "$T/load-failed"
(
	n=0
	while [ ! -e "$T/stop-load" ]; do
		"$VKCLIENT" load "$PORT" 4 3 >>"$T/load.out" 2>&1 || {
			echo "round $n failed" >"$T/load-failed"
			exit 1
		}
		n=$((n + 1))
		echo "$n" >"$T/load-rounds"
	done
) &
LOADER=$!
sleep 0.3

ctl --json reload --wait >"$T/reload.json" 2>"$T/reload.err" ||
	fail "reload --wait failed: $(cat "$T/reload.err")"
[ "$(jget 'd["ok"]' <"$T/reload.json")" = true ] || fail "reload reply: $(cat "$T/reload.json")"
gen=$(jget 'd["generation"]' <"$T/reload.json")
[ "$gen" = 2 ] || fail "reload --wait: generation $gen, want 2"
# Answered only once the new generation serves, and the old one accepts
# no more: a client connecting now reaches generation 2 only.
[ "$(status_json | jget 'd["generation"]')" = 2 ] || fail "generation 2 not serving at the reply"
[ "$(jget 'sum(1 for w in d["workers"] if w["generation"] == 1 and w["state"] == "ready")' \
	<"$T/status.json")" = 0 ] || fail "generation 1 still accepts at the reply: $(cat "$T/status.json")"
[ "$(status_json | jget 'd["reloading"]')" = 0 ] || fail "still reloading at the reply"
wait_ready 2 2
new=$(status_pids)
note_workers $new
[ -z "$(printf '%s\n%s\n' "$old" "$new" | sort | uniq -d)" ] ||
	fail "workers survived the reload: old $old, new $new"
[ "$new" = "$(sorted_workers)" ] || fail "status and children disagree after reload"

# Let the clients go on against the new generation, then check them.
sleep 0.3
touch "$T/stop-load"
wait "$LOADER"
[ -e "$T/load-failed" ] && fail "echo clients failed during the reload: $(cat "$T/load-failed") $(tail -n 5 "$T/load.out")"
[ "$(cat "$T/load-rounds")" -ge 3 ] || fail "too few client rounds to mean anything"

# A broken configuration: exit 1, the file:line error; nothing changes.
cp "$CONF" "$T/good.ini"
sed -i 's/^workers = .*/workers = many/' "$CONF"
line=$(grep -n '^workers = many' "$CONF" | cut -d: -f1)
for how in --wait ""; do
	ctl reload $how >"$T/out" 2>"$T/err"
	rc=$?
	[ $rc -eq 1 ] || fail "reload $how of a broken config: exit $rc, want 1"
	grep -q "^vkctl: $CONF:$line: workers" "$T/err" ||
		fail "reload $how: no $CONF:$line error: $(cat "$T/err")"
done
# The same through -c, which still finds the socket in the broken file.
"$VKCTL" -c "$CONF" reload --wait 2>"$T/err"
[ $? -eq 1 ] || fail "vkctl -c on a broken config: not exit 1"
grep -q "$CONF:$line:" "$T/err" || fail "vkctl -c: $(cat "$T/err")"
[ "$(status_pids)" = "$new" ] || fail "a failed reload changed the workers"
[ "$(sorted_workers)" = "$new" ] || fail "a failed reload changed the children"
[ "$(status_json | jget 'd["generation"]')" = 2 ] || fail "a failed reload changed the generation"
"$VKCLIENT" load "$PORT" 10 3 || fail "echo after a failed reload"

# A new generation that cannot start (its init hook passes vkd's module
# check, then fails in every worker): reload --wait waits for that and
# fails with the reason; the old workers go on.
cp "$T/good.ini" "$CONF"
printf '[app crash]\nmodule = %s\nlisten = 127.0.0.1:%s\nopt.crash = workers\nopt.stamp = %s\n' \
	"$TESTMODDIR/crashmod.so" "$(free_port)" "$T/crash.stamp" >>"$CONF"
ctl reload --wait >"$T/out" 2>"$T/err"
rc=$?
[ $rc -eq 1 ] || fail "reload --wait of a generation that dies: exit $rc ($(cat "$T/out"))"
grep -q "new generation" "$T/err" || fail "reload --wait: no reason: $(cat "$T/err")"
[ "$(status_json | jget 'd["generation"]')" = 2 ] || fail "a failed generation took over"
[ "$(status_json | jget 'd["reloading"]')" = 0 ] || fail "still reloading after the failure"
wait_ready 2 2
[ "$(status_pids)" = "$new" ] || fail "a failed generation changed the workers"
"$VKCLIENT" load "$PORT" 10 3 || fail "echo after a generation failed to start"

# A plain reload answers while the generation starts; it then serves.
cp "$T/good.ini" "$CONF"
ctl --json reload >"$T/reload.json" 2>"$T/err" || fail "reload: $(cat "$T/err")"
gen=$(jget 'd["generation"]' <"$T/reload.json")
[ "$gen" -gt 3 ] || fail "reload: $(cat "$T/reload.json")"
[ "$(jget 'd["state"]' <"$T/reload.json")" = starting ] || fail "reload: $(cat "$T/reload.json")"
end=$(($(now_ms) + 5000))
until [ "$(status_json | jget 'd["generation"]')" = "$gen" ]; do
	[ "$(now_ms)" -lt "$end" ] || fail "generation $gen never served"
	sleep 0.05
done
wait_ready 2 "$gen"
note_workers $(status_pids)
"$VKCLIENT" load "$PORT" 10 3 || fail "echo after the plain reload"

stop_vkd
exit 0
