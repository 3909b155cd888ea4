#!/bin/sh
# access_log (vkd.ini(5)): one combined-format line per answer, with the
# request time in microseconds, in the file of the app: method, target,
# status, body bytes, referer and agent (escaped \xHH), the client's
# address; off writes nothing, stderr goes to vkd's stderr. mv + SIGUSR1
# to the master: new lines in a new file, the old keeps its lines. A FIFO
# nobody reads, or a full disk, does not hold up serving: the lines are
# dropped and counted in vkctl status. A client that goes before any
# answer is logged with 499. A directory that does not exist is an error
# of vkd -t and of a reload, naming the app and the path.
. "$top_srcdir/tests/integration/lib.sh"
need_vkctl
need_cmd curl

AL=$T/access.log
URL=http://127.0.0.1:$PORT

# wait_lines FILE N: until FILE has N lines (the worker flushes within 0.1 s).
wait_lines() {
	_end=$(($(now_ms) + 5000))
	until [ -f "$1" ] && [ "$(grep -c . "$1")" -ge "$2" ]; do
		[ "$(now_ms)" -lt "$_end" ] || fail "$1: wanted $2 lines, have: $(cat "$1" 2>&1)"
		sleep 0.05
	done
}

# ---- the lines and their fields ----
serve_http 1 "access_log = $AL"
curl -sS --max-time 10 -o /dev/null -A 'ag"ent	x' -e 'http://ref/' "$URL/?q=1" ||
	fail "curl GET"
curl -sS --max-time 10 -o /dev/null --data-binary 'twelve bytes' "$URL/echo" || fail "curl POST"
curl -sS --max-time 10 -o /dev/null "$URL/nope%22" || fail "curl 404"
curl -sS --max-time 10 -o /dev/null -I "$URL/" || fail "curl HEAD"
wait_lines "$AL" 4
"$PYTHON" - "$AL" <<'PY' || fail "access log lines: $(cat "$AL")"
import re, sys
lines = open(sys.argv[1], "rb").read().decode().splitlines()
pat = re.compile(r'^(\S+) - - \[(\d\d/\w\w\w/\d{4}:\d\d:\d\d:\d\d [+-]\d{4})\] '
                 r'"([^"]*)" (\d{3}) (\d+) "([^"]*)" "([^"]*)" (\d+)$')
m = [pat.match(l) for l in lines]
assert all(m), lines
got = [(x.group(1), x.group(3), x.group(4), x.group(5), x.group(6), x.group(7)) for x in m]
assert got[0][:5] == ("127.0.0.1", "GET /?q=1 HTTP/1.1", "200", got[0][3], "http://ref/"), got[0]
assert int(got[0][3]) > 0, got[0]
assert got[0][5] == "ag\\x22ent\\x09x", got[0][5]
assert got[1][1:4] == ("POST /echo HTTP/1.1", "200", "12"), got[1]
assert got[1][5].startswith("curl/"), got[1]
assert got[2][1:3] == ("GET /nope%22 HTTP/1.1", "404"), got[2]
assert got[3][1:4] == ("HEAD / HTTP/1.1", "200", "0"), got[3]
PY

# ---- a client that goes before any answer: 499, as nginx logs it ----
"$PYTHON" - "$PORT" <<'PY' || fail "cut POST"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n")
s.shutdown(socket.SHUT_WR)  # the body ends before its first byte
s.settimeout(10)
assert s.recv(4096) == b"", "an answer to a cut body"
PY
wait_lines "$AL" 5
tail -n 1 "$AL" | grep -q '"POST /echo HTTP/1.1" 499 0 ' || fail "cut POST: $(tail -n 1 "$AL")"

# ---- mv + SIGUSR1: a new file for new lines ----
mv "$AL" "$AL.1"
kill -USR1 "$VKD_PID"
_end=$(($(now_ms) + 5000))
until [ -f "$AL" ]; do
	[ "$(now_ms)" -lt "$_end" ] || fail "no new access log after SIGUSR1"
	sleep 0.05
done
curl -sS --max-time 10 -o /dev/null "$URL/after" || fail "curl after"
wait_lines "$AL" 1
sleep 0.3
[ "$(grep -c . "$AL.1")" = 5 ] || fail "the old file changed: $(cat "$AL.1")"
grep -q '"GET /after HTTP/1.1" 404 ' "$AL" || fail "new file: $(cat "$AL")"
[ "$(grep -c . "$AL")" = 1 ] || fail "new file: $(cat "$AL")"
stop_vkd

# ---- off writes nothing; stderr writes to vkd's stderr ----
for mode in off stderr; do
	new_log
	serve_http 1 "access_log = $mode"
	curl -sS --max-time 10 -o /dev/null "$URL/$mode-probe" || fail "curl $mode"
	sleep 0.5
	stop_vkd
	if [ $mode = off ]; then
		! grep -q "$mode-probe" "$LOG" || fail "access_log = off wrote: $(cat "$LOG")"
	else
		grep -q "\"GET /stderr-probe HTTP/1.1\" 404 " "$LOG" || fail "no line on stderr"
	fi
done

# ---- a FIFO nobody reads: serving goes on, lines are dropped and counted ----
mkfifo "$T/fifo" || fail "mkfifo"
exec 3<>"$T/fifo" # a reader that never reads: the pipe fills
serve_http 1 "access_log = $T/fifo"
"$PYTHON" - "$PORT" <<'PY' || fail "serving behind a full access log"
import sys, time
from http_util import Conn, get, check
c = Conn(int(sys.argv[1]))
agent = "a" * 900  # a line of about 1 KiB: the 64 KiB pipe and buffer fill in 130
worst = 0.0
start = time.monotonic()
for i in range(400):
    t = time.monotonic()
    c.send(get("/x%d" % i, headers=("User-Agent: " + agent,)))
    r = c.read_response()
    check(r.status == 404, "status %d" % r.status)
    worst = max(worst, time.monotonic() - t)
check(worst < 1.0, "a request took %.3f s" % worst)
check(time.monotonic() - start < 20, "400 requests took %.1f s" % (time.monotonic() - start))
PY
_end=$(($(now_ms) + 5000))
while :; do
	drops=$(status_json | jget '[a["access_log_drops"] for a in d["apps"] if a["name"] == "http"][0]')
	[ "$drops" -gt 0 ] && break
	[ "$(now_ms)" -lt "$_end" ] || fail "no drops counted: $(cat "$T/status.json")"
	sleep 0.1
done
ctl status | grep -q LOGDROPS || fail "vkctl status: no LOGDROPS column"
stop_vkd
exec 3<&-

# ---- a full disk (/dev/full: every write fails with ENOSPC): lines dropped and counted ----
serve_http 1 "access_log = /dev/full"
for i in 1 2 3; do
	curl -sS --max-time 10 -o /dev/null "$URL/full-$i" || fail "serving with a full disk: curl $i"
done
_end=$(($(now_ms) + 5000))
while :; do
	drops=$(status_json | jget '[a["access_log_drops"] for a in d["apps"] if a["name"] == "http"][0]')
	[ "$drops" -ge 3 ] && break
	[ "$(now_ms)" -lt "$_end" ] || fail "full disk: $drops drops counted, wanted 3"
	sleep 0.1
done
stop_vkd

# ---- a directory that does not exist: vkd -t and reload name app and path ----
http_config 1 "access_log = $T/nodir/access.log" >"$T/bad.ini"
out=$("$VKD" -t -c "$T/bad.ini" 2>&1) && fail "vkd -t accepted a log in a missing directory"
echo "$out" | grep -q "app http" || fail "vkd -t: no app name: $out"
echo "$out" | grep -q "$T/nodir/access.log" || fail "vkd -t: no path: $out"
serve_http 1
cp "$T/bad.ini" "$CONF"
ctl reload --wait >"$T/reload.out" 2>&1 && fail "reload accepted a log in a missing directory"
grep -q "$T/nodir/access.log" "$T/reload.out" || fail "reload: no path: $(cat "$T/reload.out")"
alive "$VKD_PID" || fail "vkd died on the bad reload"
curl -sS --max-time 10 -o /dev/null "$URL/" || fail "serving after the bad reload"
stop_vkd
exit 0
