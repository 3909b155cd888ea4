#!/bin/sh
# `cp new.so live.so` over the module an HTTP app is serving, under wrk
# load: every request until the reload is answered 200 with the old
# content ("1"), with no socket error, no fault and the same worker; the
# reload then serves the new content ("2"), again under wrk with no error.
# The modules are tests/integration/httpmod.c built as version 1 and 2
# (version 2's code and data sit at other offsets in the file).
. "$top_srcdir/tests/integration/lib.sh"
need_vkctl
need_cmd wrk curl

[ -f "$TESTMODDIR/httpver1.so" ] || skip "test modules not built"
mkdir "$T/mods"
cp "$TESTMODDIR/httpver1.so" "$T/mods/live.so"
inode=$(stat -c %i "$T/mods/live.so")
{
	vkd_section 1
	printf '[app handlers]\nmodule = %s\nlisten = 127.0.0.1:%s\n' "$T/mods/live.so" "$PORT"
} >"$CONF"
serve "$CONF" 1
wait_ready 1 1
worker=$WORKERS
URL=http://127.0.0.1:$PORT/version

# wrk counts the answers that are not 200 with the body $WANT.
cat >"$T/check.lua" <<'EOF'
local threads = {}
local want = os.getenv("WANT") .. "\n"

function setup(thread)
	table.insert(threads, thread)
end

function init(args)
	bad = 0
end

function response(status, headers, body)
	if status ~= 200 or body ~= want then
		bad = bad + 1
	end
end

function done(summary, latency, requests)
	local n = 0
	for _, t in ipairs(threads) do
		n = n + t:get("bad")
	end
	local e = summary.errors
	io.write(string.format("requests %d\nbad %d\nerrors %d\n", summary.requests, n,
		e.connect + e.read + e.write + e.status + e.timeout))
end
EOF

# wrk_check WANT SECONDS: wrk for SECONDS against /version (in the
# background: its pid in $WRK); wrk_verify WANT then checks its report.
wrk_check() {
	WANT=$1 wrk -t1 -c16 -d"$2"s -s "$T/check.lua" "$URL" >"$T/wrk-$1.out" 2>&1 &
	WRK=$!
	note_pids "$WRK"
}
wrk_verify() {
	wait "$WRK" || fail "wrk: $(cat "$T/wrk-$1.out")"
	out=$T/wrk-$1.out
	requests=$(sed -n 's/^requests //p' "$out")
	[ "${requests:-0}" -ge 200 ] || fail "too few requests to mean anything: $(cat "$out")"
	[ "$(sed -n 's/^bad //p' "$out")" = 0 ] || fail "answers that are not 200 '$1': $(cat "$out")"
	[ "$(sed -n 's/^errors //p' "$out")" = 0 ] || fail "failed requests: $(cat "$out")"
}

[ "$(curl -s "$URL")" = 1 ] || fail "version 1 does not answer"
wrk_check 1 6
sleep 2
cp "$TESTMODDIR/httpver2.so" "$T/mods/live.so"
[ "$(stat -c %i "$T/mods/live.so")" = "$inode" ] || fail "cp made a new file: not the case tested"
wrk_verify 1
[ "$(curl -s "$URL")" = 1 ] || fail "the overwrite changed the code before a reload"
status_json >/dev/null
[ "$(jget 'd["totals"]["faults"]' <"$T/status.json")" = 0 ] ||
	fail "faults after the overwrite: $(cat "$T/status.json")"
[ "$(workers_of "$VKD_PID")" = "$worker" ] || fail "the worker died after the overwrite"

ctl reload --wait >"$T/reload.out" 2>&1 || fail "reload after the overwrite: $(cat "$T/reload.out")"
wait_ready 1 2
note_workers
[ "$(curl -s "$URL")" = 2 ] || fail "the reload does not serve the new content"
wrk_check 2 2
wrk_verify 2
[ "$(status_json | jget 'd["totals"]["faults"]')" = 0 ] || fail "faults: $(cat "$T/status.json")"
stop_vkd
exit 0
