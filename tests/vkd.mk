# vkd integration tests are added below by the daemon work

# Integration tests: the real vkd on free loopback ports (tests/integration).
EXTRA_DIST += tests/integration/lib.sh
check_PROGRAMS += tests/integration/vkclient
tests_integration_vkclient_SOURCES = tests/integration/vkclient.c

# Test-only modules; -rpath makes libtool build a shared object for them.
TESTMOD_LDFLAGS = -module -avoid-version -shared -rpath $(abs_builddir)/tests/integration
TESTMOD_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
check_LTLIBRARIES += tests/integration/crashmod.la tests/integration/badmagic.la \
	tests/integration/badabi.la tests/integration/nodesc.la
tests_integration_crashmod_la_SOURCES = tests/integration/testmod.c
tests_integration_crashmod_la_CPPFLAGS = $(AM_CPPFLAGS) -DTESTMOD_CRASH
tests_integration_crashmod_la_CFLAGS = $(TESTMOD_CFLAGS)
tests_integration_crashmod_la_LDFLAGS = $(TESTMOD_LDFLAGS)
tests_integration_badmagic_la_SOURCES = tests/integration/testmod.c
tests_integration_badmagic_la_CPPFLAGS = $(AM_CPPFLAGS) -DTESTMOD_BADMAGIC
tests_integration_badmagic_la_CFLAGS = $(TESTMOD_CFLAGS)
tests_integration_badmagic_la_LDFLAGS = $(TESTMOD_LDFLAGS)
tests_integration_badabi_la_SOURCES = tests/integration/testmod.c
tests_integration_badabi_la_CPPFLAGS = $(AM_CPPFLAGS) -DTESTMOD_BADABI
tests_integration_badabi_la_CFLAGS = $(TESTMOD_CFLAGS)
tests_integration_badabi_la_LDFLAGS = $(TESTMOD_LDFLAGS)
tests_integration_nodesc_la_SOURCES = tests/integration/testmod.c
tests_integration_nodesc_la_CPPFLAGS = $(AM_CPPFLAGS) -DTESTMOD_NODESC
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
	tests/integration/vkd_pinned.sh
TESTS += $(VKD_TESTS)
EXTRA_DIST += $(VKD_TESTS)
