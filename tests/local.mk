# Tests: one folder per kind, each with its local.mk; `make check` runs all but the benchmarks.
TEST_EXTENSIONS = .sh
SH_LOG_COMPILER = $(SHELL)
AM_TESTS_ENVIRONMENT = \
	top_srcdir='$(abs_top_srcdir)'; top_builddir='$(abs_top_builddir)'; CC='$(CC)'; \
	export top_srcdir top_builddir CC;

include tests/unit/local.mk
include tests/integration/local.mk
include tests/fuzz/local.mk
include tests/bench/local.mk

# Packaging checks: manual pages and the systemd unit.
TESTS += tests/man-lint.sh tests/systemd-verify.sh tests/bench-http-figures.sh
EXTRA_DIST += tests/man-lint.sh tests/systemd-verify.sh tests/bench-http-figures.sh
