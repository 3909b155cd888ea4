# Benchmarks: built by `make` (noinst), never run by `make check`.
#
# libvk (and a channel round trip: --only channel): tests/bench/run-micro.sh [--quick] from the build tree, or
# ./tests/bench/micro [--quick] [--runs N] [--procs N].
# Static files against nginx (static.so, sendfile): tests/bench/static --help.
# HTTP against nginx: tests/bench/http --help (it runs http-idle.py, and
# wrk with http-stats.lua, http-pipeline.lua and http-echo.lua).
# kv against redis-server (redis-benchmark, -P 1 and 16, 1 and 2 workers):
# tests/bench/kv --help.
# Instructions per HTTP request (callgrind, immune to load):
# tests/bench/http-instructions --help (it builds http-ir.c).
# vkctl ps's pause of a worker: tests/bench/ps --help.
# Chat fan-out against redis-server PUBLISH/SUBSCRIBE: tests/bench/chat --help
# (it runs chat-load, built here).
# All of them in turn, outputs kept: tests/bench/all --help.
noinst_PROGRAMS += tests/bench/micro tests/bench/chat-load
tests_bench_chat_load_SOURCES = tests/bench/chat-load.c
tests_bench_chat_load_CFLAGS = $(AM_CFLAGS) -O2
tests_bench_micro_SOURCES = tests/bench/micro.c
tests_bench_micro_CFLAGS = $(AM_CFLAGS) -O2
tests_bench_micro_LDADD = src/vk/libvk.la $(EV_LIBS) $(CARES_LIBS)
EXTRA_DIST += tests/bench/run-micro.sh tests/bench/http tests/bench/ps tests/bench/http-pipeline.lua \
	tests/bench/http-stats.lua tests/bench/http-echo.lua \
	tests/bench/http-idle.py tests/bench/http-nginx.conf tests/bench/http-vkd.conf \
	tests/bench/http-instructions tests/bench/http-ir.c tests/bench/proxy tests/bench/static \
	tests/bench/kv tests/bench/chat tests/bench/all
