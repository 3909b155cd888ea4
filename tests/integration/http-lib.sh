# What the HTTP integration tests (tests/integration/http-*.sh) add to
# lib.sh: sourced, never run. The http app on $PORT, and python checks with
# http_util.py (next to this file) for what is sent and received, byte by
# byte.
#
#	. "$top_srcdir/tests/integration/http-lib.sh"
#	serve_http 1 'opt.max_body = 16M'
#	http_py <<'EOF'
#	c = Conn(PORT); ...
#	EOF
#	stop_vkd

# top_srcdir comes from make check (tests/local.mk).
# shellcheck source=tests/integration/lib.sh disable=SC2154
. "$top_srcdir/tests/integration/lib.sh"

need_python
# http_util.py lives next to this file; keep the source tree free of .pyc.
PYTHONPATH=$top_srcdir/tests/integration${PYTHONPATH:+:$PYTHONPATH}
PYTHONDONTWRITEBYTECODE=1
export PYTHONPATH PYTHONDONTWRITEBYTECODE

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
# PORT, T and VKD_PID (the master, 0 if none) set.
http_py() {
	"$PYTHON" -c 'import os, sys
from http_util import *
PORT, T, VKD_PID = int(sys.argv[1]), sys.argv[2], int(sys.argv[3] or 0)
exec(compile(sys.stdin.read(), "<test>", "exec"))' "$PORT" "$T" "$VKD_PID" ||
		fail "python checks failed"
}
