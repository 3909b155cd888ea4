# Unit tests (Check) and integration tests. Each area keeps its own fragment.
TEST_EXTENSIONS = .sh
SH_LOG_COMPILER = $(SHELL)
AM_TESTS_ENVIRONMENT = \
	top_srcdir='$(abs_top_srcdir)'; top_builddir='$(abs_top_builddir)'; \
	export top_srcdir top_builddir;

include tests/unit/local.mk
include tests/http.mk
include tests/vkd.mk
include tests/bench/bench.mk
include tests/integration/http.mk
include tests/ctl.mk

# Packaging checks: manual pages and the systemd unit.
TESTS += tests/man-lint.sh tests/systemd-verify.sh
EXTRA_DIST += tests/man-lint.sh tests/systemd-verify.sh
