#!/bin/sh
# vkd -t: every broken configuration or module gives exit 1 and an error
# naming the file at fault; a good one gives 0; usage errors give 2. A bad
# module also stops a real start (exit 1, nothing listens).
. "$top_srcdir/tests/integration/lib.sh"

new_port PORT2

# expect STATUS NAME CONFIG MUST_MENTION
expect() {
	out=$("$VKD" -t -c "$3" 2>&1)
	rc=$?
	[ "$rc" -eq "$1" ] || fail "$2: exit $rc, want $1; output: $out"
	case $out in
	*"$4"*) ;;
	*) fail "$2: output does not name $4: $out" ;;
	esac
}

# app NAME MODULE [LISTEN]: an [app] section.
app() {
	printf '[app %s]\nmodule = %s\nlisten = %s\n' "$1" "$2" "${3:-127.0.0.1:$PORT}"
}

# expect_bad_app NAME APP MODULE MUST_MENTION: a config whose one app (APP
# on MODULE) vkd must refuse: exit 1, naming MUST_MENTION.
expect_bad_app() {
	c=$T/bad-$2.ini
	{ vkd_section 1; app "$2" "$3"; } >"$c"
	expect 1 "$1" "$c" "$4"
}

good=$T/good.ini
{ vkd_section 1; app echo echo.so; } >"$good"
expect 0 "good config" "$good" "OK"

expect_bad_app "missing module" echo "$T/nowhere/echo.so" "$T/nowhere/echo.so"
echo "not a shared object" >"$T/x.so"
expect_bad_app "not an ELF" x "$T/x.so" "$T/x.so"
expect_bad_app "no descriptor" nodesc "$TESTMODDIR/nodesc.so" "nodesc.so"
expect_bad_app "wrong magic" badmagic "$TESTMODDIR/badmagic.so" "badmagic.so"
expect_bad_app "wrong ABI major" badabi "$TESTMODDIR/badabi.so" "badabi.so"
expect_bad_app "newer ABI minor" newminor "$TESTMODDIR/newminor.so" "newminor.so"
expect_bad_app "newer ABI minor" newminor "$TESTMODDIR/newminor.so" "newer than vkd"
expect_bad_app "bad path option" badpaths "$TESTMODDIR/badpaths.so" "path option 2: bad name 'sub/dir'"
expect_bad_app "other layout" badlayout "$TESTMODDIR/badlayout.so" "badlayout.so"
expect_bad_app "other layout" badlayout "$TESTMODDIR/badlayout.so" "struct vk_thread"
# A module of ABI 2.12 saw struct vk_app_context before it grew (2.13):
# it loads; that size with this minor is a mismatch.
c=$T/oldcontext.ini
{ vkd_section 1; app oldcontext "$TESTMODDIR/oldcontext.so"; } >"$c"
expect 0 "ABI 2.12's context" "$c" "OK"
expect_bad_app "this minor, a short context" shortcontext "$TESTMODDIR/shortcontext.so" \
	"struct vk_app_context"
expect_bad_app "other shape" badshape "$TESTMODDIR/badshape.so" "badshape.so"
expect_bad_app "other shape" badshape "$TESTMODDIR/badshape.so" "struct vk_thread's fields"
expect_bad_app "wrong name" other echo.so "echo.so"

# A module that ends the check, or dies in it, fails it; the error names
# the module file and the app's config line, as the other module errors.
# crash_config HOW: a config whose crash app does HOW in its init hook.
crash_config() {
	c=$T/crash-$1.ini
	{ vkd_section 1; app crash "$TESTMODDIR/crashmod.so"; echo "opt.crash = $1"; } >"$c"
	crash_line=$(grep -n '^\[app crash\]' "$c" | cut -d: -f1)
}
crash_config exit
expect 1 "init hook calls exit(0)" "$c" "$TESTMODDIR/crashmod.so"
expect 1 "init hook calls exit(0)" "$c" "$c:$crash_line: app crash"
crash_config abort
expect 1 "init hook aborts" "$c" "$TESTMODDIR/crashmod.so"
expect 1 "init hook aborts" "$c" "$c:$crash_line: app crash"

c=$T/badkey.ini
{ vkd_section 1; echo "frobnicate = 1"; app echo echo.so; } >"$c"
expect 1 "bad key" "$c" "$c"

c=$T/badvalue.ini
{ vkd_section 1; app echo echo.so; echo "heap = lots"; } >"$c"
expect 1 "bad value" "$c" "$c"

c=$T/dupapp.ini
{ vkd_section 1; app echo echo.so; app echo echo.so "127.0.0.1:$PORT2"; } >"$c"
expect 1 "duplicate app" "$c" "$c"

c=$T/sameaddr.ini
{ vkd_section 1; app echo echo.so; app crash "$TESTMODDIR/crashmod.so"; } >"$c"
expect 1 "two apps on one address" "$c" "$c"

c=$T/noapps.ini
vkd_section 1 >"$c"
expect 1 "no apps" "$c" "$c"

expect 1 "missing file" "$T/absent.ini" "$T/absent.ini"
mkdir "$T/dir.ini"
expect 1 "unreadable file" "$T/dir.ini" "$T/dir.ini"

# Usage errors.
"$VKD" -x >/dev/null 2>&1
rc=$?
[ "$rc" -eq 2 ] || fail "unknown option: exit $rc, want 2"
"$VKD" -c >/dev/null 2>&1
rc=$?
[ "$rc" -eq 2 ] || fail "missing argument: exit $rc, want 2"
"$VKD" -t -c "$good" extra >/dev/null 2>&1
rc=$?
[ "$rc" -eq 2 ] || fail "extra argument: exit $rc, want 2"
"$VKD" -V | grep -q . || fail "-V prints nothing"
"$VKD" -h | grep -q usage || fail "-h prints no usage"
"$VKD" --help | grep -q usage || fail "--help prints no usage"
"$VKD" --version | grep -q . || fail "--version prints nothing"

# A bundled app's refused option is named, with its app and value, not
# only "init refused"; its booleans are vkd's own (vk_parse_bool).
c=$T/kvopt.ini
{ vkd_section 1; app kv kv.so; echo "opt.handoff = maybe"; } >"$c"
expect 1 "kv with opt.handoff = maybe" "$c" "app kv: opt.handoff"
expect 1 "kv with opt.handoff = maybe" "$c" "maybe"
c=$T/chatopt.ini
{ vkd_section 1; app chat chat.so; echo "opt.crash_command = 2"; } >"$c"
expect 1 "chat with opt.crash_command = 2" "$c" "app chat: opt.crash_command"
expect 1 "chat with opt.crash_command = 2" "$c" "'2'"
for v in On OFF Yes no TRUE false 1 0; do
	c=$T/kvbool.ini
	{ vkd_section 1; app kv kv.so; echo "opt.handoff = $v"; echo "opt.crash_command = $v"; } >"$c"
	expect 0 "kv with opt.handoff = $v" "$c" "OK"
	c=$T/chatbool.ini
	{ vkd_section 1; app chat chat.so; echo "opt.crash_command = $v"; } >"$c"
	expect 0 "chat with opt.crash_command = $v" "$c" "OK"
	c=$T/vkdbool.ini
	{ vkd_section 1; app echo echo.so; echo "tcp_nodelay = $v"; echo "isolation = $v"; } >"$c"
	expect 0 "echo with tcp_nodelay = $v" "$c" "OK"
done

# An option that sizes what each connection allocates is checked against
# its heap (struct vk_app_context's heap_room, ABI 2.13): one the heap
# cannot hold fails vkd -t, naming the option, instead of every client at
# run time; one it holds passes. proxy: two rings of opt.buffer (and, in
# HTTP mode, opt.max_head); http and static (the HTTP library):
# opt.max_head; kv with opt.handoff = off: opt.max_request and its arrays.
# app_config FILE APP MODULE LINES...: FILE, the [vkd] section and an app
# section with LINES.
app_config() {
	_file=$1 _app=$2 _mod=$3
	shift 3
	{
		vkd_section 1
		app "$_app" "$_mod"
		for _l in "$@"; do
			echo "$_l"
		done
	} >"$_file"
}
# heap_check NAME STATUS MUST_MENTION APP MODULE LINES...: an app section
# with LINES; vkd -t must exit STATUS naming MUST_MENTION.
heap_check() {
	_name=$1 _status=$2 _what=$3
	shift 3
	c=$T/heap.ini
	app_config "$c" "$@"
	expect "$_status" "$_name" "$c" "$_what"
}
up="opt.upstream = 127.0.0.1:$PORT2"
heap_check "proxy: 1M rings in a 256k heap" 1 "opt.buffer" proxy proxy.so "$up" \
	"opt.buffer = 1M" "heap = 256k"
heap_check "proxy: 1M rings in a 256k heap" 1 "$T/heap.ini:" proxy proxy.so "$up" \
	"opt.buffer = 1M" "heap = 256k"
heap_check "proxy: 64k rings in a 256k heap" 0 "OK" proxy proxy.so "$up" \
	"opt.buffer = 64k" "heap = 256k"
heap_check "proxy: 96k rings in the default heap" 0 "OK" proxy proxy.so "$up" "opt.buffer = 96k"
heap_check "proxy: 112k rings in the default heap" 1 "opt.buffer" proxy proxy.so "$up" \
	"opt.buffer = 112k"
heap_check "proxy http: 96k rings and a 64k head in the default heap" 1 "opt.max_head" proxy \
	proxy.so "$up" "opt.mode = http" "opt.buffer = 96k" "opt.max_head = 64k"
heap_check "http: a 64k head in a 64k heap" 1 "opt.max_head" http http.so "heap = 64k" \
	"opt.max_head = 64k"
heap_check "http: a 64k head in a 128k heap" 0 "OK" http http.so "heap = 128k" \
	"opt.max_head = 64k"
heap_check "http: a 16k head in a 64k heap" 0 "OK" http http.so "heap = 64k" \
	"opt.max_head = 16k"
heap_check "static: a 64k head in a 64k heap" 1 "opt.max_head" static static.so "heap = 64k" \
	"opt.max_head = 64k" "opt.root = $T"
heap_check "kv, handoff off: a 1M request in a 512k heap" 1 "opt.max_request" kv kv.so \
	"opt.handoff = off" "opt.max_request = 1M"
heap_check "kv, handoff off: a 384k request in a 512k heap" 0 "OK" kv kv.so \
	"opt.handoff = off" "opt.max_request = 384k"
heap_check "kv, handoff on: a 1M request (in the shard)" 0 "OK" kv kv.so "opt.max_request = 1M"
# A default is checked as a value set: an [app] with a small heap and no
# opt.* lines fails vkd -t, naming the option whose default does not fit
# (else every connection would fail that allocation at run time).
heap_check "proxy: the default 16k rings in a 64k heap" 1 "opt.buffer" proxy proxy.so "$up" \
	"heap = 64k"
heap_check "proxy: 8k rings in a 64k heap" 0 "OK" proxy proxy.so "$up" "heap = 64k" \
	"opt.buffer = 8k"
heap_check "proxy http: the default rings and head in a 80k heap" 1 "opt.max_head" proxy \
	proxy.so "$up" "opt.mode = http" "heap = 80k"
heap_check "http: the default 16k head in a 48k heap" 1 "opt.max_head" http http.so "heap = 48k"
heap_check "http: an 8k head in a 48k heap" 0 "OK" http http.so "heap = 48k" "opt.max_head = 8k"
heap_check "static: the default 16k head in a 40k heap" 1 "opt.max_head" static static.so \
	"heap = 40k" "opt.root = $T"
heap_check "kv, handoff off: the default 64k request in a 128k heap" 1 "opt.max_request" kv \
	kv.so "opt.handoff = off" "heap = 128k"
heap_check "kv, handoff on: a 128k heap" 0 "OK" kv kv.so "heap = 128k"
# Without a heap key, larger rings grow the module's heap by what they
# add: the room it left for the app's defaults stays.
heap_check "http: 64k rings in the module's heap" 0 "OK" http http.so "ring = 64k"
heap_check "proxy http: 64k rings in the module's heap" 0 "OK" proxy proxy.so "$up" \
	"opt.mode = http" "ring = 64k"
# kv's shard holds a command of opt.max_request and a reply as large (a GET
# of a value that size) at once: with handoff on (the client's buffers and
# arrays in its shard) in the 16 MiB the shard keeps for its clients, 8000k
# and not 8M (whose GET of a value that large closed the client); with
# handoff off in the 1 MiB it keeps for its channels, 480k and not 900k
# (whose SET ... GET the shard failed), whatever each connection's heap.
heap_check "kv, handoff on: a 16M request in the shard's 16 MiB" 1 "opt.max_request" kv kv.so \
	"opt.max_request = 16M"
heap_check "kv, handoff on: a 16M request in the shard's 16 MiB" 1 "$T/heap.ini:" kv kv.so \
	"opt.max_request = 16M"
heap_check "kv, handoff on: an 8M request" 1 "opt.max_request" kv kv.so \
	"opt.max_request = 8M"
heap_check "kv, handoff on: an 8000k request" 0 "OK" kv kv.so "opt.max_request = 8000k"
heap_check "kv, handoff off: a 900k request in a 4M heap" 1 "opt.max_request" kv kv.so \
	"opt.handoff = off" "opt.max_request = 900k" "heap = 4M"
heap_check "kv, handoff off: a 480k request in a 4M heap" 0 "OK" kv kv.so \
	"opt.handoff = off" "opt.max_request = 480k" "heap = 4M"

# An option init refuses is reported at its own line (ABI 2.14: init names
# it with vk_app_refuse()), not at its [app] section's; a refused default,
# which has no line, and an init that names none (crashmod, as an older
# module) at the section's.
# line_check NAME APP MODULE KEY LINES...: an app section with LINES;
# vkd -t must exit 1 naming FILE:LINE of KEY's line (KEY "section": of
# the [app] line).
line_check() {
	_name=$1 _app=$2 _mod=$3 _key=$4
	shift 4
	c=$T/line.ini
	app_config "$c" "$_app" "$_mod" "$@"
	if [ "$_key" = section ]; then
		_line=$(grep -n "^\[app $_app\]" "$c" | cut -d: -f1)
	else
		_line=$(grep -n "^$_key =" "$c" | cut -d: -f1)
	fi
	expect 1 "$_name" "$c" "$c:$_line: app $_app"
}
line_check "proxy: opt.buffer too large for the heap" proxy proxy.so opt.buffer "$up" \
	"opt.buffer = 1M" "heap = 256k"
line_check "proxy: a bad opt.connect_timeout" proxy proxy.so opt.connect_timeout \
	"opt.connect_timeout = soon" "$up"
line_check "proxy: a bad opt.upstream" proxy proxy.so opt.upstream "opt.upstream = nowhere"
line_check "proxy: no opt.upstream" proxy proxy.so section "opt.buffer = 8k"
line_check "proxy: the default rings in a 64k heap" proxy proxy.so section "$up" "heap = 64k"
line_check "proxy http: a bad opt.max_line (the HTTP library)" proxy proxy.so opt.max_line \
	"$up" "opt.mode = http" "opt.max_line = 1"
line_check "http: opt.max_head too large for the heap" http http.so opt.max_head "heap = 64k" \
	"opt.max_head = 64k"
line_check "static: a bad opt.symlinks" static static.so opt.symlinks "opt.root = $T" \
	"opt.symlinks = never"
line_check "static: opt.root missing" static static.so opt.root "opt.root = $T/nowhere"
line_check "kv: opt.max_request too large for the heap" kv kv.so opt.max_request \
	"opt.handoff = off" "opt.max_request = 1M"
line_check "kv: a 16M request in the shard's 16 MiB" kv kv.so opt.max_request \
	"opt.max_request = 16M"
line_check "kv: a bad opt.handoff" kv kv.so opt.handoff "opt.handoff = maybe"
line_check "chat: a bad opt.crash_command" chat chat.so opt.crash_command \
	"opt.crash_command = 2"
line_check "chat: a bad opt.room" chat chat.so opt.room "opt.room ="
line_check "crash: init refuses naming no option" crash "$TESTMODDIR/crashmod.so" section \
	"opt.crash = init"
# A module of ABI 2.13 (before vk_app_refuse()) still loads.
c=$T/minor13.ini
{ vkd_section 1; app minor13 "$TESTMODDIR/minor13.so"; } >"$c"
expect 0 "ABI 2.13's module" "$c" "OK"

# Module code in the check runs as the configured user, never as root:
# crashmod's init refuses to run as root (opt.crash = root).
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
	c=$T/asuser.ini
	{
		vkd_section 1
		echo "user = nobody"
		app crash "$TESTMODDIR/crashmod.so"
		echo "opt.crash = root"
	} >"$c"
	expect 0 "init hook checked as user nobody" "$c" "OK"
	c=$T/asroot.ini
	{ vkd_section 1; app crash "$TESTMODDIR/crashmod.so"; echo "opt.crash = root"; } >"$c"
	expect 1 "init hook checked as root (the control case)" "$c" "refused"
fi

# Not root, a user other than our own cannot be become: the check says so
# (every worker would fail its setgid and be respawned forever).
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1 && getent group nogroup >/dev/null &&
	command -v setpriv >/dev/null &&
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$VKD" -V >/dev/null 2>&1; then
	chmod 711 "$T"
	c=$T/otheruser.ini
	{ vkd_section 1; echo "user = root"; app echo echo.so; } >"$c"
	chmod 644 "$c"
	out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$VKD" -t -c "$c" 2>&1)
	rc=$?
	[ "$rc" -eq 1 ] || fail "user = root, checked as nobody: exit $rc, want 1; output: $out"
	case $out in
	*"cannot become the configured user"*) ;;
	*) fail "user = root, checked as nobody: the output does not say why: $out" ;;
	esac
	chmod 700 "$T"
fi

# A missing folder for the control socket is made, mode 0755.
c=$T/ctldir.ini
sed "s|^control = .*|control = $T/run/ctl.sock|" "$good" >"$c"
start_vkd "$c"
wait_port "$PORT"
[ "$(stat -c %a "$T/run")" = 755 ] || fail "control folder made with mode $(stat -c %a "$T/run")"
stop_vkd

# A real start with a bad module fails at once and listens on nothing.
c=$T/startbad.ini
{ vkd_section 1; app badabi "$TESTMODDIR/badabi.so"; } >"$c"
start_vkd "$c"
wait_exit "$VKD_PID" 5000 || fail "vkd with a bad module did not exit"
[ "$EXIT_STATUS" -eq 1 ] || fail "vkd with a bad module exited $EXIT_STATUS, want 1"
VKD_PID=""
"$VKCLIENT" wait "$PORT" 200 2>/dev/null && fail "port $PORT accepts after a failed start"
exit 0
