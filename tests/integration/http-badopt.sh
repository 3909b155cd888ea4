#!/bin/sh
# A bad opt.* value for the HTTP app is a configuration error: `vkd -t`
# reports it (exit status non-zero), and `vkd -f` refuses to start (exits
# non-zero within 10 s) instead of serving nothing while its workers fail
# their init hook and are respawned for ever. A good configuration next to
# it passes both.
. "$top_srcdir/tests/integration/lib.sh"
need_python

http_config 1 'opt.max_body = 16M' 'opt.header_timeout = 250ms' 'opt.max_head = 24k' >"$T/good.ini"
"$VKD" -t -c "$T/good.ini" >>"$LOG" 2>&1 || fail "vkd -t refuses a good http config"

# A head's field offsets are 16 bits: opt.max_head is at most 64k. '+1k'
# and '1d': the same grammar as vkd's own keys.
for bad in 'opt.max_body = lots' 'opt.max_line = 10' 'opt.header_timeout = 5 fortnights' \
	'opt.max_headers = 0' 'opt.max_head = 65537' 'opt.max_body = +1k' 'opt.header_timeout = 1d'; do
	http_config 1 "$bad" >"$T/bad.ini"
	echo "--- $bad" >>"$LOG"
	if "$VKD" -t -c "$T/bad.ini" >>"$LOG" 2>&1; then
		problems="${problems:-}vkd -t accepts '$bad'; "
	fi
done

# Start with the last bad value: vkd must exit, non-zero, by itself.
http_config 1 'opt.max_body = lots' >"$T/bad.ini"
start_vkd "$T/bad.ini"
end=$(($(now_ms) + 10000))
while alive "$VKD_PID"; do
	note_workers
	if [ "$(now_ms)" -ge "$end" ]; then
		problems="${problems:-}vkd -f with opt.max_body = lots still runs after 10 s; "
		break
	fi
	sleep 0.1
done
if [ -z "${problems:-}" ] || ! alive "$VKD_PID"; then
	rc=0
	wait "$VKD_PID" || rc=$?
	VKD_PID=""
	[ "$rc" -ne 0 ] || problems="${problems:-}vkd -f with opt.max_body = lots exited 0; "
fi
[ -z "${problems:-}" ] || fail "$problems"
exit 0
