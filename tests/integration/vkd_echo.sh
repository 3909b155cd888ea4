#!/bin/sh
# Echo round trip from 200 clients at once, over two workers sharing one
# accept queue; then a clean stop.
. "$top_srcdir/tests/integration/lib.sh"

echo_config 2 >"$CONF"
echo "listen = unix:$T/echo.sock" >>"$CONF"
serve "$CONF" 2

"$VKCLIENT" load "$PORT" 200 10 || fail "echo under 200 concurrent clients"
[ -S "$T/echo.sock" ] || fail "no unix socket at $T/echo.sock"
stop_vkd
[ -e "$T/echo.sock" ] && fail "unix socket file left after stop"
exit 0
