#!/bin/sh
# A reload whose new generation becomes ready while every worker of the
# old one is dead, waiting out its respawn backoff: the old generation is
# gone the moment it is told to drain, and the master must not read it
# after that (it did, b3f8842: its number and its drain_timeout, a
# heap-use-after-free the sanitizer build reports). The reload answers,
# and the master serves the new configuration.
. "$top_srcdir/tests/integration/lib.sh"
need_vkctl

crashloop_config >"$CONF"
start_vkd "$CONF"
# Starts at 0, 100, 200, 400, 800 ms...: by 1.5 s the worker is dead
# nearly all the time, waiting 800 ms or more for its next start.
sleep 1.5
alive "$VKD_PID" || fail "the master died before the reload"
[ "$(wc -l <"$T/starts")" -ge 3 ] || fail "the worker did not crash-loop: $(wc -l <"$T/starts") starts"

echo_config 1 >"$CONF"
ctl --json reload --wait >"$T/reload.json" 2>"$T/reload.err" ||
	fail "reload --wait failed: $(cat "$T/reload.err")"
[ "$(jget 'd["ok"]' <"$T/reload.json")" = true ] || fail "reload reply: $(cat "$T/reload.json")"
alive "$VKD_PID" || fail "the master died in the reload"
wait_port "$PORT" 5000
[ "$("$VKCLIENT" ask "$PORT" hello)" = hello ] || fail "no echo after the reload"
grep -Eq "$SANITIZER_RE" "$LOG" && fail "sanitizer report: $(grep -E -A5 "$SANITIZER_RE" "$LOG" | head -20)"
stop_vkd
exit 0
