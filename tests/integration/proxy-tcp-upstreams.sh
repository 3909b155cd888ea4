#!/bin/sh
# The TCP proxy's upstreams: round-robin, a refusing upstream skipped (and
# logged, and counted as a connect failure), a slow one skipped after the
# connect timeout, and the client's connection closed when none answers.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/proxy_lib.sh"
need_vkctl

new_port A && new_port B && new_port DEAD && new_port SLOW
upstream ident A "$A"
upstream ident B "$B"
upstream full "$SLOW"

# A, a refusing port, B: the refused turn goes to the next one, B.
proxy_config 1 "127.0.0.1:$A 127.0.0.1:$DEAD, 127.0.0.1:$B" >"$CONF"
serve "$CONF" 1
before=$(status_json | jget 'd["totals"]["connect_failures"]')
py <<'PY'
names = [line_from(PORT) for _ in range(12)]
check(set(names) == {"A", "B"}, "upstreams seen: %r" % names)
check(names.count("A") == 4 and names.count("B") == 8, "round-robin: %r" % names)
PY
grep -q "127.0.0.1:$DEAD" "$LOG" || fail "no log line names the refusing upstream"
failures=$(($(status_json | jget 'd["totals"]["connect_failures"]') - before))
[ "$failures" -eq 4 ] || fail "12 connections made $failures connect failures, want 4"
stop_vkd

# A slow upstream (its connects hang) is given up after connect_timeout.
new_log
proxy_config 1 "127.0.0.1:$SLOW 127.0.0.1:$A" 'opt.connect_timeout = 300ms' >"$CONF"
serve "$CONF" 1
py <<'PY'
took = []
for _ in range(2):
    start = time.monotonic()
    check(line_from(PORT) == "A", "the answer comes from A")
    took.append(time.monotonic() - start)
check(max(took) >= 0.25, "no connect waited for the slow upstream: %r" % took)
check(max(took) < 3, "a connect took %r" % took)
PY
stop_vkd

# Nobody answers: the client's connection ends, with a log line.
new_log
proxy_config 1 "127.0.0.1:$DEAD" >"$CONF"
serve "$CONF" 1
py <<'PY'
check(closed_at_once(PORT), "the client's connection should just end")
PY
grep -q "127.0.0.1:$DEAD" "$LOG" || fail "no log line names the refusing upstream"
stop_vkd
exit 0
