#!/bin/sh
# A bad opt.* value for the HTTP app is a configuration error: `vkd -t`
# reports it (exit status non-zero), and `vkd -f` refuses to start (exits
# non-zero within 10 s) instead of serving nothing while its workers fail
# their init hook and are respawned for ever. A good configuration next to
# it passes both.
. "$top_srcdir/tests/integration/http-lib.sh"

http_config 1 'opt.max_body = 16M' 'opt.header_timeout = 250ms' >"$HT/good.ini"
"$HTTP_VKD" -t -c "$HT/good.ini" >>"$HLOG" 2>&1 || hfail "vkd -t refuses a good http config"

for bad in 'opt.max_body = lots' 'opt.max_line = 10' 'opt.header_timeout = 5 fortnights' \
	'opt.max_headers = 0'; do
	http_config 1 "$bad" >"$HT/bad.ini"
	echo "--- $bad" >>"$HLOG"
	if "$HTTP_VKD" -t -c "$HT/bad.ini" >>"$HLOG" 2>&1; then
		problems="${problems:-}vkd -t accepts '$bad'; "
	fi
done

# Start with the last bad value: vkd must exit, non-zero, by itself.
http_config 1 'opt.max_body = lots' >"$HT/bad.ini"
"$HTTP_VKD" -f -c "$HT/bad.ini" >>"$HLOG" 2>&1 &
HVKD_PID=$!
HPIDS="$HPIDS $HVKD_PID"
end=$(($(hnow_ms) + 10000))
while http_alive "$HVKD_PID"; do
	http_note_workers
	if [ "$(hnow_ms)" -ge "$end" ]; then
		problems="${problems:-}vkd -f with opt.max_body = lots still runs after 10 s; "
		break
	fi
	sleep 0.1
done
if [ -z "${problems:-}" ] || ! http_alive "$HVKD_PID"; then
	rc=0
	wait "$HVKD_PID" || rc=$?
	HVKD_PID=""
	[ "$rc" -ne 0 ] || problems="${problems:-}vkd -f with opt.max_body = lots exited 0; "
fi
[ -z "${problems:-}" ] || hfail "$problems"
exit 0
