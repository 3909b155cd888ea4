# Sourced by every integration test in this folder, never run: the one
# place that starts and stops vkd, picks ports, waits for readiness and
# cleans up.
#
# Every test gets a temp dir ($T), a free loopback port ($PORT), its own
# config, the real vkd started in the background, and an EXIT trap that
# stops by pid whatever it started (vkd: SIGTERM, then SIGKILL) and fails
# the test if anything is left (a process, or a sanitizer report in the
# log). Tests assert on behaviour, never on log wording; the log is only
# shown when a test fails. A missing prerequisite skips (exit 77).
#
#	. "$top_srcdir/tests/integration/lib.sh"
#	serve_echo 2
#	"$VKCLIENT" load "$PORT" 10 3 || fail "echo"
#	stop_vkd
#	exit 0
#
# The http-*.sh tests call need_python, then serve the http app and check
# what is sent and received byte by byte with python (http_util.py, next
# to this file):
#
#	serve_http 1 'opt.max_body = 16M'
#	http_py <<'EOF'
#	c = Conn(PORT); ...
#	EOF
#
# The vkctl_*.sh tests call need_vkctl, then drive vkctl on the test's
# control socket (ctl) and read its JSON with python (jget).

set -u

: "${top_builddir:?run through make check}" "${top_srcdir:?run through make check}"
VKD=$top_builddir/src/vkd/vkd
VKCLIENT=$top_builddir/tests/integration/vkclient
VKCTL=$top_builddir/vkctl/vkctl
MODDIR=$top_builddir/src/apps/.libs
# shellcheck disable=SC2034 # for the tests that source this file
TESTMODDIR=$top_builddir/tests/integration/.libs
VKD_MODULE_DIR=$MODDIR
export VKD_MODULE_DIR
# Keep the test's processes out of any service manager's view.
unset NOTIFY_SOCKET JOURNAL_STREAM LISTEN_FDS LISTEN_PID

# skip WHY: the test cannot run here: exit 77 (SKIP, not FAIL).
skip() {
	echo "SKIP: $*" >&2
	exit 77
}

# need_cmd CMD...: skip unless every CMD is installed.
need_cmd() {
	for _c in "$@"; do
		command -v "$_c" >/dev/null 2>&1 || skip "no $_c"
	done
}

# need_python: $PYTHON, the interpreter itself rather than a wrapper
# script (tests run it often), with http_util.py importable; skip without
# one.
need_python() {
	PYTHON=$("${PYTHON:-python3}" -c 'import sys; print(sys.executable)' 2>/dev/null)
	[ -n "$PYTHON" ] || skip "python3 is needed"
	# Keep the source tree free of .pyc.
	PYTHONPATH=$top_srcdir/tests/integration${PYTHONPATH:+:$PYTHONPATH}
	PYTHONDONTWRITEBYTECODE=1
	export PYTHONPATH PYTHONDONTWRITEBYTECODE
}

# need_vkctl: skip unless vkctl is built and python3 (to read its JSON)
# is there.
need_vkctl() {
	[ -x "$VKCTL" ] || skip "$VKCTL is not built"
	need_python
}

[ -x "$VKD" ] || skip "$VKD is not built"
[ -x "$VKCLIENT" ] || skip "$VKCLIENT is not built"

T=$(mktemp -d "${TMPDIR:-/tmp}/vkd-test.XXXXXX") || exit 99
LOG=$T/vkd.log
CONF=$T/vkd.ini
SOCK=$T/ctl.sock
PIDS=""        # every process the test started or saw: checked at exit
VKD_PID=""     # the master running now
VKD_WORKERS="" # every worker seen of that master
WORKERS=""     # its workers as wait_workers last saw them, one a line

# fail WHY: the test fails, with the log's last lines.
fail() {
	echo "FAIL: $*" >&2
	if [ -s "$LOG" ]; then
		echo "--- vkd log (last lines)" >&2
		tail -n 60 "$LOG" >&2
	fi
	exit 1
}

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# A latency limit of $1 ms, stretched by how oversubscribed the machine is:
# the 1-minute load average over the CPU count, from 1x to 4x. The limits
# are what vkd must meet on an idle machine; with builds running beside the
# suite (load 10-17 on 2 CPUs, seen) a fork or a dlopen alone can wait for
# a CPU longer than that, which says nothing about vkd.
load_scaled_ms() {
	awk -v ms="$1" -v cpus="$(nproc)" '{
		f = $1 / cpus
		if (f < 1) f = 1
		if (f > 4) f = 4
		printf "%d\n", ms * f
	}' /proc/loadavg
}

# Children of pid $1 (the workers of a master, and any other child).
children_of() {
	ps -o pid= --ppid "$1" 2>/dev/null | tr -d ' '
}

# Worker pids of master $1 (children named "vkd worker N").
workers_of() {
	ps -o pid=,comm= --ppid "$1" 2>/dev/null | awk '$2 == "vkd" && $3 == "worker" { print $1 }'
}

# alive PID: it exists and is not a zombie.
alive() {
	kill -0 "$1" 2>/dev/null || return 1
	[ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" != Z ]
}

# is_vkd PID: it exists (a zombie too) and is a vkd master or worker.
is_vkd() {
	case $(cat "/proc/$1/comm" 2>/dev/null) in
	vkd | "vkd "* | lt-vkd) return 0 ;;
	esac
	return 1
}

# start_time PID: when PID started (field 22 of /proc/PID/stat, in clock
# ticks since boot), empty when it is gone. Its comm (field 2) may hold
# spaces and parentheses: the fields are counted after the last ')'.
start_time() {
	sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20
}

# ours PID: PID is still the process note_pids saw. pid_max is 32,768 on
# this kind of machine and a parallel build wraps it within a test: a pid
# noted early can belong to another test's vkd by cleanup time (seen: a
# "left behind" worker under load 17), and must be neither killed nor
# blamed.
ours() {
	_st=$(start_time "$1")
	[ -n "$_st" ] && grep -qx "$1 $_st" "$T/pids.ours" 2>/dev/null
}

# SIGKILL pid $1 if it is still one of ours (a pid may have been reused).
kill_ours() {
	ours "$1" || return 0
	case $(cat "/proc/$1/comm" 2>/dev/null) in
	vkd* | vkclient* | lt-vk*) kill -KILL "$1" 2>/dev/null ;;
	esac
}

# Remember pids (and when each started) so that cleanup checks they are gone.
note_pids() {
	PIDS="$PIDS $*"
	for _np in "$@"; do
		_st=$(start_time "$_np")
		[ -z "$_st" ] || echo "$_np $_st" >>"$T/pids.ours"
	done
}

# note_workers [PID...]: remember PIDs (by default the master's children
# now) as workers of the running master: they must not outlive it.
note_workers() {
	[ -n "$VKD_PID" ] || return 0
	if [ $# -eq 0 ]; then
		# shellcheck disable=SC2046 # one pid a word
		set -- $(children_of "$VKD_PID")
	fi
	VKD_WORKERS="$VKD_WORKERS $*"
	note_pids "$@"
}

# ---- ports ----
# A port is picked free (free_port: bound and released by vkclient), then
# bound by vkd or an upstream: in between, another process may take it (a
# connect() given it as its local port, another test's pick), and the
# bind fails with EADDRINUSE (seen under load: proxy-tcp-dns.sh). The
# starters then move the port and start again, at most 5 times: wait_port
# when vkd exited because it found a port of its config taken,
# start_upstream (proxy_lib.sh) when the upstream did. Moving a port puts
# a new one in its place in the config and in the variable that held it:
# PORT and those new_port set.

# free_port: a free loopback TCP port (bound and released by vkclient).
free_port() {
	"$VKCLIENT" port || fail "no free port"
}

PORT_VARS="PORT" # the variables move_port may change
TAKEN_PORTS=""   # every port new_port gave, and PORT

# pick_port: a free port unlike $TAKEN_PORTS (two free_port calls may give
# the same port: a test once listened twice on one), in $PICKED.
pick_port() {
	for _try in 1 2 3 4 5 6 7 8 9 10; do
		PICKED=$(free_port) || fail "no free port"
		case "$TAKEN_PORTS" in
		*" $PICKED "*) continue ;;
		esac
		TAKEN_PORTS="$TAKEN_PORTS$PICKED "
		return 0
	done
	fail "no free port unlike$TAKEN_PORTS"
}

# new_port VAR: set VAR to a free port unlike those given before, which
# move_port keeps up to date.
new_port() {
	pick_port
	eval "$1=$PICKED"
	PORT_VARS="$PORT_VARS $1"
}

# move_port OLD [FILE]: a free port in place of OLD (taken by another
# process before we bound it), in $PICKED: in every variable of PORT_VARS
# that held OLD, and for 127.0.0.1:OLD and [::1]:OLD in FILE.
move_port() {
	pick_port
	for _v in $PORT_VARS; do
		eval "[ \"\$$_v\" != $1 ] || $_v=$PICKED"
	done
	if [ -n "${2:-}" ]; then
		sed -i -e "s/127\.0\.0\.1:$1\([^0-9]\|\$\)/127.0.0.1:$PICKED\1/g" \
			-e "s/\[::1\]:$1\([^0-9]\|\$\)/[::1]:$PICKED\1/g" "$2" || fail "sed $2"
	fi
	echo "port $1 was taken before it was bound: moved to $PICKED" >>"$T/ports.moved"
}

# vkd_port_taken: the port the master that exited found taken (bind:
# EADDRINUSE) since start_vkd started it, or nothing.
vkd_port_taken() {
	tail -c "+$((START_LOG_BYTES + 1))" "$LOG" 2>/dev/null |
		sed -n 's/.*cannot listen on [^ ]*:\([0-9][0-9]*\): bind: Address already in use.*/\1/p' |
		head -n 1
}

# vkd_section WORKERS [DRAIN_TIMEOUT]: print a [vkd] section; the test
# appends its apps.
vkd_section() {
	cat <<EOT
[vkd]
workers = $1
log_level = debug
drain_timeout = ${2:-10s}
control = $SOCK
EOT
}

# echo_config WORKERS [EXTRA] [DRAIN_TIMEOUT]: a config with one echo app
# on $PORT; EXTRA lines go into the [vkd] section.
echo_config() {
	vkd_section "$1" "${3:-}"
	if [ -n "${2:-}" ]; then
		printf '%s\n' "$2"
	fi
	printf '[app echo]\nmodule = echo.so\nlisten = 127.0.0.1:%s\n' "$PORT"
}

# crashloop_config: one worker whose app (crashmod) passes vkd's module
# check and refuses every worker start, each appended to $T/starts: the
# worker dies at once, again and again, respawned with a growing delay.
crashloop_config() {
	vkd_section 1
	cat <<EOT
[app crash]
module = $TESTMODDIR/crashmod.so
listen = 127.0.0.1:$PORT
opt.crash = workers
opt.stamp = $T/starts
EOT
}

# start_vkd CONFIG: vkd in the foreground, in our background.
start_vkd() {
	START_CONF=$1
	START_LOG_BYTES=$(wc -c 2>/dev/null <"$LOG" || echo 0)
	"$VKD" -f -c "$1" >>"$LOG" 2>&1 &
	VKD_PID=$!
	VKD_WORKERS=""
	note_pids "$VKD_PID"
}

START_CONF=""     # the config start_vkd started vkd on
START_LOG_BYTES=0 # the log's size then
START_TRIES=0     # how many times vkd_port_retry started it again
MOVED=""          # the port vkd_port_retry moved last

# vkd_port_retry: when the master is gone because it found a port of its
# config taken, move that port (in $MOVED, its new one in $PICKED) and
# start vkd again: 0; else 1.
vkd_port_retry() {
	[ -n "$VKD_PID" ] && [ -n "$START_CONF" ] && ! alive "$VKD_PID" || return 1
	MOVED=$(vkd_port_taken)
	[ -n "$MOVED" ] && [ "$START_TRIES" -lt 5 ] || return 1
	START_TRIES=$((START_TRIES + 1))
	wait "$VKD_PID" 2>/dev/null
	move_port "$MOVED" "$START_CONF"
	start_vkd "$START_CONF"
}

# wait_port PORT [MS]: until the port accepts; fails at once if the master
# exits meanwhile, unless it found a port of its config taken: then that
# port moves, in the config too, and vkd starts again (vkd_port_retry).
wait_port() {
	_wport=$1
	_end=$(($(now_ms) + ${2:-5000}))
	until "$VKCLIENT" wait "$_wport" 100 2>/dev/null; do
		if [ -n "$VKD_PID" ] && ! alive "$VKD_PID"; then
			vkd_port_retry || fail "vkd exited before port $_wport accepted"
			[ "$_wport" != "$MOVED" ] || _wport=$PICKED
			_end=$(($(now_ms) + ${2:-5000}))
		fi
		[ "$(now_ms)" -lt "$_end" ] || fail "port $_wport does not accept"
	done
}

# wait_workers N [MS]: until the master has N workers; their pids in
# $WORKERS. A master gone because a port was taken starts again
# (vkd_port_retry): the port wait_port saw accept was another process's.
wait_workers() {
	_end=$(($(now_ms) + ${2:-5000}))
	while :; do
		WORKERS=$(workers_of "$VKD_PID")
		if [ "$(echo "$WORKERS" | grep -c .)" -eq "$1" ]; then
			# shellcheck disable=SC2086 # one pid a word
			note_workers $WORKERS
			return 0
		fi
		if vkd_port_retry; then
			_end=$(($(now_ms) + ${2:-5000}))
			continue
		fi
		[ "$(now_ms)" -lt "$_end" ] || fail "expected $1 workers, have: $WORKERS"
		sleep 0.02
	done
}

# serve CONFIG WORKERS: vkd on CONFIG, until $PORT accepts and the master
# has WORKERS workers ($WORKERS).
serve() {
	start_vkd "$1"
	wait_port "$PORT"
	wait_workers "$2"
}

# serve_echo WORKERS [EXTRA] [DRAIN_TIMEOUT]: serve an echo_config, kept
# in $CONF.
serve_echo() {
	echo_config "$@" >"$CONF"
	serve "$CONF" "$1"
}

# wait_gone PID MS: until PID is gone (a zombie counts as gone); 1 if it
# is still there after MS.
wait_gone() {
	_end=$(($(now_ms) + $2))
	while alive "$1"; do
		[ "$(now_ms)" -lt "$_end" ] || return 1
		sleep 0.02
	done
	return 0
}

# wait_exit PID MS: until PID is gone; its status (if our child) in
# $EXIT_STATUS, the time it was seen gone (now_ms) in $EXIT_MS.
wait_exit() {
	wait_gone "$1" "$2" || return 1
	EXIT_STATUS=0
	wait "$1" 2>/dev/null || EXIT_STATUS=$?
	# shellcheck disable=SC2034 # for the tests that source this file
	EXIT_MS=$(now_ms)
	return 0
}

# expect_vkd_exit MS WHEN: the master, told to stop, must exit 0 within MS
# and leave nothing behind: no worker of its own (not even a zombie: it
# reaps them) and no vkd process noted before. WHEN ends the failure
# messages ("after SIGTERM").
expect_vkd_exit() {
	note_workers
	wait_exit "$VKD_PID" "$1" || fail "vkd did not exit $2 (in $1 ms)"
	[ "$EXIT_STATUS" -eq 0 ] || fail "vkd exited with $EXIT_STATUS $2"
	for _p in $VKD_WORKERS; do
		ours "$_p" && fail "worker $_p outlived the master"
	done
	for _p in $PIDS; do
		ours "$_p" && alive "$_p" && is_vkd "$_p" && fail "vkd process $_p outlived the master"
	done
	VKD_PID=""
	VKD_WORKERS=""
}

# stop_vkd: SIGTERM, and vkd must exit 0 within 10 s, leaving nothing.
stop_vkd() {
	note_workers
	kill -TERM "$VKD_PID" || fail "vkd is not running"
	expect_vkd_exit 10000 "after SIGTERM"
}

SANITIZER_RE='Sanitizer|runtime error:'

# new_log: an empty log for the next vkd, so that a failure shows only
# its lines; a sanitizer report in the old one fails the test first (the
# cleanup shows it).
new_log() {
	if grep -qE "$SANITIZER_RE" "$LOG" 2>/dev/null; then
		exit 1
	fi
	: >"$LOG"
}

# hold_start: a held connection to $PORT (pid in $HOLD): vkclient echoes a
# line and sends half of another (so that a drain does not take it for
# idle), prints "held" and its local port to $T/hold.out, then waits for a
# line on the fifo $T/go, which the test writes through fd 3.
hold_start() {
	rm -f "$T/go" "$T/hold.out"
	mkfifo "$T/go"
	"$VKCLIENT" hold "$PORT" <"$T/go" >"$T/hold.out" 2>&1 &
	HOLD=$!
	note_pids "$HOLD"
	exec 3>"$T/go"
	_end=$(($(now_ms) + 5000))
	until grep -q held "$T/hold.out"; do
		[ "$(now_ms)" -lt "$_end" ] || fail "hold client: $(cat "$T/hold.out")"
		sleep 0.02
	done
}

# The socket inode of the server side of a loopback connection whose
# client port is $1 (server port $2), from /proc/net/tcp.
server_inode() {
	awk -v c="$(printf '%04X' "$1")" -v s="$(printf '%04X' "$2")" '
		{ split($2, l, ":"); split($3, r, ":");
		  if (l[2] == s && r[2] == c) { print $10; exit } }' /proc/net/tcp
}

# The worker among $2.. that has socket inode $1 open.
owner_of_inode() {
	_inode=$1
	shift
	for _p in "$@"; do
		if find "/proc/$_p/fd" -lname "socket:\[$_inode\]" 2>/dev/null | grep -q .; then
			echo "$_p"
			return 0
		fi
	done
	return 1
}

# ---- the trap app (testmod.c): connections that misbehave on command ----

# trap_config WORKERS [EXTRA APP LINES...]: a config serving the trap app
# on $PORT.
trap_config() {
	vkd_section "$1"
	shift
	printf '[app trap]\nmodule = %s\nlisten = 127.0.0.1:%s\n' "$TESTMODDIR/trapmod.so" "$PORT"
	for _line in "$@"; do
		echo "$_line"
	done
}

# serve_trap WORKERS [EXTRA APP LINES...]: vkd on a trap_config (kept in
# $CONF), until $PORT accepts and the master has WORKERS workers.
serve_trap() {
	_n=$1
	trap_config "$@" >"$CONF"
	serve "$CONF" "$_n"
}

# ask_line PORT TEXT: send TEXT and a newline to PORT on a new connection;
# print the first line of the answer, without its newline. Needs need_python.
ask_line() {
	"$PYTHON" -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(sys.argv[2].encode() + b"\n")
print(s.makefile("rb").readline().decode().strip())' "$1" "$2"
}

# ---- the http app (http-*.sh) ----

# http_config WORKERS [EXTRA APP LINES...]: a config serving the http app
# on $PORT.
http_config() {
	vkd_section "$1"
	shift
	printf '[app http]\nmodule = http.so\nlisten = 127.0.0.1:%s\nheap = 64k\n' "$PORT"
	for _line in "$@"; do
		echo "$_line"
	done
}

# serve_http WORKERS [EXTRA APP LINES...]: vkd on an http_config (kept in
# $CONF); up to 10 s until $PORT accepts.
serve_http() {
	http_config "$@" >"$CONF"
	start_vkd "$CONF"
	wait_port "$PORT" 10000
	note_workers
}

# http_py: run the python checks on stdin, with http_util's names, and
# PORT, T and VKD_PID (the master, 0 if none) set. Needs need_python.
http_py() {
	"$PYTHON" -c 'import os, sys
from http_util import *
PORT, T, VKD_PID = int(sys.argv[1]), sys.argv[2], int(sys.argv[3] or 0)
exec(compile(sys.stdin.read(), "<test>", "exec"))' "$PORT" "$T" "$VKD_PID" ||
		fail "python checks failed"
}

# ---- vkctl (vkctl_*.sh; each needs need_vkctl) ----

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

# status_total NAME: the counter NAME of the daemon's totals, now.
status_total() {
	status_json | jget "d[\"totals\"][\"$1\"]"
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

# reload_under_load WORKERS LOADPID: three `vkctl reload --wait`s a second
# apart (generations 2, 3, 4, each waited for with WORKERS ready), then
# $T/stop tells the background load LOADPID to end; its output
# ($T/load.out) is shown, and the test fails if it exited non-zero (it saw
# a failed request).
reload_under_load() {
	sleep 1
	_gen=1
	for _round in 1 2 3; do
		ctl reload --wait >"$T/reload.out" 2>&1 || fail "reload $_round: $(cat "$T/reload.out")"
		_gen=$((_gen + 1))
		wait_ready "$1" "$_gen" 10000
		sleep 1
	done
	touch "$T/stop"
	wait "$2"
	_load_status=$?
	cat "$T/load.out"
	[ "$_load_status" -eq 0 ] || fail "the load saw failures"
}

# serve_ready WORKERS [EXTRA]: serve_echo, then until status shows the
# workers ready.
serve_ready() {
	serve_echo "$@"
	wait_ready "$1"
}

cleanup() {
	_rc=$?
	_left=""
	trap - EXIT
	# A closed stdout or stderr (| head) must not stop the cleanup.
	trap '' PIPE
	# Clients first: a connection they hold would hold the drain up.
	for _p in $PIDS; do
		is_vkd "$_p" || kill_ours "$_p"
	done
	# A master still running: SIGTERM (it stops its workers), SIGKILL
	# after 10 s.
	_grace=0
	if [ -n "$VKD_PID" ] && alive "$VKD_PID"; then
		_grace=3000
		note_workers
		kill -TERM "$VKD_PID" 2>/dev/null
		if ! wait_gone "$VKD_PID" 10000; then
			echo "vkd $VKD_PID ignored SIGTERM: killing" >&2
			# Workers first: with the master gone they would drain, not vanish.
			for _p in $VKD_WORKERS; do
				kill_ours "$_p"
			done
			kill_ours "$VKD_PID"
		fi
	fi
	# Workers may take a moment to go after a master stopped just now; any
	# other vkd process must be gone already. One still there is left behind.
	for _p in $PIDS; do
		if ours "$_p" && is_vkd "$_p" && ! wait_gone "$_p" "$_grace"; then
			_left="$_left $_p"
		fi
	done
	# Whatever of ours is still there goes now; what survives that is left.
	for _p in $PIDS; do
		kill_ours "$_p"
	done
	wait 2>/dev/null
	sleep 0.1
	for _p in $PIDS; do
		case " $_left " in
		*" $_p "*) ;;
		*) if ours "$_p" && alive "$_p"; then _left="$_left $_p"; fi ;;
		esac
	done
	if [ -n "$_left" ]; then
		echo "FAIL: processes left behind:$_left" >&2
		_rc=1
	fi
	if grep -qE "$SANITIZER_RE" "$LOG" 2>/dev/null; then
		echo "FAIL: sanitizer report in the vkd log:" >&2
		grep -E -A20 "$SANITIZER_RE" "$LOG" | head -n 60 >&2
		_rc=1
	fi
	rm -rf "$T"
	exit $_rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

PORT=$(free_port) || exit 1
TAKEN_PORTS=" $PORT "

# ---- the chat and kv apps (chat-*.sh, kv-*.sh) ----

# app_config APP WORKERS [EXTRA APP LINES...]: a config serving the
# bundled app APP (chat, kv) on $PORT.
app_config() {
	_app=$1
	vkd_section "$2"
	shift 2
	printf '[app %s]\nmodule = %s.so\nlisten = 127.0.0.1:%s\n' "$_app" "$_app" "$PORT"
	for _line in "$@"; do
		echo "$_line"
	done
}

# serve_app APP WORKERS [EXTRA APP LINES...]: vkd on an app_config (kept
# in $CONF), until $PORT accepts and every worker is ready. Needs
# need_vkctl.
serve_app() {
	app_config "$@" >"$CONF"
	start_vkd "$CONF"
	wait_port "$PORT" 10000
	wait_ready "$2" "" 10000
	note_workers
}

# kv_py: run the python checks on stdin with resp_util's names, and PORT,
# T and WORKERS_N (the worker count) set. Needs need_python.
kv_py() {
	"$PYTHON" -c 'import os, sys
from resp_util import *
PORT, T, WORKERS_N = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
exec(compile(sys.stdin.read(), "<test>", "exec"))' "$PORT" "$T" "${KV_WORKERS:-1}" ||
		fail "python checks failed"
}

# chat_py: run the python checks on stdin with chat_util's names, and PORT
# and T set. Needs need_python.
chat_py() {
	"$PYTHON" -c 'import os, sys
from chat_util import *
PORT, T = int(sys.argv[1]), sys.argv[2]
exec(compile(sys.stdin.read(), "<test>", "exec"))' "$PORT" "$T" ||
		fail "python checks failed"
}
