# Shared by the vkctl integration tests (sourced, never run): lib.sh, plus
# vkctl on the test's control socket and python3 to read its JSON.
. "$top_srcdir/tests/integration/lib.sh"

VKCTL=$top_builddir/vkctl/vkctl
SOCK=$T/ctl.sock

# The interpreter itself, not a wrapper script: tests run it often.
PYTHON=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null)
if [ -z "$PYTHON" ]; then
	echo "SKIP: python3 is needed to check the JSON replies"
	exit 77
fi

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

# echo_config WORKERS [EXTRA]: a config with one echo app on $PORT; EXTRA
# lines go into the [vkd] section.
echo_config() {
	vkd_section "$1"
	[ -n "${2:-}" ] && printf '%s\n' "$2"
	printf '[app echo]\nmodule = echo.so\nlisten = 127.0.0.1:%s\n' "$PORT"
}
