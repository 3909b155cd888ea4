# Shared by the vkd integration tests: sourced, never run.
#
# Every test gets a temp dir ($T), free ports, its own config, the real
# vkd started in the background, and a trap that kills by pid whatever it
# started and fails if anything is left (a process, or a sanitizer report
# in the log). Tests assert on behaviour, never on log wording.

set -u

: "${top_builddir:?run through make check}" "${top_srcdir:?run through make check}"
VKD=$top_builddir/src/vkd/vkd
VKCLIENT=$top_builddir/tests/integration/vkclient
MODDIR=$top_builddir/src/apps/.libs
TESTMODDIR=$top_builddir/tests/integration/.libs
VKD_MODULE_DIR=$MODDIR
export VKD_MODULE_DIR
# Keep the test's processes out of any service manager's view.
unset NOTIFY_SOCKET JOURNAL_STREAM

T=$(mktemp -d "${TMPDIR:-/tmp}/vkd-test.XXXXXX") || exit 99
LOG=$T/vkd.log
PIDS=""       # every process the test started
VKD_PID=""

fail() {
	echo "FAIL: $*" >&2
	if [ -s "$LOG" ]; then
		echo "--- vkd log" >&2
		tail -n 60 "$LOG" >&2
	fi
	exit 1
}

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# Worker pids of master $1 (children named "vkd worker N").
workers_of() {
	ps -o pid=,comm= --ppid "$1" 2>/dev/null | awk '$2 == "vkd" && $3 == "worker" { print $1 }'
}

# Remember pids so that cleanup checks they are gone.
note_pids() {
	PIDS="$PIDS $*"
}

free_port() {
	"$VKCLIENT" port || fail "no free port"
}

# start_vkd CONFIG: vkd in the foreground, in our background.
start_vkd() {
	"$VKD" -f -c "$1" >>"$LOG" 2>&1 &
	VKD_PID=$!
	note_pids "$VKD_PID"
}

# wait_port PORT [MS]: until the port accepts.
wait_port() {
	"$VKCLIENT" wait "$1" "${2:-5000}" || fail "port $1 does not accept"
}

# wait_workers N [MS]: until the master has N workers; prints their pids.
wait_workers() {
	_end=$(($(now_ms) + ${2:-5000}))
	while :; do
		_pids=$(workers_of "$VKD_PID")
		if [ "$(echo "$_pids" | grep -c .)" -eq "$1" ]; then
			note_pids $_pids
			echo "$_pids"
			return 0
		fi
		[ "$(now_ms)" -lt "$_end" ] || fail "expected $1 workers, have: $_pids"
		sleep 0.02
	done
}

# wait_exit PID MS: until PID is gone; its status (if our child) in $EXIT_STATUS.
wait_exit() {
	_end=$(($(now_ms) + $2))
	while kill -0 "$1" 2>/dev/null; do
		# A zombie child counts as gone: wait reaps it below.
		if [ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" = Z ]; then
			break
		fi
		[ "$(now_ms)" -lt "$_end" ] || return 1
		sleep 0.02
	done
	EXIT_STATUS=0
	wait "$1" 2>/dev/null || EXIT_STATUS=$?
	return 0
}

# stop_vkd: SIGTERM, and vkd must exit 0 within 10 s.
stop_vkd() {
	_workers=$(workers_of "$VKD_PID")
	note_pids $_workers
	kill -TERM "$VKD_PID" || fail "vkd is not running"
	wait_exit "$VKD_PID" 10000 || fail "vkd did not stop in 10 s"
	[ "$EXIT_STATUS" -eq 0 ] || fail "vkd exited with $EXIT_STATUS after SIGTERM"
	for p in $_workers; do
		kill -0 "$p" 2>/dev/null && fail "worker $p outlived the master"
	done
	VKD_PID=""
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
	for p in "$@"; do
		if ls -l "/proc/$p/fd" 2>/dev/null | grep -q "socket:\[$_inode\]"; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# SIGKILL pid $1 if it is still one of ours (a pid may have been reused).
kill_ours() {
	case $(cat "/proc/$1/comm" 2>/dev/null) in
	vkd* | vkclient* | lt-vk*) kill -KILL "$1" 2>/dev/null ;;
	esac
}

cleanup() {
	rc=$?
	left=""
	trap - EXIT
	# Workers first: with the master gone they would drain, not vanish.
	if [ -n "$VKD_PID" ]; then
		for p in $(workers_of "$VKD_PID"); do
			kill_ours "$p"
		done
	fi
	for p in $PIDS; do
		kill_ours "$p"
	done
	wait 2>/dev/null
	sleep 0.1
	for p in $PIDS; do
		if kill -0 "$p" 2>/dev/null && [ "$(ps -o stat= -p "$p" | cut -c1)" != Z ]; then
			left="$left $p"
		fi
	done
	if [ -n "$left" ]; then
		echo "FAIL: processes left behind:$left" >&2
		rc=1
	fi
	if grep -qE 'Sanitizer|runtime error:' "$LOG" 2>/dev/null; then
		echo "FAIL: sanitizer report in the vkd log:" >&2
		grep -E -A20 'Sanitizer|runtime error:' "$LOG" | head -n 60 >&2
		rc=1
	fi
	rm -rf "$T"
	exit $rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# vkd_section WORKERS [DRAIN_TIMEOUT]: print a [vkd] section; the test
# appends its apps.
vkd_section() {
	cat <<EOT
[vkd]
workers = $1
log_level = debug
drain_timeout = ${2:-10s}
control = $T/ctl.sock
EOT
}
