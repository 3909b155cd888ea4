#!/bin/sh
# The TCP proxy to upstreams by host name, resolved by the worker from a
# hosts file of the test's own (hosts_file), with resolv.conf naming a
# server that is not there (resolv_conf): no outside DNS is asked. A name
# in the file works; one that is not fails at once, and is counted.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/proxy_lib.sh"
need_vkctl

new_port A
upstream ident A "$A"
printf '127.0.0.1 upstream-a.vkd.test\n' >"$T/hosts"
printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"$T/resolv.conf"

dns_config() {
	proxy_config 1 "$1" >"$T/base.ini"
	sed "s|^\[vkd\]\$|[vkd]\nhosts_file = $T/hosts\nresolv_conf = $T/resolv.conf\nresolve_timeout = 2s|" \
		"$T/base.ini" >"$CONF"
}

dns_config "upstream-a.vkd.test:$A"
serve "$CONF" 1
before=$(status_json | jget 'd["totals"]["resolves"]')
py <<'PY'
import threading
names = []
threads = [threading.Thread(target=lambda: names.append(line_from(PORT))) for _ in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
check(names == ["A"] * 8, "the upstream by name answers: %r" % names)
PY
lookups=$(($(status_json | jget 'd["totals"]["resolves"]') - before))
[ "$lookups" -le 1 ] || fail "8 connects at once to one name made $lookups lookups"
stop_vkd

new_log
dns_config "nowhere.vkd.test:$A upstream-a.vkd.test:$A"
serve "$CONF" 1
py <<'PY'
start = time.monotonic()
names = [line_from(PORT) for _ in range(4)]
check(names == ["A"] * 4, "the name that resolves answers every time: %r" % names)
check(time.monotonic() - start < 8, "the lookups took %.1f s" % (time.monotonic() - start))
PY
[ "$(status_json | jget 'd["totals"]["resolve_failures"]')" -ge 1 ] || fail "no resolve failure counted"
grep -q "nowhere.vkd.test" "$LOG" || fail "no log line names the name that does not resolve"
stop_vkd
exit 0
