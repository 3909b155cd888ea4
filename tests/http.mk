# HTTP parser: Check unit tests, and a libFuzzer target when fuzzing.
# The unit test links vk_http.c alone: the parser depends on nothing else.
check_PROGRAMS += tests/check_http
TESTS += tests/check_http
tests_check_http_SOURCES = tests/check_http.c src/vk/vk_http.c
tests_check_http_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_check_http_LDADD = $(CHECK_LIBS)

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

CLEANFILES += tests/fuzz/crash-* tests/fuzz/leak-* tests/fuzz/timeout-* tests/fuzz/oom-*
EXTRA_DIST += tests/fuzz/run_fuzz.sh tests/fuzz/http.dict $(HTTP_FUZZ_CORPUS)

if FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_http
tests_fuzz_fuzz_http_SOURCES = tests/fuzz/fuzz_http.c src/vk/vk_http.c
tests_fuzz_fuzz_http_CFLAGS = $(AM_CFLAGS) -g -fsanitize=fuzzer,address,undefined
tests_fuzz_fuzz_http_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer,address,undefined
TESTS += tests/fuzz/run_fuzz.sh
endif
