#include "vk_http_log.h"

#include <stdio.h>
#include <string.h>

/*
 * The time field is the same for every request of a second: formatted
 * once a second (localtime_r and strftime cost about a microsecond).
 */
static time_t stamp_time = (time_t)-1;
static char stamp[40];
static size_t stamp_len;

static size_t format_time(char *out, time_t t)
{
	struct tm tm;

	if (t != stamp_time) {
		if (!localtime_r(&t, &tm))
			memset(&tm, 0, sizeof(tm));
		stamp_len = strftime(stamp, sizeof(stamp), "%d/%b/%Y:%H:%M:%S %z", &tm);
		stamp_time = t;
	}
	memcpy(out, stamp, stamp_len);
	return stamp_len;
}

/* Whether byte c is written as \xHH inside a quoted field. */
static int escaped(unsigned char c)
{
	return c < 0x20 || c > 0x7e || c == '"' || c == '\\';
}

/* Append len bytes of s, escaped, at most max bytes of output. Returns the bytes written. */
static size_t put_escaped(char *out, const char *s, size_t len, size_t max)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!escaped(c)) {
			if (n + 1 > max)
				break;
			out[n++] = (char)c;
			continue;
		}
		if (n + 4 > max)
			break;
		out[n++] = '\\';
		out[n++] = 'x';
		out[n++] = hex[c >> 4];
		out[n++] = hex[c & 15];
	}
	return n;
}

/* A quoted field: "-" when s is NULL. */
static size_t put_quoted(char *out, const char *s, size_t len, size_t max)
{
	size_t n = 1;

	out[0] = '"';
	if (!s) {
		out[n++] = '-';
	} else {
		n += put_escaped(out + n, s, len, max);
	}
	out[n++] = '"';
	return n;
}

size_t vk_http_log_format(char *out, const struct vk_http_log_entry *e)
{
	size_t n, room;
	const char *peer = e->peer && e->peer[0] ? e->peer : "-";
	size_t peer_len = strnlen(peer, 64);

	memcpy(out, peer, peer_len);
	n = peer_len;
	memcpy(out + n, " - - [", 6);
	n += 6;
	n += format_time(out + n, e->start);
	memcpy(out + n, "] \"", 3);
	n += 3;
	if (!e->method) {
		out[n++] = '-';
	} else {
		room = VK_HTTP_LOG_REQUEST_MAX;
		n += put_escaped(out + n, e->method, strnlen(e->method, 32), room);
		out[n++] = ' ';
		n += put_escaped(out + n, e->target, e->target_len, room);
		n += (size_t)snprintf(out + n, 16, " HTTP/1.%d", e->version == 10 ? 0 : 1);
	}
	n += (size_t)snprintf(out + n, 48, "\" %d %llu ", e->status, (unsigned long long)e->bytes);
	n += put_quoted(out + n, e->referer, e->referer ? strlen(e->referer) : 0,
			VK_HTTP_LOG_FIELD_MAX);
	out[n++] = ' ';
	n += put_quoted(out + n, e->agent, e->agent ? strlen(e->agent) : 0, VK_HTTP_LOG_FIELD_MAX);
	n += (size_t)snprintf(out + n, 24, " %llu\n", (unsigned long long)e->usec);
	return n;
}
