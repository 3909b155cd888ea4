/*
 * kv_resp: the Redis protocol; see kv_resp.h.
 */
#include "kv_resp.h"

#include <string.h>

/* Longest count or length line we accept ("$" and 20 digits). */
#define KV_RESP_NUMBER_MAX 24

static const char *const err_protocol = "-ERR Protocol error: invalid multibulk length\r\n";
static const char *const err_bulk = "-ERR Protocol error: invalid bulk length\r\n";
static const char *const err_args = "-ERR Protocol error: too many arguments\r\n";
static const char *const err_inline = "-ERR Protocol error: too big inline request\r\n";

/*
 * A line "<type>N\r\n" at buf: N in *n. Returns its length, 0 if not all
 * there, -1 if malformed. N is a 64-bit integer in canonical form, as
 * Redis reads it: no digits, a leading zero, "-0" or a number past int64
 * is malformed (past int64 it once wrapped: "*18446744073709551617" read
 * as 1, and overflowed a signed integer doing it).
 */
static ssize_t number_line(const char *buf, size_t len, char type, int64_t *n)
{
	size_t i = 1;
	struct kv_arg digits;

	/* Cut right before the line: not all there yet, not malformed. */
	if (len < 1)
		return 0;
	if (buf[0] != type)
		return -1;
	if (i < len && buf[i] == '-')
		i++;
	for (; i < len && buf[i] >= '0' && buf[i] <= '9'; i++)
		if (i > KV_RESP_NUMBER_MAX)
			return -1;
	if (i + 1 >= len)
		return len > KV_RESP_NUMBER_MAX ? -1 : 0;
	if (buf[i] != '\r' || buf[i + 1] != '\n')
		return -1;
	digits.p = buf + 1;
	digits.len = i - 1;
	if (kv_resp_int(&digits, n) < 0)
		return -1;
	return (ssize_t)(i + 2);
}

static ssize_t parse_array(const char *buf, size_t len, struct kv_arg *argv, size_t max,
			   size_t *argc, const char **error)
{
	int64_t count, size;
	ssize_t at = number_line(buf, len, '*', &count);

	if (at <= 0) {
		*error = err_protocol;
		return at;
	}
	if (count > (int64_t)max) {
		*error = err_args;
		return -1;
	}
	*argc = 0;
	for (int64_t i = 0; i < count; i++) {
		ssize_t head = number_line(buf + at, len - (size_t)at, '$', &size);

		if (head <= 0) {
			*error = err_bulk;
			return head;
		}
		if (size < 0 || size > ((int64_t)1 << 30)) {
			*error = err_bulk;
			return -1;
		}
		at += head;
		if ((size_t)at + (size_t)size + 2 > len)
			return 0;
		if (buf[at + size] != '\r' || buf[at + size + 1] != '\n') {
			*error = err_bulk;
			return -1;
		}
		argv[*argc].p = buf + at;
		argv[*argc].len = (size_t)size;
		(*argc)++;
		at += size + 2;
	}
	return at;
}

static ssize_t parse_inline(const char *buf, size_t len, struct kv_arg *argv, size_t max,
			    size_t *argc, const char **error)
{
	const char *nl = memchr(buf, '\n', len);
	size_t end, i = 0;

	if (!nl) {
		if (len > 64 * 1024) {
			*error = err_inline;
			return -1;
		}
		return 0;
	}
	end = (size_t)(nl - buf);
	if (end && buf[end - 1] == '\r')
		end--;
	*argc = 0;
	while (i < end) {
		size_t start;

		while (i < end && buf[i] == ' ')
			i++;
		if (i == end)
			break;
		if (*argc == max) {
			*error = err_args;
			return -1;
		}
		start = i;
		while (i < end && buf[i] != ' ')
			i++;
		argv[*argc].p = buf + start;
		argv[*argc].len = i - start;
		(*argc)++;
	}
	return nl - buf + 1;
}

ssize_t kv_resp_parse(const char *buf, size_t len, struct kv_arg *argv, size_t max, size_t *argc,
		      const char **error)
{
	if (len == 0)
		return 0;
	if (buf[0] == '*')
		return parse_array(buf, len, argv, max, argc, error);
	return parse_inline(buf, len, argv, max, argc, error);
}

int kv_resp_same(const char *p, const char *word, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = p[i];

		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if (c != word[i])
			return 0;
	}
	return 1;
}

int kv_resp_int(const struct kv_arg *a, int64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;
	int neg = 0;

	if (a->len == 0 || a->len > 20)
		return -1;
	if (a->p[0] == '-') {
		neg = 1;
		i = 1;
		if (a->len == 1)
			return -1;
	}
	for (; i < a->len; i++) {
		unsigned d = (unsigned)(a->p[i] - '0');

		if (d > 9)
			return -1;
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX)
		return -1;
	/* No "-0", no leading zeros: Redis takes the canonical form only. */
	if ((a->p[neg] == '0' && a->len > (size_t)neg + 1) || (neg && v == 0))
		return -1;
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

static size_t format_number(char *out, char type, int64_t n)
{
	char digits[24];
	size_t len = 0, at = 0;
	uint64_t v = n < 0 ? 0 - (uint64_t)n : (uint64_t)n;

	do {
		digits[len++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	out[at++] = type;
	if (n < 0)
		out[at++] = '-';
	while (len)
		out[at++] = digits[--len];
	out[at++] = '\r';
	out[at++] = '\n';
	return at;
}

size_t kv_resp_format_int(char *out, int64_t n)
{
	return format_number(out, ':', n);
}

size_t kv_resp_format_head(char *out, char type, size_t n)
{
	return format_number(out, type, (int64_t)n);
}
