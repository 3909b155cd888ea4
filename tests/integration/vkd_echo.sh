#!/bin/sh
# Echo round trip from 200 clients at once, over two workers sharing one
# accept queue; stray signals to the master; then a clean stop.
. "$top_srcdir/tests/integration/lib.sh"

echo_config 2 >"$CONF"
echo "listen = unix:$T/echo.sock" >>"$CONF"
serve "$CONF" 2

"$VKCLIENT" load "$PORT" 200 10 || fail "echo under 200 concurrent clients"
# Signals the master does not use change nothing.
for sig in USR1 USR2 PIPE; do
	kill -"$sig" "$VKD_PID"
done
sleep 0.2
alive "$VKD_PID" || fail "the master died of SIGUSR1, SIGUSR2 or SIGPIPE"
"$VKCLIENT" load "$PORT" 5 2 || fail "echo after stray signals"
[ -S "$T/echo.sock" ] || fail "no unix socket at $T/echo.sock"
stop_vkd
[ -e "$T/echo.sock" ] && fail "unix socket file left after stop"
exit 0
