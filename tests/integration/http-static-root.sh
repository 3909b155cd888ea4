#!/bin/sh
# A relative opt.root of static.so (a path option, VK_APP_PATHS) is taken
# from the directory of the configuration file, as vkd's other paths are,
# not from vkd's working directory: vkd started from another directory,
# which has a directory of the same name with other files, by an absolute
# and by a relative -c, serves the configuration's; vkd -t from there
# passes.
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
exit 0
