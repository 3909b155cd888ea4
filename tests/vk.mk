# libvk unit tests (Check). Each program links libvk whole; the echo test
# forks a server child and drives 1,000 clients from plain C.
VK_CHECK_PROGS = \
	tests/check_vk \
	tests/check_vk_vectoring \
	tests/check_vk_pipe \
	tests/check_vk_fault \
	tests/check_vk_echo \
	tests/check_vk_parse
check_PROGRAMS += $(VK_CHECK_PROGS)
TESTS += $(VK_CHECK_PROGS)

VK_CHECK_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
VK_CHECK_LDADD = src/vk/libvk.la $(EV_LIBS) $(CHECK_LIBS)

tests_check_vk_SOURCES = tests/check_vk.c tests/vk_check.h tests/check_run.h
tests_check_vk_CFLAGS = $(VK_CHECK_CFLAGS)
tests_check_vk_LDADD = $(VK_CHECK_LDADD)

tests_check_vk_vectoring_SOURCES = tests/check_vk_vectoring.c tests/vk_check.h
tests_check_vk_vectoring_CFLAGS = $(VK_CHECK_CFLAGS)
tests_check_vk_vectoring_LDADD = $(VK_CHECK_LDADD)

tests_check_vk_pipe_SOURCES = tests/check_vk_pipe.c tests/vk_check.h
tests_check_vk_pipe_CFLAGS = $(VK_CHECK_CFLAGS)
tests_check_vk_pipe_LDADD = $(VK_CHECK_LDADD)

tests_check_vk_fault_SOURCES = tests/check_vk_fault.c tests/vk_check.h
tests_check_vk_fault_CFLAGS = $(VK_CHECK_CFLAGS)
tests_check_vk_fault_LDADD = $(VK_CHECK_LDADD)

tests_check_vk_echo_SOURCES = tests/check_vk_echo.c tests/vk_check.h
tests_check_vk_echo_CFLAGS = $(VK_CHECK_CFLAGS)
tests_check_vk_echo_LDADD = $(VK_CHECK_LDADD)

tests_check_vk_parse_SOURCES = tests/check_vk_parse.c tests/check_run.h
tests_check_vk_parse_CFLAGS = $(VK_CHECK_CFLAGS)
tests_check_vk_parse_LDADD = $(VK_CHECK_LDADD)
