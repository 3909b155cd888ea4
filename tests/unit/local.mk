# Unit tests: one Check program per tests/unit/check_*.c.
#
# check_run.h is every program's main(); vk_check.h adds the fixtures of the
# libvk tests (check_vk*). Those link libvk whole; check_vk_echo forks a
# server child and drives 1,000 clients from plain C; check_vk_listener
# turns its loop one iteration at a time. check_http links
# vk_http.c alone (the parser depends on nothing else), check_config the
# vkd.ini loader alone.

VK_CHECK_PROGS = \
	tests/unit/check_vk \
	tests/unit/check_vk_vectoring \
	tests/unit/check_vk_pipe \
	tests/unit/check_vk_fault \
	tests/unit/check_vk_echo \
	tests/unit/check_vk_parse \
	tests/unit/check_vk_addr \
	tests/unit/check_vk_listener \
	tests/unit/check_vk_pool \
	tests/unit/check_vk_inplace \
	tests/unit/check_vk_connect \
	tests/unit/check_vk_resolve \
	tests/unit/check_vk_forward \
	tests/unit/check_vk_channel \
	tests/unit/check_vk_chain \
	tests/unit/check_vk_sched
check_PROGRAMS += $(VK_CHECK_PROGS)
TESTS += $(VK_CHECK_PROGS)

VK_CHECK_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
VK_CHECK_LDADD = src/vk/libvk.la $(EV_LIBS) $(CARES_LIBS) $(CHECK_LIBS)
VK_CHECK_HDRS = tests/unit/vk_check.h tests/unit/check_run.h

tests_unit_check_vk_SOURCES = tests/unit/check_vk.c $(VK_CHECK_HDRS)
tests_unit_check_vk_CFLAGS = $(VK_CHECK_CFLAGS)
tests_unit_check_vk_LDADD = $(VK_CHECK_LDADD)

tests_unit_check_vk_chain_SOURCES = tests/unit/check_vk_chain.c $(VK_CHECK_HDRS)
tests_unit_check_vk_chain_CFLAGS = $(VK_CHECK_CFLAGS)
tests_unit_check_vk_chain_LDADD = $(VK_CHECK_LDADD)

tests_unit_check_vk_sched_SOURCES = tests/unit/check_vk_sched.c $(VK_CHECK_HDRS)
tests_unit_check_vk_sched_CFLAGS = $(VK_CHECK_CFLAGS)
tests_unit_check_vk_sched_LDADD = $(VK_CHECK_LDADD)

tests_unit_check_vk_vectoring_SOURCES = tests/unit/check_vk_vectoring.c $(VK_CHECK_HDRS)
tests_unit_check_vk_vectoring_CFLAGS = $(VK_CHECK_CFLAGS)
tests_unit_check_vk_vectoring_LDADD = $(VK_CHECK_LDADD)

tests_unit_check_vk_pipe_SOURCES = tests/unit/check_vk_pipe.c $(VK_CHECK_HDRS)
tests_unit_check_vk_pipe_CFLAGS = $(VK_CHECK_CFLAGS)
tests_unit_check_vk_pipe_LDADD = $(VK_CHECK_LDADD)

tests_unit_check_vk_fault_SOURCES = tests/unit/check_vk_fault.c $(VK_CHECK_HDRS)
tests_unit_check_vk_fault_CFLAGS = $(VK_CHECK_CFLAGS)
tests_unit_check_vk_fault_LDADD = $(VK_CHECK_LDADD)

tests_unit_check_vk_echo_SOURCES = tests/unit/check_vk_echo.c $(VK_CHECK_HDRS)
tests_unit_check_vk_echo_CFLAGS = $(VK_CHECK_CFLAGS)
tests_unit_check_vk_echo_LDADD = $(VK_CHECK_LDADD)

tests_unit_check_vk_inplace_SOURCES = tests/unit/check_vk_inplace.c $(VK_CHECK_HDRS)
tests_unit_check_vk_inplace_CFLAGS = $(VK_CHECK_CFLAGS)
tests_unit_check_vk_inplace_LDADD = $(VK_CHECK_LDADD)

tests_unit_check_vk_parse_SOURCES = tests/unit/check_vk_parse.c tests/unit/check_run.h
tests_unit_check_vk_parse_CFLAGS = $(VK_CHECK_CFLAGS)
tests_unit_check_vk_parse_LDADD = $(VK_CHECK_LDADD)

tests_unit_check_vk_addr_SOURCES = tests/unit/check_vk_addr.c tests/unit/check_run.h
tests_unit_check_vk_addr_CFLAGS = $(VK_CHECK_CFLAGS)
tests_unit_check_vk_addr_LDADD = $(VK_CHECK_LDADD)

tests_unit_check_vk_listener_SOURCES = tests/unit/check_vk_listener.c $(VK_CHECK_HDRS)
tests_unit_check_vk_listener_CFLAGS = $(VK_CHECK_CFLAGS)
tests_unit_check_vk_listener_LDADD = $(VK_CHECK_LDADD)

tests_unit_check_vk_pool_SOURCES = tests/unit/check_vk_pool.c $(VK_CHECK_HDRS)
tests_unit_check_vk_pool_CFLAGS = $(VK_CHECK_CFLAGS)
tests_unit_check_vk_pool_LDADD = $(VK_CHECK_LDADD)

tests_unit_check_vk_connect_SOURCES = tests/unit/check_vk_connect.c $(VK_CHECK_HDRS)
tests_unit_check_vk_connect_CFLAGS = $(VK_CHECK_CFLAGS)
tests_unit_check_vk_connect_LDADD = $(VK_CHECK_LDADD)

tests_unit_check_vk_resolve_SOURCES = tests/unit/check_vk_resolve.c $(VK_CHECK_HDRS)
tests_unit_check_vk_resolve_CFLAGS = $(VK_CHECK_CFLAGS)
tests_unit_check_vk_resolve_LDADD = $(VK_CHECK_LDADD)

tests_unit_check_vk_forward_SOURCES = tests/unit/check_vk_forward.c $(VK_CHECK_HDRS)
tests_unit_check_vk_forward_CFLAGS = $(VK_CHECK_CFLAGS)
tests_unit_check_vk_forward_LDADD = $(VK_CHECK_LDADD)

tests_unit_check_vk_channel_SOURCES = tests/unit/check_vk_channel.c $(VK_CHECK_HDRS)
tests_unit_check_vk_channel_CFLAGS = $(VK_CHECK_CFLAGS)
tests_unit_check_vk_channel_LDADD = $(VK_CHECK_LDADD)

check_PROGRAMS += tests/unit/check_http
TESTS += tests/unit/check_http
tests_unit_check_http_SOURCES = tests/unit/check_http.c tests/unit/check_run.h src/vk/vk_http.c
tests_unit_check_http_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_http_LDADD = $(CHECK_LIBS)

check_PROGRAMS += tests/unit/check_config
TESTS += tests/unit/check_config
tests_unit_check_config_SOURCES = tests/unit/check_config.c tests/unit/check_run.h \
	src/vkd/vkd_config.c src/vkd/vkd_config.h \
	src/vkd/vkd_listen.c src/vkd/vkd_listen.h src/vkd/vkd_path.c src/vkd/vkd_path.h \
	src/vkd/vkd_spell.c src/vkd/vkd_spell.h \
	src/vkd/vkd_user.c src/vkd/vkd_user.h src/vkd/vkd_log.c src/vkd/vkd_log.h \
	src/vkd/vkd_io.c src/vkd/vkd_io.h src/vk/vk_parse.c src/vk/vk_parse.h \
	src/vk/vk_addr.c src/vk/vk_addr.h \
	src/http/vk_http_mount.c src/http/vk_http_mount.h src/http/vk_http_route.c
tests_unit_check_config_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src/vkd \
	-DVKD_TOP_SRCDIR='"$(abs_top_srcdir)"'
tests_unit_check_config_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(INIH_CFLAGS)
tests_unit_check_config_LDADD = $(CHECK_LIBS) $(INIH_LIBS) $(DL_LIBS)

# The HTTP router and URL helpers, on their own (no I/O).
check_PROGRAMS += tests/unit/check_http_route
TESTS += tests/unit/check_http_route
tests_unit_check_http_route_SOURCES = tests/unit/check_http_route.c tests/unit/check_run.h \
	src/http/vk_http_route.c src/http/vk_http_url.c src/http/vk_http_mount.c
tests_unit_check_http_route_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_http_route_LDADD = $(CHECK_LIBS) $(DL_LIBS)

# The access log line (pure): the format and its escaping.
check_PROGRAMS += tests/unit/check_http_log
TESTS += tests/unit/check_http_log
tests_unit_check_http_log_SOURCES = tests/unit/check_http_log.c tests/unit/check_run.h \
	src/http/vk_http_log.c
tests_unit_check_http_log_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_http_log_LDADD = $(CHECK_LIBS)

# The static-file handler's checks: paths under the root (each way of
# opening), Range, If-None-Match, types. Links libvk whole.
check_PROGRAMS += tests/unit/check_http_static
TESTS += tests/unit/check_http_static
tests_unit_check_http_static_SOURCES = tests/unit/check_http_static.c tests/unit/check_run.h
tests_unit_check_http_static_CFLAGS = $(VK_CHECK_CFLAGS)
tests_unit_check_http_static_LDADD = $(VK_CHECK_LDADD)

# proxy.so's upstream answer parser, on its own (no I/O).
check_PROGRAMS += tests/unit/check_proxy_answer
TESTS += tests/unit/check_proxy_answer
tests_unit_check_proxy_answer_SOURCES = tests/unit/check_proxy_answer.c tests/unit/check_run.h \
	src/apps/proxy_answer.c src/apps/proxy_answer.h
tests_unit_check_proxy_answer_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src/apps
tests_unit_check_proxy_answer_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_proxy_answer_LDADD = $(CHECK_LIBS)
