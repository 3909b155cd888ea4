#!/bin/sh
# vkctl ps names a service's app: with echo first and kv second in the
# config, kv's shard (a service, peer "no peer") is listed as kv's, not
# as the first app's (it was, the service's app index left at 0).
. "$top_srcdir/tests/integration/lib.sh"
need_vkctl
need_python

new_port KVPORT
{
	echo_config 1
	printf '[app kv]\nmodule = kv.so\nlisten = 127.0.0.1:%s\n' "$KVPORT"
} >"$CONF"
start_vkd "$CONF"
wait_port "$KVPORT" 10000
wait_ready 1 "" 10000
note_workers

ctl --json ps >"$T/ps.json" || fail "vkctl ps: $(cat "$T/ps.json")"
"$PYTHON" - "$T/ps.json" <<'PY' || fail "ps names a service's app wrongly"
import json, sys
procs = json.load(open(sys.argv[1]))["procs"]
services = [p for p in procs if p["peer"] == "no peer"]
assert services, "no service listed: %r" % procs
apps = sorted(set(p["app"] for p in services))
assert apps == ["kv"], "services listed as apps %r" % apps
PY
stop_vkd
exit 0
