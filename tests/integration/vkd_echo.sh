#!/bin/sh
# Echo round trip from 200 clients at once, over two workers sharing one
# accept queue; then a clean stop.
. "$top_srcdir/tests/integration/lib.sh"

PORT=$(free_port) || exit 1
c=$T/vkd.ini
vkd_section 2 >"$c"
cat >>"$c" <<EOT
[app echo]
module = echo.so
listen = 127.0.0.1:$PORT
listen = unix:$T/echo.sock
EOT
start_vkd "$c"
wait_port "$PORT"
wait_workers 2 >/dev/null || exit 1

"$VKCLIENT" load "$PORT" 200 10 || fail "echo under 200 concurrent clients"
[ -S "$T/echo.sock" ] || fail "no unix socket at $T/echo.sock"
stop_vkd
[ -e "$T/echo.sock" ] && fail "unix socket file left after stop"
exit 0
