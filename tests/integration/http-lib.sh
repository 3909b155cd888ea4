# Shared by the HTTP integration tests (tests/integration/http-*.sh):
# sourced, never run.
#
# Each test gets a temp dir ($HT), a free loopback port ($HPORT), its own
# config, the real vkd started in the background, and an EXIT trap that
# stops vkd by pid (TERM, then KILL), waits, and fails the test if the
# master or any of its workers is still there. Tests assert on behaviour
# (status codes, bodies, headers), never on log wording; the log is only
# shown when a test fails.
#
#	. "$top_srcdir/tests/integration/http-lib.sh"
#	http_config 1 'opt.max_body = 16M' >"$HT/vkd.ini"
#	http_start "$HT/vkd.ini"
#	http_py <<'EOF'
#	c = Conn(PORT); ...
#	EOF

set -u

: "${top_builddir:?run through make check}" "${top_srcdir:?run through make check}"
HTTP_VKD=$top_builddir/src/vkd/vkd
VKD_MODULE_DIR=$top_builddir/src/apps/.libs
PYTHON=${PYTHON:-python3}
# http_util.py lives next to this file; keep the source tree free of .pyc.
PYTHONPATH=$top_srcdir/tests/integration${PYTHONPATH:+:$PYTHONPATH}
PYTHONDONTWRITEBYTECODE=1
export VKD_MODULE_DIR PYTHONPATH PYTHONDONTWRITEBYTECODE
# Keep the test's vkd out of any service manager's view.
unset NOTIFY_SOCKET JOURNAL_STREAM LISTEN_FDS LISTEN_PID

[ -x "$HTTP_VKD" ] || {
	echo "SKIP: $HTTP_VKD is not built" >&2
	exit 77
}
command -v "$PYTHON" >/dev/null 2>&1 || {
	echo "SKIP: no $PYTHON" >&2
	exit 77
}

HT=$(mktemp -d "${TMPDIR:-/tmp}/vkd-http.XXXXXX") || exit 99
HLOG=$HT/vkd.log
HVKD_PID=""   # the master we started
HPIDS=""      # every vkd process (master, workers) seen, checked at exit

hfail() {
	echo "FAIL: $*" >&2
	if [ -s "$HLOG" ]; then
		echo "--- vkd log (last lines)" >&2
		tail -n 40 "$HLOG" >&2
	fi
	exit 1
}

hnow_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# A free loopback TCP port (bound and released by python).
http_free_port() {
	"$PYTHON" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])' || hfail "no free port"
}

HPORT=$(http_free_port) || exit 99

# http_config WORKERS [EXTRA APP LINES...]: a config serving the http app on
# $HPORT, control socket in $HT.
http_config() {
	local workers=$1 line
	shift
	cat <<EOT
[vkd]
workers = $workers
control = $HT/vkd.sock
log_level = debug
drain_timeout = 10s

[app http]
module = http.so
listen = 127.0.0.1:$HPORT
heap = 64k
EOT
	for line in "$@"; do
		echo "$line"
	done
}

# Children of pid $1 (the workers of a master).
http_children() {
	ps -o pid= --ppid "$1" 2>/dev/null | tr -d ' '
}

# Remember the master's current workers, so that cleanup checks them too.
http_note_workers() {
	[ -n "$HVKD_PID" ] || return 0
	HPIDS="$HPIDS $(http_children "$HVKD_PID" | tr '\n' ' ')"
}

# Alive and not a zombie.
http_alive() {
	kill -0 "$1" 2>/dev/null || return 1
	[ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" != Z ]
}

# http_wait_gone PID MS: until PID is gone (or a zombie).
http_wait_gone() {
	local end=$(($(hnow_ms) + $2))
	while http_alive "$1"; do
		[ "$(hnow_ms)" -lt "$end" ] || return 1
		sleep 0.05
	done
	return 0
}

# http_start CONFIG: start vkd in the foreground (of our background), wait
# up to 10 s until $HPORT answers.
http_start() {
	"$HTTP_VKD" -f -c "$1" >>"$HLOG" 2>&1 &
	HVKD_PID=$!
	HPIDS="$HPIDS $HVKD_PID"
	"$PYTHON" - "$HPORT" "$HVKD_PID" <<'EOF' || hfail "vkd does not answer on port $HPORT"
import os, socket, sys, time
port, pid = int(sys.argv[1]), int(sys.argv[2])
end = time.time() + 10
while time.time() < end:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit("vkd exited")
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit("timeout")
EOF
	http_note_workers
}

# http_stop: SIGTERM the master; it must exit 0 within 10 s, workers gone.
http_stop() {
	local rc=0
	http_note_workers
	kill -TERM "$HVKD_PID" 2>/dev/null || hfail "vkd is not running"
	http_wait_gone "$HVKD_PID" 10000 || hfail "vkd did not exit within 10 s of SIGTERM"
	wait "$HVKD_PID" || rc=$?
	[ "$rc" -eq 0 ] || hfail "vkd exited with status $rc after SIGTERM"
	HVKD_PID=""
	for p in $HPIDS; do
		http_alive "$p" && hfail "vkd process $p outlived the master"
	done
	return 0
}

# Run python (script on stdin) with PORT, HT and http_util imported.
http_py() {
	"$PYTHON" -c 'import sys, os
from http_util import *
PORT = int(os.environ["HPORT"])
HT = os.environ["HT"]
exec(compile(sys.stdin.read(), "<test>", "exec"))' || hfail "python checks failed"
}
export HPORT HT

http_cleanup() {
	local rc=$? p left=""
	trap - EXIT
	# A closed stdout or stderr (| head) must not stop the cleanup.
	trap '' PIPE
	if [ -n "$HVKD_PID" ]; then
		http_note_workers
		kill -TERM "$HVKD_PID" 2>/dev/null
		if ! http_wait_gone "$HVKD_PID" 10000; then
			echo "vkd $HVKD_PID ignored SIGTERM: killing" >&2
			for p in $HPIDS; do
				http_alive "$p" && kill -KILL "$p" 2>/dev/null
			done
		fi
		wait "$HVKD_PID" 2>/dev/null
		# Workers may take a moment after the master to go.
		for p in $HPIDS; do
			http_wait_gone "$p" 3000
		done
	fi
	for p in $HPIDS; do
		if http_alive "$p"; then
			left="$left $p"
			kill -KILL "$p" 2>/dev/null
		fi
	done
	if [ -n "$left" ]; then
		echo "FAIL: vkd processes left behind:$left" >&2
		rc=1
	fi
	if grep -qE 'Sanitizer|runtime error:' "$HLOG" 2>/dev/null; then
		echo "FAIL: sanitizer report in the vkd log:" >&2
		grep -E -A20 'Sanitizer|runtime error:' "$HLOG" | head -n 60 >&2
		rc=1
	fi
	rm -rf "$HT"
	exit $rc
}
trap http_cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE
