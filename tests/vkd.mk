# vkd unit tests (Check).
check_PROGRAMS += tests/check_config
TESTS += tests/check_config
tests_check_config_SOURCES = tests/check_config.c src/vkd/vkd_config.c src/vkd/vkd_config.h \
	src/vkd/vkd_listen.c src/vkd/vkd_listen.h src/vkd/vkd_path.c src/vkd/vkd_path.h \
	src/vkd/vkd_spell.c src/vkd/vkd_spell.h \
	src/vkd/vkd_user.c src/vkd/vkd_user.h src/vkd/vkd_log.c src/vkd/vkd_log.h \
	src/vkd/vkd_io.c src/vkd/vkd_io.h src/vk/vk_parse.c src/vk/vk_parse.h
tests_check_config_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src/vkd \
	-DVKD_TOP_SRCDIR='"$(abs_top_srcdir)"'
tests_check_config_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(INIH_CFLAGS)
tests_check_config_LDADD = $(CHECK_LIBS) $(INIH_LIBS)

# vkd integration tests are added below by the daemon work

# Integration tests: the real vkd on free loopback ports (tests/integration).
EXTRA_DIST += tests/integration/lib.sh
check_PROGRAMS += tests/integration/vkclient
tests_integration_vkclient_SOURCES = tests/integration/vkclient.c

# Test-only modules; -rpath makes libtool build a shared object for them.
TESTMOD_LDFLAGS = -module -avoid-version -shared -rpath $(abs_builddir)/tests/integration
TESTMOD_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
check_LTLIBRARIES += tests/integration/crashmod.la tests/integration/badmagic.la \
	tests/integration/badabi.la tests/integration/nodesc.la \
	tests/integration/newminor.la tests/integration/badlayout.la
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
tests_integration_badlayout_la_SOURCES = tests/integration/testmod.c
tests_integration_badlayout_la_CPPFLAGS = $(APP_CPPFLAGS) -DTESTMOD_BADLAYOUT
tests_integration_badlayout_la_CFLAGS = $(TESTMOD_CFLAGS)
tests_integration_badlayout_la_LDFLAGS = $(TESTMOD_LDFLAGS)
tests_integration_nodesc_la_SOURCES = tests/integration/testmod.c
tests_integration_nodesc_la_CPPFLAGS = $(APP_CPPFLAGS) -DTESTMOD_NODESC
tests_integration_nodesc_la_CFLAGS = $(TESTMOD_CFLAGS)
tests_integration_nodesc_la_LDFLAGS = $(TESTMOD_LDFLAGS)

VKD_TESTS = \
	tests/integration/vkd_check.sh \
	tests/integration/vkd_echo.sh \
	tests/integration/vkd_respawn.sh \
	tests/integration/vkd_backoff.sh \
	tests/integration/vkd_drain.sh \
	tests/integration/vkd_notify.sh \
	tests/integration/vkd_leaks.sh \
	tests/integration/vkd_emfile.sh \
	tests/integration/vkd_max_connections.sh \
	tests/integration/vkd_pinned.sh \
	tests/integration/vkd_app_api.sh
TESTS += $(VKD_TESTS)
EXTRA_DIST += $(VKD_TESTS)
