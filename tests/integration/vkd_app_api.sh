#!/bin/sh
# The app boundary: `make install` installs the API headers of vk(3) and no
# internal one; an app built against the installed tree with pkg-config
# loads in vkd; every function those headers declare resolves in vkd and
# no kernel function does; one that reaches for the kernel's insides (an
# internal header, that->proc) does not compile.
. "$top_srcdir/tests/integration/lib.sh"

: "${CC:=cc}"
need_cmd "$CC" pkg-config make
need_python

dest=$T/root
make -s -C "$top_builddir" install-pkgincludeHEADERS install-pkgconfigDATA \
	install-exampledocDATA DESTDIR="$dest" >"$T/install.log" 2>&1 ||
	fail "make install: $(cat "$T/install.log")"
pcdir=$(find "$dest" -name libvk.pc -printf '%h\n' | head -n 1)
[ -n "$pcdir" ] || fail "libvk.pc not installed"
incdir=$(find "$dest" -name vk.h -printf '%h\n' | head -n 1)
[ -n "$incdir" ] || fail "vk.h not installed"

# Exactly the API headers: vk.h, vk_http_app.h and what they include.
installed=$(cd "$incdir" && ls | sort | tr '\n' ' ')
want="vk.h vk_addr.h vk_api.h vk_app.h vk_channel.h vk_connect.h vk_forward.h vk_future.h \
vk_http.h vk_http_app.h vk_http_body.h vk_http_exchange.h vk_http_reply.h vk_http_route.h \
vk_http_static.h vk_http_url.h vk_parse.h vk_pubsub.h vk_socket.h vk_state.h vk_state_s.h "
[ "$installed" = "$want" ] || fail "installed headers: '$installed', want '$want'"

# cflags: pkg-config's flags for libvk, with the staging root in front.
cflags=$(PKG_CONFIG_PATH=$pcdir PKG_CONFIG_SYSROOT_DIR=$dest pkg-config --cflags libvk) ||
	fail "pkg-config --cflags libvk"
libs=$(PKG_CONFIG_PATH=$pcdir PKG_CONFIG_SYSROOT_DIR=$dest pkg-config --libs libvk)

# build NAME SOURCE-FILE [FLAGS...]: compile a module against the installed tree.
build() {
	_name=$1 _src=$2
	shift 2
	# shellcheck disable=SC2086 # word splitting of the flags is meant
	"$CC" -std=gnu11 -Wall -Werror $cflags -o "$T/$_name.so" "$_src" $libs "$@" \
		>"$T/$_name.log" 2>&1
}

# check NAME [LINES...]: `vkd -t` on [app NAME] loading $T/NAME.so, with
# LINES, into $T/NAME.ini and $T/NAME-check.log; its status.
check() {
	_app=$1
	shift
	{
		vkd_section 1
		printf '[app %s]\nmodule = %s\nlisten = 127.0.0.1:%s\n' "$_app" "$T/$_app.so" "$PORT"
		for _line in "$@"; do
			echo "$_line"
		done
	} >"$T/$_app.ini"
	"$VKD" -t -c "$T/$_app.ini" >"$T/$_app-check.log" 2>&1
}

cat >"$T/greet.c" <<'C'
#include <vk.h>

static void greet(struct vk_thread *that)
{
	struct {
		char line[256];
		ssize_t n;
	} *self;

	vk_begin();
	vk_readline(self->n, self->line, sizeof(self->line));
	vk_write_literal("hello, ");
	vk_write(self->line, (size_t)self->n);
	vk_finally();
	vk_clear_error();
	vk_end();
}

VK_APP("greet", greet, 64 * 1024);
C
build greet "$T/greet.c" || fail "an API-only app does not build: $(cat "$T/greet.log")"

# It loads and serves.
{
	vkd_section 1
	printf '[app greet]\nmodule = %s\nlisten = 127.0.0.1:%s\n' "$T/greet.so" "$PORT"
} >"$CONF"
"$VKD" -t -c "$CONF" >"$T/check.log" 2>&1 || fail "vkd -t refuses greet.so: $(cat "$T/check.log")"
serve "$CONF" 1
reply=$(ask_line "$PORT" you 2>&1) || fail "greet: $reply"
[ "$reply" = "hello, you" ] || fail "greet answered '$reply'"
stop_vkd

# The example sources vk(3) points an installed user at are installed, and
# each builds against the installed tree and loads (jsonapi.c when jansson
# is there to build it with). relay.c needs opt.upstream; the others
# leave it alone.
exdir=$(find "$dest" -type d -path '*/doc/*/examples' | head -n 1)
[ -n "$exdir" ] || fail "no examples directory installed"
for ex in echo http chat jsonapi relay; do
	[ -f "$exdir/$ex.c" ] || fail "$ex.c is not installed in $exdir"
	extra=
	if [ "$ex" = jsonapi ]; then
		extra=$(pkg-config --cflags --libs jansson 2>/dev/null) || continue
	fi
	# shellcheck disable=SC2086 # word splitting of the flags is meant
	build "$ex" "$exdir/$ex.c" $extra ||
		fail "the installed $ex.c does not build: $(cat "$T/$ex.log")"
	check "$ex" "opt.upstream = 127.0.0.1:$PORT" ||
		fail "vkd -t refuses the installed $ex.c: $(cat "$T/$ex-check.log")"
done

# <vk_http_app.h> is the one header an HTTP app includes: a handler that
# calls the rest of vk(3) (connects out, publishes, sleeps) builds with it
# alone, every function declared.
cat >"$T/httpout.c" <<'C'
#include <vk_http_app.h>

static void relay(struct vk_thread *that)
{
	struct {
		struct vk_socket *up;
		ssize_t rc;
	} *self;

	vk_begin();
	vk_set_connect_timeout(1000);
	vk_try_connect(self->rc, self->up, "127.0.0.1:1");
	vk_publish("topic", "x\n", 2);
	vk_sleep(0);
	vk_http_reply(self->rc < 0 ? 502 : 200, "text/plain", "", 0);
	vk_finally();
	vk_socket_destroy(that, self->up);
	vk_end();
}

static const struct vk_http_route routes[] = {
	VK_HTTP_GET("/", relay),
};

VK_HTTP_APP("httpout", routes, 128 * 1024);
C
build httpout "$T/httpout.c" || fail "an HTTP app using vk(3) with <vk_http_app.h> alone: $(cat "$T/httpout.log")"
check httpout ||
	fail "vkd -t refuses httpout.so: $(cat "$T/httpout-check.log")"

# An internal header is not installed.
printf '#include <vk.h>\n#include <vk_proc.h>\n' >"$T/inside.c"
build inside "$T/inside.c" && fail "an app including vk_proc.h built against the installed tree"
grep -q "vk_proc.h" "$T/inside.log" || fail "no word of vk_proc.h: $(cat "$T/inside.log")"

# Nor can an in-tree app reach one (no VK_INTERNAL).
printf '#include "vk.h"\n#include "vk_kern.h"\n' >"$T/intree.c"
"$CC" -std=gnu11 -fsyntax-only -I"$top_srcdir/src/vk" "$T/intree.c" >"$T/intree.log" 2>&1 &&
	fail "an in-tree app included vk_kern.h without VK_INTERNAL"
grep -q "internal to libvk" "$T/intree.log" || fail "no word of the boundary: $(cat "$T/intree.log")"

# Every function an installed header declares resolves in vkd: a module
# that takes the address of each one loads (dlopen RTLD_NOW binds them all).
funcs=$(cat "$incdir"/*.h | grep -v '^#\|^static\|^typedef\|^[[:space:]]' |
	sed -n 's/^[a-z].*[^a-z0-9_]\(vk_[a-z0-9_]*\)(.*/\1/p' | sort -u)
[ "$(echo "$funcs" | grep -c .)" -gt 40 ] || fail "found only these API functions: $funcs"
{
	echo '#include <vk.h>'
	echo '#include <vk_http_app.h>'
	echo 'static void all_main(struct vk_thread *that)'
	echo '{'
	echo '	struct { int unused; } *self;'
	echo '	vk_begin();'
	echo '	vk_end();'
	echo '}'
	echo 'typedef void (*any_fn)(void);'
	echo '__attribute__((used)) static const any_fn every_api_function[] = {'
	for f in $funcs; do
		echo "	(any_fn)$f,"
	done
	echo '};'
	echo 'VK_APP("every", all_main, 64 * 1024);'
} >"$T/every.c"
build every "$T/every.c" || fail "the module using every API function: $(cat "$T/every.log")"
check every ||
	fail "vkd does not export all of its API: $(cat "$T/every-check.log")"

# The kernel's own functions are not exported: a module that declares one by
# hand (here, the one that turns fault containment off) does not load.
cat >"$T/sneak.c" <<'C'
#include <vk.h>
void vk_fault_disarm(void);
static void sneak(struct vk_thread *that)
{
	struct { int unused; } *self;
	vk_begin();
	vk_fault_disarm();
	vk_end();
}
VK_APP("sneak", sneak, 64 * 1024);
C
build sneak "$T/sneak.c" || fail "sneak.c: $(cat "$T/sneak.log")"
check sneak &&
	fail "a module calling vk_fault_disarm() loaded"
grep -q "vk_fault_disarm" "$T/sneak-check.log" || fail "refused, but not by name: $(cat "$T/sneak-check.log")"

# The kernel is not reachable from the frame.
cat >"$T/reach.c" <<'C'
#include <vk.h>
void *reach(struct vk_thread *that);
void *reach(struct vk_thread *that)
{
	return that->proc;
}
C
build reach "$T/reach.c" && fail "that->proc compiled in an app"

exit 0
