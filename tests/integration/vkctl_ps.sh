#!/bin/sh
# vkctl ps lists every micro-process of every worker: 1,000 live echo
# connections on 2 workers, each exactly once, with its worker, id, app,
# peer (the client's port), state (waiting to read), heap and bytes;
# `ps N` only worker N's. vkctl kill W/ID ends exactly the one named: its
# client sees the close, the 999 others echo on, and it is counted (worker
# and app) and logged. Bad requests are refused with a reason.
. "$top_srcdir/tests/integration/lib.sh"
need_vkctl

N=1000
serve_ready 2

rm -f "$T/go"
mkfifo "$T/go"
"$VKCLIENT" open "$PORT" "$N" <"$T/go" >"$T/open.out" 2>&1 &
OPEN=$!
note_pids "$OPEN"
exec 4>"$T/go"
end=$(($(now_ms) + 20000))
until grep -q '^open$' "$T/open.out"; do
	alive "$OPEN" || fail "the $N connections: $(cat "$T/open.out")"
	[ "$(now_ms)" -lt "$end" ] || fail "the $N connections are not open after 20 s"
	sleep 0.1
done
grep -E '^[0-9]+$' "$T/open.out" | sort -n >"$T/ports"

ctl --json ps >"$T/ps.json" || fail "vkctl ps: $(cat "$T/ps.json")"
"$PYTHON" - "$T/ps.json" "$T/ports" "$N" <<'PY' || fail "ps does not list the connections"
import json, sys
d = json.load(open(sys.argv[1]))
ports = [int(p) for p in open(sys.argv[2])]
n = int(sys.argv[3])
assert d["ok"] and not d["truncated"], d.get("error")
assert len(ports) == n, "%d ports" % len(ports)
ws = d["workers"]
assert sorted(w["index"] for w in ws) == [1, 2], ws
assert all(w["answered"] for w in ws), ws
procs = [p for p in d["procs"] if p["app"] == "echo"]
assert sum(w["procs"] for w in ws) == len(d["procs"]) == n, (len(d["procs"]), ws)
seen = sorted(int(p["peer"].rsplit(":", 1)[1]) for p in procs)
assert seen == sorted(ports), "the peers are not the clients' ports"
for p in procs:
    assert p["peer"].startswith("127.0.0.1:"), p
    assert p["worker"] in (1, 2) and p["generation"] == 1, p
    assert p["state"] == "read", p
    # "first 12\n": what the client sent, echoed back.
    assert p["bytes_in"] == p["bytes_out"] and 8 <= p["bytes_in"] <= 11, p
    assert p["heap_mapped"] == 65536 and 0 < p["heap_used"] <= 65536, p
    assert p["age_s"] >= 0 and "last_run_s" in p, p
ids = {}
for p in procs:
    ids.setdefault(p["worker"], set()).add(p["id"])
assert sum(len(s) for s in ids.values()) == n, "an id twice on one worker"
PY

# ps N: worker 2's only; the table has a row per process.
ctl --json ps 2 | jget 'sorted(set(p["worker"] for p in d["procs"]))' >"$T/w2" || fail "ps 2"
[ "$(cat "$T/w2")" = 2 ] || fail "ps 2 listed workers $(cat "$T/w2")"
[ "$(ctl ps | grep -c ' echo ')" = "$N" ] || fail "the table has not $N rows"

# kill W/ID the process of the first client port.
victim=$(head -n 1 "$T/ports")
target=$(jget "[str(p['worker']) + '/' + str(p['id']) for p in d['procs']
	if p['peer'] == '127.0.0.1:$victim'][0]" <"$T/ps.json")
ctl kill "$target" >"$T/kill.out" 2>&1 || fail "vkctl kill $target: $(cat "$T/kill.out")"
ctl kill "$target" >/dev/null 2>&1 && fail "a second kill $target succeeded"
echo go >&4
exec 4>&-
wait "$OPEN" || fail "the clients: $(cat "$T/open.out")"
[ "$(grep '^closed' "$T/open.out")" = "closed $victim" ] ||
	fail "closed: $(grep '^closed' "$T/open.out" | head) (killed $victim)"
[ "$(status_json | jget 'd["totals"]["killed"]')" = 1 ] || fail "kill not counted"
[ "$(status_json | jget '[a["killed"] for a in d["apps"] if a["name"] == "echo"][0]')" = 1 ] ||
	fail "kill not counted for the app"
grep "app echo" "$LOG" | grep "127.0.0.1:$victim" | grep -q kill || fail "no log line for the kill"

# Bad requests.
for bad in "ps 0" "ps x" "ps 1 2" "kill 1/x" "kill 0/1" "kill 9/1" "kill 1/0"; do
	# shellcheck disable=SC2086 # the words are the request
	ctl $bad >/dev/null 2>"$T/err" && fail "'$bad' succeeded"
	[ -s "$T/err" ] || fail "'$bad': no reason given"
done
stop_vkd
exit 0
