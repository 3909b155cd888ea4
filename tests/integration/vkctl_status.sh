#!/bin/sh
# vkctl status lists every worker with its real pid, as a table and as
# valid JSON; version, -c, unknown commands and usage errors; a socket
# nobody listens on is exit 3 naming the path.
. "$top_srcdir/tests/integration/lib.sh"
need_vkctl

serve_ready 3

# JSON: valid, the master's pid, one entry per real child, same pids.
status_json | "$PYTHON" -m json.tool >/dev/null || fail "status is not valid JSON"
[ "$(status_json | jget 'd["ok"]')" = true ] || fail "status not ok"
[ "$(status_json | jget 'd["pid"]')" = "$VKD_PID" ] || fail "status pid is not the master's"
[ "$(status_json | jget 'd["generation"]')" = 1 ] || fail "first generation is not 1"
[ "$(status_pids)" = "$(sorted_workers)" ] ||
	fail "status pids $(status_pids | tr '\n' ' ') != children $(sorted_workers | tr '\n' ' ')"
[ "$(status_json | jget 'sorted(w["index"] for w in d["workers"])' | tr '\n' ' ')" = "1 2 3 " ] ||
	fail "worker indexes: $(cat "$T/status.json")"
[ "$(status_json | jget 'd["totals"]["workers"]')" = 3 ] || fail "totals.workers != 3"

# The counters move with traffic.
"$VKCLIENT" load "$PORT" 10 3 || fail "echo"
[ "$(status_json | jget 'd["totals"]["connections_total"]')" -ge 10 ] ||
	fail "connections_total did not count: $(cat "$T/status.json")"
[ "$(status_json | jget 'd["totals"]["bytes_in"] > 0 and d["totals"]["bytes_out"] > 0')" = true ] ||
	fail "bytes not counted: $(cat "$T/status.json")"

# The table: one row per worker, with its pid in the PID column.
ctl status >"$T/table" || fail "vkctl status (table) failed"
rows=$(awk '$1 ~ /^[0-9]+$/ { print $3 }' "$T/table" | sort -n)
[ "$rows" = "$(sorted_workers)" ] || fail "table pids: $(cat "$T/table")"
grep -q '^total' "$T/table" || fail "no total row: $(cat "$T/table")"

# -c: the socket's path from the config file.
"$VKCTL" -c "$CONF" --json status | jget 'd["pid"]' >"$T/pid" || fail "vkctl -c status failed"
[ "$(cat "$T/pid")" = "$VKD_PID" ] || fail "vkctl -c reached another daemon"

# version: the daemon's, which is vkd -V's.
want=$("$VKD" -V | awk '{ print $NF }')
[ "$(ctl version)" = "vkd $want" ] || fail "version: $(ctl version)"
[ "$(ctl --json version | jget 'd["version"]')" = "$want" ] || fail "version JSON"

# Unknown command: exit 1, the daemon's error on stderr.
ctl frobnicate 2>"$T/err"
[ $? -eq 1 ] || fail "unknown command: exit not 1"
grep -q "unknown command 'frobnicate'" "$T/err" || fail "unknown command message: $(cat "$T/err")"
ctl --json frobnicate 2>/dev/null | jget 'd["ok"]' | grep -qx false || fail "--json error reply"
ctl status extra 2>"$T/err"
[ $? -eq 1 ] || fail "status with an argument: not exit 1"
grep -q "extra" "$T/err" || fail "bad argument not named: $(cat "$T/err")"

# Usage errors: exit 2.
"$VKCTL" >/dev/null 2>&1
[ $? -eq 2 ] || fail "no command: not exit 2"
"$VKCTL" --bogus status >/dev/null 2>&1
[ $? -eq 2 ] || fail "unknown option: not exit 2"
"$VKCTL" -s >/dev/null 2>&1
[ $? -eq 2 ] || fail "-s without a path: not exit 2"
"$VKCTL" -c "$T/missing.ini" status >/dev/null 2>&1
[ $? -eq 2 ] || fail "-c on a missing file: not exit 2"

# Nobody there: exit 3, the path and the reason on stderr.
"$VKCTL" -s "$T/none.sock" status 2>"$T/err"
[ $? -eq 3 ] || fail "missing socket: not exit 3"
grep -q "$T/none.sock" "$T/err" && grep -q "No such file" "$T/err" ||
	fail "connect error message: $(cat "$T/err")"

stop_vkd
exit 0
