#!/bin/sh
# The bundled conf/vkd.ini, copied beside a link to the source tree's
# examples/ (its relative opt.root, ../examples/site, is taken from the
# file's directory) and started from another directory, with its ports
# and control socket moved to free ones:
# every app it lists starts and answers: echo, http, static (the bundled
# site, byte for byte), the proxy in front of http, chat across its two
# workers, and kv.
. "$top_srcdir/tests/integration/lib.sh"
need_vkctl
need_python
need_cmd curl

# port_of APP: the free port that replaces APP's.
for app in echo http static proxy chat kv; do
	new_port "port_$app"
done
sed -e "s|^control = .*|control = $SOCK|" \
	-e "s|^listen = 127.0.0.1:7007\$|listen = 127.0.0.1:$port_echo|" \
	-e "s|^listen = 127.0.0.1:8080\$|listen = 127.0.0.1:$port_http|" \
	-e "s|^listen = 127.0.0.1:8081\$|listen = 127.0.0.1:$port_static|" \
	-e "s|^listen = 127.0.0.1:8082\$|listen = 127.0.0.1:$port_proxy|" \
	-e "s|^opt.upstream = 127.0.0.1:8080\$|opt.upstream = 127.0.0.1:$port_http|" \
	-e "s|^listen = 127.0.0.1:7010\$|listen = 127.0.0.1:$port_chat|" \
	-e "s|^listen = 127.0.0.1:6380\$|listen = 127.0.0.1:$port_kv|" \
	"$top_srcdir/conf/vkd.ini" >"$T/conf.ini"
mkdir -p "$T/conf" && mv "$T/conf.ini" "$T/conf/vkd.ini" && CONF=$T/conf/vkd.ini || fail "conf dir"
ln -s "$top_srcdir/examples" "$T/examples" || fail "link examples"
# Each app got its new port: no line still names a bundled one.
grep -Eq '127\.0\.0\.1:(7007|8080|8081|8082|7010|6380)$' "$CONF" &&
	fail "a bundled port was not replaced: $(grep -E ':(7007|8080|8081|8082|7010|6380)$' "$CONF")"
[ "$(grep -c '^\[app ' "$CONF")" = 6 ] || fail "the bundled config lists $(grep -c '^\[app ' "$CONF") apps, not 6"

# From elsewhere: no path of the file depends on the working directory.
cd / || fail "cd /"
start_vkd "$CONF"
for app in echo http static proxy chat kv; do
	eval "wait_port \$port_$app 10000"
done
wait_ready 2 "" 10000
note_workers

[ "$("$VKCLIENT" ask "$port_echo" hello)" = hello ] || fail "echo"
curl -sf "http://127.0.0.1:$port_http/" >/dev/null || fail "http"
curl -sf -o "$T/index.html" "http://127.0.0.1:$port_static/" || fail "static: no index"
cmp -s "$T/index.html" "$top_srcdir/examples/site/index.html" || fail "static: not the bundled index"
curl -sf -o "$T/style.css" "http://127.0.0.1:$port_static/style.css" || fail "static: style.css"
cmp -s "$T/style.css" "$top_srcdir/examples/site/style.css" || fail "static: not the bundled style.css"
direct=$(curl -sf "http://127.0.0.1:$port_http/") || fail "http"
proxied=$(curl -sf "http://127.0.0.1:$port_proxy/") || fail "proxy"
[ "$proxied" = "$direct" ] || fail "the proxy answered '$proxied', http '$direct'"

"$PYTHON" - "$port_kv" "$port_chat" <<'PY' || fail "kv or chat"
import sys, time
from resp_util import Redis
from chat_util import JOINED, Member, wait_until

kv, chat = int(sys.argv[1]), int(sys.argv[2])
r = Redis(kv)
r.send(Redis.encode("SET", "greeting", "hello") + Redis.encode("GET", "greeting"))
assert r.reply() == "OK", "kv SET"
assert r.reply() == b"hello", "kv GET"
r.close()

# b is in the room (it hears a join) before a speaks.
b = Member(chat)
time.sleep(0.1)
a = Member(chat)
wait_until([a, b], lambda: any(JOINED.match(x) for x in b.lines), what="a's join")
a.say("/nick alice")
wait_until([a, b], lambda: any(x.endswith("is now alice") for x in b.lines), what="rename")
a.say("hi")
wait_until([a, b], lambda: "alice: hi" in b.lines, what="a line from alice")
a.close()
b.close()
PY
stop_vkd
exit 0
