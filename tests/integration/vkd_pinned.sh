#!/bin/sh
# A generation loads the module files it checked, not what their paths
# hold later: with the echo module's file replaced on disk by a broken one
# (a deploy before its reload), a worker killed and respawned still loads
# the checked file and serves; the reload that follows refuses the broken
# file and the generation goes on serving.
. "$top_srcdir/tests/integration/lib.sh"

[ -f "$TESTMODDIR/nodesc.so" ] || skip "test modules not built"
mkdir "$T/mods"
cp "$MODDIR/echo.so" "$T/mods/echo.so"
echo_config 1 >"$CONF"
sed -i "s|^module = echo.so$|module = $T/mods/echo.so|" "$CONF"
grep -q "^module = $T/mods/echo.so$" "$CONF" || fail "config: $(cat "$CONF")"
serve "$CONF" 1
old=$WORKERS

# Deploy a broken file the way installers do: a new file renamed over it.
cp "$TESTMODDIR/nodesc.so" "$T/mods/new.so"
mv "$T/mods/new.so" "$T/mods/echo.so"

kill -KILL "$old"
end=$(($(now_ms) + 10000))
while new=$(workers_of "$VKD_PID") && { [ -z "$new" ] || [ "$new" = "$old" ]; }; do
	[ "$(now_ms)" -lt "$end" ] || fail "no worker respawned"
	sleep 0.05
done
note_workers "$new"
"$VKCLIENT" load "$PORT" 5 3 || fail "the respawned worker does not serve"
sleep 0.5
[ "$(workers_of "$VKD_PID")" = "$new" ] || fail "the respawned worker did not stay"

# A reload reads the path again: the broken file is refused, nothing changes.
kill -HUP "$VKD_PID"
sleep 1
alive "$VKD_PID" || fail "the master died on a reload to a broken module"
[ "$(workers_of "$VKD_PID")" = "$new" ] || fail "the generation changed after a failed reload"
"$VKCLIENT" load "$PORT" 5 3 || fail "no service after the failed reload"
stop_vkd
exit 0
