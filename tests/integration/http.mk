# HTTP app integration tests: the real vkd running src/apps/http.so on a
# free loopback port, driven with curl and raw python sockets. Each script
# sources http-lib.sh and imports http_util.py (both in this folder).
HTTP_IT_TESTS = \
	tests/integration/http-keepalive.sh \
	tests/integration/http-pipeline.sh \
	tests/integration/http-upload.sh \
	tests/integration/http-chunked.sh \
	tests/integration/http-errors.sh \
	tests/integration/http-options.sh \
	tests/integration/http-badopt.sh \
	tests/integration/http-timeout.sh \
	tests/integration/http-drain.sh \
	tests/integration/http-concurrent.sh \
	tests/integration/http-reload.sh
TESTS += $(HTTP_IT_TESTS)
EXTRA_DIST += $(HTTP_IT_TESTS) \
	tests/integration/http-lib.sh \
	tests/integration/http_util.py
# The benchmark (never run by make check): tests/bench/http --help
EXTRA_DIST += tests/bench/http tests/bench/http-pipeline.lua \
	tests/bench/http-idle.py tests/bench/http-nginx.conf tests/bench/http-vkd.conf
