# Fuzz targets (libFuzzer): the HTTP request parser and the vkd.ini loader.
#
# Built and run only with ./configure CC=clang --enable-fuzzing: then
# run_fuzz.sh is the one test, each target over its seed corpus
# (tests/fuzz/corpus/TARGET) and dictionary. A failing input is kept in the
# build tree's tests/fuzz/.
HTTP_FUZZ_CORPUS = \
	tests/fuzz/corpus/http/get.txt \
	tests/fuzz/corpus/http/get-full.txt \
	tests/fuzz/corpus/http/http10-keepalive.txt \
	tests/fuzz/corpus/http/post-length.txt \
	tests/fuzz/corpus/http/post-chunked.txt \
	tests/fuzz/corpus/http/pipelined.txt \
	tests/fuzz/corpus/http/leading-crlf.txt \
	tests/fuzz/corpus/http/options-star.txt \
	tests/fuzz/corpus/http/connect.txt \
	tests/fuzz/corpus/http/expect-continue.txt \
	tests/fuzz/corpus/http/smuggle-cl-te.txt \
	tests/fuzz/corpus/http/smuggle-cl-cl.txt \
	tests/fuzz/corpus/http/smuggle-te-list.txt \
	tests/fuzz/corpus/http/smuggle-obs-fold.txt \
	tests/fuzz/corpus/http/smuggle-bare-lf.txt \
	tests/fuzz/corpus/http/smuggle-space-colon.txt \
	tests/fuzz/corpus/http/smuggle-chunk-lf.txt

CONFIG_FUZZ_CORPUS = \
	tests/fuzz/corpus/config/bundled.ini \
	tests/fuzz/corpus/config/two.ini \
	tests/fuzz/corpus/config/options.ini \
	tests/fuzz/corpus/config/routes.ini \
	tests/fuzz/corpus/config/bad.ini
EXTRA_DIST += tests/fuzz/run_fuzz.sh tests/fuzz/http.dict $(HTTP_FUZZ_CORPUS) \
	tests/fuzz/config.dict $(CONFIG_FUZZ_CORPUS)
CLEANFILES += tests/fuzz/crash-* tests/fuzz/leak-* tests/fuzz/timeout-* tests/fuzz/oom-*

if FUZZING
FUZZ_FLAGS = -g -fsanitize=fuzzer,address,undefined
noinst_PROGRAMS += tests/fuzz/fuzz_http tests/fuzz/fuzz_config
tests_fuzz_fuzz_http_SOURCES = tests/fuzz/fuzz_http.c src/vk/vk_http.c
tests_fuzz_fuzz_http_CFLAGS = $(AM_CFLAGS) $(FUZZ_FLAGS)
tests_fuzz_fuzz_http_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_FLAGS)
tests_fuzz_fuzz_config_SOURCES = tests/fuzz/fuzz_config.c src/vkd/vkd_config.c \
	src/vkd/vkd_listen.c src/vkd/vkd_path.c src/vkd/vkd_spell.c src/vkd/vkd_user.c \
	src/vkd/vkd_log.c src/vkd/vkd_io.c src/vk/vk_parse.c src/vk/vk_addr.c \
	src/http/vk_http_mount.c src/http/vk_http_route.c
tests_fuzz_fuzz_config_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src/vkd
tests_fuzz_fuzz_config_CFLAGS = $(AM_CFLAGS) $(INIH_CFLAGS) $(FUZZ_FLAGS)
tests_fuzz_fuzz_config_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_FLAGS)
tests_fuzz_fuzz_config_LDADD = $(INIH_LIBS) $(DL_LIBS)
TESTS += tests/fuzz/run_fuzz.sh
endif
