#!/bin/sh
# The control socket's mode and group are the config's, and the master
# checks every peer (SO_PEERCRED): root and its own uid pass; another
# user passes only through control_group; anyone else is refused (exit 1,
# "permission denied") while the daemon goes on. The parts that need a
# second user run only as root (vkctl as nobody, through setpriv).
. "$top_srcdir/tests/integration/lib.sh"
need_vkctl

# The mode as configured, and 0660 by default.
serve_ready 1 "control_mode = 0640"
[ "$(stat -c %a "$SOCK")" = 640 ] || fail "socket mode $(stat -c %a "$SOCK"), want 640"
ctl status >/dev/null || fail "status by the daemon's own user"
stop_vkd
serve_ready 1
[ "$(stat -c %a "$SOCK")" = 660 ] || fail "default socket mode $(stat -c %a "$SOCK"), want 660"
stop_vkd

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP (part): not root, so no second user to test refusals with"
	exit 0
fi
if ! getent passwd nobody >/dev/null || ! getent group nogroup >/dev/null ||
	! command -v setpriv >/dev/null; then
	echo "SKIP (part): needs user nobody, group nogroup and setpriv"
	exit 0
fi
# as_nobody GROUP CMD...: run as nobody with only GROUP.
as_nobody() {
	_g=$1
	shift
	setpriv --reuid=nobody --regid="$_g" --clear-groups "$@"
}
# nobody must reach vkctl and the socket's folder.
chmod 711 "$T"
if ! as_nobody nogroup "$VKCTL" -h >/dev/null 2>&1; then
	echo "SKIP (part): nobody cannot run $VKCTL (a private build folder?)"
	exit 0
fi
other=daemon
getent group "$other" >/dev/null || other=""

# Anyone may connect (0666), no control_group: nobody is refused by the
# master, which keeps serving.
serve_ready 1 "control_mode = 0666"
as_nobody nogroup "$VKCTL" -s "$SOCK" status >"$T/out" 2>"$T/err"
rc=$?
[ $rc -eq 1 ] || fail "nobody without the group: exit $rc, want 1 ($(cat "$T/err"))"
grep -q 'permission denied' "$T/err" || fail "refusal message: $(cat "$T/err")"
[ -s "$T/out" ] && fail "a refused client got output: $(cat "$T/out")"
as_nobody nogroup "$VKCTL" -s "$SOCK" --json stop >"$T/out" 2>/dev/null
jget 'd["ok"]' <"$T/out" | grep -qx false || fail "refusal is not a JSON error: $(cat "$T/out")"
alive "$VKD_PID" || fail "a refused stop stopped vkd"
[ "$(status_json | jget 'd["pid"]')" = "$VKD_PID" ] || fail "status after a refusal"
stop_vkd

# control_group = nogroup: the socket's group; a peer in it passes, a
# peer in another group is refused.
serve_ready 1 "control_mode = 0666
control_group = nogroup"
[ "$(stat -c %G "$SOCK")" = nogroup ] || fail "socket group $(stat -c %G "$SOCK"), want nogroup"
as_nobody nogroup "$VKCTL" -s "$SOCK" --json status >"$T/out" 2>"$T/err" ||
	fail "nobody in control_group refused: $(cat "$T/err")"
[ "$(jget 'd["pid"]' <"$T/out")" = "$VKD_PID" ] || fail "status as nobody: $(cat "$T/out")"
if [ -n "$other" ]; then
	as_nobody "$other" "$VKCTL" -s "$SOCK" status >/dev/null 2>"$T/err"
	rc=$?
	[ $rc -eq 1 ] || fail "nobody in group $other: exit $rc, want 1"
	grep -q 'permission denied' "$T/err" || fail "refusal message: $(cat "$T/err")"
fi
stop_vkd

# The file's mode is enforced too: 0600 keeps nobody out at connect (exit 3).
serve_ready 1 "control_mode = 0600
control_group = nogroup"
[ "$(stat -c %a "$SOCK")" = 600 ] || fail "socket mode $(stat -c %a "$SOCK"), want 600"
as_nobody nogroup "$VKCTL" -s "$SOCK" status >/dev/null 2>"$T/err"
rc=$?
[ $rc -eq 3 ] || fail "nobody on a 0600 socket: exit $rc, want 3"
grep -q "$SOCK" "$T/err" || fail "connect error does not name the socket: $(cat "$T/err")"
stop_vkd
exit 0
