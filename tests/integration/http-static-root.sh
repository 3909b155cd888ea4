#!/bin/sh
# A relative opt.root of static.so (a path option, VK_APP_PATHS) is taken
# from the directory of the configuration file, as vkd's other paths are,
# not from vkd's working directory: vkd started from another directory,
# which has a directory of the same name with other files, by an absolute
# and by a relative -c, serves the configuration's; vkd -t from there
# passes. With no working directory at all (it was removed), a relative
# -c still opens, but no relative path can be made absolute: vkd -t
# refuses the relative opt.root at its own line, and nothing else (kv's
# options are no paths).
. "$top_srcdir/tests/integration/lib.sh"
need_cmd curl

mkdir -p "$T/conf/site" "$T/elsewhere/site" || fail "mkdir"
printf 'from the config dir\n' >"$T/conf/site/which.txt"
printf 'from the working dir\n' >"$T/elsewhere/site/which.txt"
{
	vkd_section 1
	printf '[app static]\nmodule = static.so\nlisten = 127.0.0.1:%s\nopt.root = site\n' "$PORT"
} >"$T/conf/vkd.ini"

# served CONFIG_ARG: vkd -t, then vkd, started from $T/elsewhere; which.txt
# as served in $T/got.
served() {
	cd "$T/elsewhere" || fail "cd"
	"$VKD" -t -c "$1" >>"$LOG" 2>&1 || fail "vkd -t -c $1 from elsewhere failed"
	start_vkd "$1"
	wait_port "$PORT" 10000
	cd / || fail "cd /"
	curl -s --max-time 10 -o "$T/got" "http://127.0.0.1:$PORT/which.txt" || fail "GET which.txt"
	stop_vkd
	new_log
}

served "$T/conf/vkd.ini"
[ "$(cat "$T/got")" = "from the config dir" ] || fail "absolute -c: served '$(cat "$T/got")'"
served ../conf/vkd.ini
[ "$(cat "$T/got")" = "from the config dir" ] || fail "relative -c: served '$(cat "$T/got")'"

# nocwd CONFIG: vkd -t -c ../conf/CONFIG run in a removed directory; its
# exit status in $rc, its output in $out.
nocwd() {
	mkdir "$T/gone" || fail "mkdir gone"
	cd "$T/gone" || fail "cd gone"
	rmdir "$T/gone" || fail "rmdir gone"
	rc=0
	out=$("$VKD" -t -c "../conf/$1" 2>&1) || rc=$?
	cd / || fail "cd /"
	echo "--- no working directory, $1: $out" >>"$LOG"
}
kv_section() {
	printf '[app kv]\nmodule = kv.so\nlisten = 127.0.0.1:%s\nopt.handoff = off\n' "$PORT2"
}
new_port PORT2
{
	vkd_section 1
	kv_section
	printf '[app static]\nmodule = static.so\nlisten = 127.0.0.1:%s\nopt.root = site\n' "$PORT"
} >"$T/conf/relative.ini"
root_line=$(grep -n '^opt.root' "$T/conf/relative.ini" | cut -d: -f1)
nocwd relative.ini
[ "$rc" -eq 1 ] || fail "no working directory, relative opt.root: exit $rc, want 1: $out"
case $out in
*"../conf/relative.ini:$root_line: app static: opt.root"*) ;;
*) fail "no working directory: the refusal does not name opt.root's line $root_line: $out" ;;
esac
[ "$(printf '%s\n' "$out" | grep -c 'relative.ini:[0-9]*:')" -eq 1 ] ||
	fail "no working directory: more refused than opt.root: $out"
{
	vkd_section 1
	kv_section
	printf '[app static]\nmodule = static.so\nlisten = 127.0.0.1:%s\nopt.root = %s\n' "$PORT" "$T/conf/site"
} >"$T/conf/absolute.ini"
nocwd absolute.ini
[ "$rc" -eq 0 ] || fail "no working directory, absolute opt.root: exit $rc, want 0: $out"
exit 0
