# Integration tests: the real vkd, vkctl and apps on free loopback ports, from shell scripts.
#
# Every script sources lib.sh, which starts and stops vkd, picks ports and
# cleans up by pid; their python checks import http_util.py (resp_util.py
# for kv, chat_util.py for chat). vkclient is the C client they drive; the
# test-only modules are testmod.c built several ways, and shardmod.c.
EXTRA_DIST += tests/integration/lib.sh tests/integration/http_util.py \
	tests/integration/resp_util.py tests/integration/chat_util.py
check_PROGRAMS += tests/integration/vkclient
tests_integration_vkclient_SOURCES = tests/integration/vkclient.c
# proxyclient: byte streams through a proxy, checked byte for byte.
check_PROGRAMS += tests/integration/proxyclient
tests_integration_proxyclient_SOURCES = tests/integration/proxyclient.c
tests_integration_proxyclient_LDADD = -lm
EXTRA_DIST += tests/integration/proxy_lib.sh tests/integration/proxy_upstream.py \
	tests/integration/proxy_http_upstream.py tests/integration/upstream_util.py

# Test-only modules; -rpath makes libtool build a shared object for them.
TESTMOD_LDFLAGS = -module -avoid-version -shared -rpath $(abs_builddir)/tests/integration
TESTMOD_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
check_LTLIBRARIES += tests/integration/crashmod.la tests/integration/badmagic.la \
	tests/integration/badabi.la tests/integration/nodesc.la \
	tests/integration/newminor.la tests/integration/badlayout.la \
	tests/integration/badpaths.la \
	tests/integration/oldcontext.la tests/integration/shortcontext.la \
	tests/integration/minor13.la \
	tests/integration/badshape.la \
	tests/integration/trapmod.la tests/integration/ver1.la tests/integration/ver2.la \
	tests/integration/tickmod.la tests/integration/httpmod.la \
	tests/integration/httpver1.la tests/integration/httpver2.la \
	tests/integration/shardmod.la
tests_integration_crashmod_la_SOURCES = tests/integration/testmod.c
tests_integration_crashmod_la_CPPFLAGS = $(APP_CPPFLAGS) -DTESTMOD_CRASH
tests_integration_crashmod_la_CFLAGS = $(TESTMOD_CFLAGS)
tests_integration_crashmod_la_LDFLAGS = $(TESTMOD_LDFLAGS)
tests_integration_badmagic_la_SOURCES = tests/integration/testmod.c
tests_integration_badmagic_la_CPPFLAGS = $(APP_CPPFLAGS) -DTESTMOD_BADMAGIC
tests_integration_badmagic_la_CFLAGS = $(TESTMOD_CFLAGS)
tests_integration_badmagic_la_LDFLAGS = $(TESTMOD_LDFLAGS)
tests_integration_badabi_la_SOURCES = tests/integration/testmod.c
tests_integration_badabi_la_CPPFLAGS = $(APP_CPPFLAGS) -DTESTMOD_BADABI
tests_integration_badabi_la_CFLAGS = $(TESTMOD_CFLAGS)
tests_integration_badabi_la_LDFLAGS = $(TESTMOD_LDFLAGS)
tests_integration_newminor_la_SOURCES = tests/integration/testmod.c
tests_integration_newminor_la_CPPFLAGS = $(APP_CPPFLAGS) -DTESTMOD_NEWMINOR
tests_integration_newminor_la_CFLAGS = $(TESTMOD_CFLAGS)
tests_integration_newminor_la_LDFLAGS = $(TESTMOD_LDFLAGS)
tests_integration_badpaths_la_SOURCES = tests/integration/testmod.c
tests_integration_badpaths_la_CPPFLAGS = $(APP_CPPFLAGS) -DTESTMOD_BADPATHS
tests_integration_badpaths_la_CFLAGS = $(TESTMOD_CFLAGS)
tests_integration_badpaths_la_LDFLAGS = $(TESTMOD_LDFLAGS)
tests_integration_oldcontext_la_SOURCES = tests/integration/testmod.c
tests_integration_oldcontext_la_CPPFLAGS = $(APP_CPPFLAGS) -DTESTMOD_OLDCONTEXT
tests_integration_oldcontext_la_CFLAGS = $(TESTMOD_CFLAGS)
tests_integration_oldcontext_la_LDFLAGS = $(TESTMOD_LDFLAGS)
tests_integration_minor13_la_SOURCES = tests/integration/testmod.c
tests_integration_minor13_la_CPPFLAGS = $(APP_CPPFLAGS) -DTESTMOD_MINOR13
tests_integration_minor13_la_CFLAGS = $(TESTMOD_CFLAGS)
tests_integration_minor13_la_LDFLAGS = $(TESTMOD_LDFLAGS)
tests_integration_shortcontext_la_SOURCES = tests/integration/testmod.c
tests_integration_shortcontext_la_CPPFLAGS = $(APP_CPPFLAGS) -DTESTMOD_SHORTCONTEXT
tests_integration_shortcontext_la_CFLAGS = $(TESTMOD_CFLAGS)
tests_integration_shortcontext_la_LDFLAGS = $(TESTMOD_LDFLAGS)
tests_integration_badlayout_la_SOURCES = tests/integration/testmod.c
tests_integration_badlayout_la_CPPFLAGS = $(APP_CPPFLAGS) -DTESTMOD_BADLAYOUT
tests_integration_badlayout_la_CFLAGS = $(TESTMOD_CFLAGS)
tests_integration_badlayout_la_LDFLAGS = $(TESTMOD_LDFLAGS)
tests_integration_trapmod_la_SOURCES = tests/integration/testmod.c
tests_integration_trapmod_la_CPPFLAGS = $(APP_CPPFLAGS) -DTESTMOD_TRAP
tests_integration_trapmod_la_CFLAGS = $(TESTMOD_CFLAGS)
tests_integration_trapmod_la_LDFLAGS = $(TESTMOD_LDFLAGS)
tests_integration_ver1_la_SOURCES = tests/integration/testmod.c
tests_integration_ver1_la_CPPFLAGS = $(APP_CPPFLAGS) -DTESTMOD_VERSION=1
tests_integration_ver1_la_CFLAGS = $(TESTMOD_CFLAGS)
tests_integration_ver1_la_LDFLAGS = $(TESTMOD_LDFLAGS)
tests_integration_ver2_la_SOURCES = tests/integration/testmod.c
tests_integration_ver2_la_CPPFLAGS = $(APP_CPPFLAGS) -DTESTMOD_VERSION=2
tests_integration_ver2_la_CFLAGS = $(TESTMOD_CFLAGS)
tests_integration_ver2_la_LDFLAGS = $(TESTMOD_LDFLAGS)
tests_integration_badshape_la_SOURCES = tests/integration/testmod.c
tests_integration_badshape_la_CPPFLAGS = $(APP_CPPFLAGS) -DTESTMOD_BADSHAPE
tests_integration_badshape_la_CFLAGS = $(TESTMOD_CFLAGS)
tests_integration_badshape_la_LDFLAGS = $(TESTMOD_LDFLAGS)
tests_integration_httpmod_la_SOURCES = tests/integration/httpmod.c
tests_integration_httpmod_la_CPPFLAGS = $(APP_CPPFLAGS)
tests_integration_httpmod_la_CFLAGS = $(TESTMOD_CFLAGS)
tests_integration_httpmod_la_LDFLAGS = $(TESTMOD_LDFLAGS)
tests_integration_httpver1_la_SOURCES = tests/integration/httpmod.c
tests_integration_httpver1_la_CPPFLAGS = $(APP_CPPFLAGS) -DHTTPMOD_VERSION=1
tests_integration_httpver1_la_CFLAGS = $(TESTMOD_CFLAGS)
tests_integration_httpver1_la_LDFLAGS = $(TESTMOD_LDFLAGS)
tests_integration_httpver2_la_SOURCES = tests/integration/httpmod.c
tests_integration_httpver2_la_CPPFLAGS = $(APP_CPPFLAGS) -DHTTPMOD_VERSION=2
tests_integration_httpver2_la_CFLAGS = $(TESTMOD_CFLAGS)
tests_integration_httpver2_la_LDFLAGS = $(TESTMOD_LDFLAGS)
tests_integration_tickmod_la_SOURCES = tests/integration/testmod.c
tests_integration_tickmod_la_CPPFLAGS = $(APP_CPPFLAGS) -DTESTMOD_TICK
tests_integration_tickmod_la_CFLAGS = $(TESTMOD_CFLAGS)
tests_integration_tickmod_la_LDFLAGS = $(TESTMOD_LDFLAGS)
# shardmod: channels to a sharded service in another worker (channel-remote.sh).
tests_integration_shardmod_la_SOURCES = tests/integration/shardmod.c
tests_integration_shardmod_la_CPPFLAGS = $(APP_CPPFLAGS)
tests_integration_shardmod_la_CFLAGS = $(TESTMOD_CFLAGS)
tests_integration_shardmod_la_LDFLAGS = $(TESTMOD_LDFLAGS)
tests_integration_nodesc_la_SOURCES = tests/integration/testmod.c
tests_integration_nodesc_la_CPPFLAGS = $(APP_CPPFLAGS) -DTESTMOD_NODESC
tests_integration_nodesc_la_CFLAGS = $(TESTMOD_CFLAGS)
tests_integration_nodesc_la_LDFLAGS = $(TESTMOD_LDFLAGS)

# The daemon: workers, respawn, drain, sd_notify, limits.
VKD_TESTS = \
	tests/integration/vkd_check.sh \
	tests/integration/vkd_check_hang.sh \
	tests/integration/vkd_echo.sh \
	tests/integration/vkd_respawn.sh \
	tests/integration/vkd_backoff.sh \
	tests/integration/vkd_reload_crashloop.sh \
	tests/integration/vkd_drain.sh \
	tests/integration/vkd_drain_fresh.sh \
	tests/integration/vkd_notify.sh \
	tests/integration/vkd_leaks.sh \
	tests/integration/vkd_emfile.sh \
	tests/integration/vkd_max_connections.sh \
	tests/integration/vkd_pinned.sh \
	tests/integration/vkd_module_overwrite.sh \
	tests/integration/vkd_module_overwrite_wrk.sh \
	tests/integration/vkd_loglevels.sh \
	tests/integration/vkd_app_api.sh \
	tests/integration/vkd_abort.sh \
	tests/integration/vkd_faultlog.sh \
	tests/integration/vkd_watchdog.sh \
	tests/integration/vkd_app_errors.sh \
	tests/integration/vkd_idle.sh \
	tests/integration/vkd_nodelay.sh \
	tests/integration/vkd_defer_accept.sh

# The http app (src/apps/http.so), driven with curl and raw python sockets.
HTTP_IT_TESTS = \
	tests/integration/http-keepalive.sh \
	tests/integration/http-close-fin.sh \
	tests/integration/http-pipeline.sh \
	tests/integration/http-upload.sh \
	tests/integration/http-chunked.sh \
	tests/integration/http-errors.sh \
	tests/integration/http-options.sh \
	tests/integration/http-badopt.sh \
	tests/integration/http-timeout.sh \
	tests/integration/http-drain.sh \
	tests/integration/http-concurrent.sh \
	tests/integration/http-reload.sh \
	tests/integration/http-handlers.sh \
	tests/integration/http-routes.sh \
	tests/integration/example-jsonapi.sh \
	tests/integration/example-relay.sh \
	tests/integration/http-ring.sh \
	tests/integration/http-static.sh \
	tests/integration/http-access-log.sh \
	tests/integration/http-haproxy.sh \
	tests/integration/http-large-head.sh \
	tests/integration/http-hotpage.sh \
	tests/integration/http-static-hotpage.sh \
	tests/integration/http-static-root.sh

# vkctl and the control socket.
VKCTL_TESTS = \
	tests/integration/vkctl_status.sh \
	tests/integration/vkctl_kill.sh \
	tests/integration/vkctl_reload.sh \
	tests/integration/vkctl_stop.sh \
	tests/integration/vkctl_perm.sh \
	tests/integration/vkctl_garbage.sh \
	tests/integration/vkctl_silent.sh \
	tests/integration/vkctl_totals.sh \
	tests/integration/vkctl_apps.sh \
	tests/integration/vkctl_ps.sh \
	tests/integration/vkctl_ps_services.sh \
	tests/integration/vkctl_reload_accepting.sh

# The proxy app (src/apps/proxy.so), against python upstreams and the echo app.
PROXY_IT_TESTS = \
	tests/integration/proxy-tcp-echo.sh \
	tests/integration/proxy-tcp-upstreams.sh \
	tests/integration/proxy-tcp-dns.sh \
	tests/integration/port-taken.sh \
	tests/integration/proxy-tcp-reload.sh \
	tests/integration/proxy-tcp-splice.sh \
	tests/integration/proxy-http.sh \
	tests/integration/proxy-http-hotpage.sh \
	tests/integration/proxy-http-faults.sh \
	tests/integration/proxy-http-reload.sh \
	tests/integration/proxy-http-concurrent.sh

# Messaging: the chat and kv apps (services, channels, publish/subscribe, links).
MSG_IT_TESTS = \
	tests/integration/chat.sh \
	tests/integration/chat-lines.sh \
	tests/integration/chat-slow.sh \
	tests/integration/chat-order.sh \
	tests/integration/chat-relay.sh \
	tests/integration/channel-remote.sh \
	tests/integration/kv.sh \
	tests/integration/kv-numbers.sh \
	tests/integration/kv-redis-replies.sh \
	tests/integration/kv-redis-compare.sh \
	tests/integration/kv-batch.sh \
	tests/integration/kv-fault.sh \
	tests/integration/kv-reload.sh \
	tests/integration/kv-handoff.sh \
	tests/integration/kv-handoff-full.sh \
	tests/integration/kv-handoff-workers.sh \
	tests/integration/kv-client-gone.sh \
	tests/integration/bundled-config.sh

TESTS += $(VKD_TESTS) $(HTTP_IT_TESTS) $(VKCTL_TESTS) $(PROXY_IT_TESTS) $(MSG_IT_TESTS)
EXTRA_DIST += $(VKD_TESTS) $(HTTP_IT_TESTS) $(VKCTL_TESTS) $(PROXY_IT_TESTS) $(MSG_IT_TESTS)
