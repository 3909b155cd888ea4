# What the vkctl integration tests (tests/integration/vkctl_*.sh) add to
# lib.sh: sourced, never run. vkctl on the test's control socket, and
# python3 to read its JSON.
# top_srcdir comes from make check (tests/local.mk).
# shellcheck source=tests/integration/lib.sh disable=SC2154
. "$top_srcdir/tests/integration/lib.sh"

VKCTL=$top_builddir/vkctl/vkctl
[ -x "$VKCTL" ] || skip "$VKCTL is not built"
# To check the JSON replies.
need_python

# ctl ARGS: vkctl on this test's socket.
ctl() {
	"$VKCTL" -s "$SOCK" "$@"
}

# jget EXPR: evaluate a python expression on the JSON document on stdin
# (bound to d); lists print one item a line. Fails on invalid JSON.
jget() {
	"$PYTHON" -c '
import json, sys
d = json.load(sys.stdin)
v = eval(sys.argv[1])
if isinstance(v, (list, tuple)):
    print("\n".join(str(x) for x in v))
elif isinstance(v, bool):
    print("true" if v else "false")
else:
    print(v)' "$1"
}

# status_json: the daemon's status (fails the test if vkctl fails).
status_json() {
	ctl --json status >"$T/status.json" 2>"$T/status.err" ||
		fail "vkctl status failed: $(cat "$T/status.err")"
	cat "$T/status.json"
}

# status_pids: worker pids as vkctl status reports them, sorted.
status_pids() {
	status_json | jget '[w["pid"] for w in d["workers"]]' | sort -n
}

# sorted_workers: the master's real children, sorted.
sorted_workers() {
	workers_of "$VKD_PID" | sort -n
}

# wait_ready N [GEN] [MS]: until status shows exactly N workers, all ready
# (and all of generation GEN if given).
wait_ready() {
	_end=$(($(now_ms) + ${3:-5000}))
	while :; do
		_n=$(status_json | jget "sum(1 for w in d['workers'] if w['state'] == 'ready'
			and ('${2:-}' == '' or w['generation'] == int('${2:-0}')))")
		_all=$(status_json | jget 'len(d["workers"])')
		[ "$_n" = "$1" ] && [ "$_all" = "$1" ] && return 0
		[ "$(now_ms)" -lt "$_end" ] || fail "expected $1 ready workers${2:+ of gen $2}: $(cat "$T/status.json")"
		sleep 0.05
	done
}

# serve_ready WORKERS [EXTRA]: serve_echo, then until status shows the
# workers ready.
serve_ready() {
	serve_echo "$@"
	wait_ready "$1"
}
