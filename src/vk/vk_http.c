/*
 * vk_http.c - HTTP/1.1 request parser, chunked decoder, response helpers.
 *
 * The request head is parsed a line at a time: bytes are copied into the
 * caller's head buffer up to the next LF (found with memchr), and each
 * complete line is then checked in one tight pass over the buffer. So the
 * only state kept between calls is "where the current line starts", and a
 * split at any byte boundary cannot change the result. Errors that depend
 * on a line's length are decided against limits that do not depend on how
 * the line arrived (see head_room()).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "vk_http.h"

const struct vk_http_limits vk_http_limits_default = VK_HTTP_LIMITS_DEFAULT;

/* Character classes. Ranges use the GNU "a ... b" designator; no element
 * is named twice, so -Woverride-init stays quiet. */

/* RFC 9110 5.6.2 tchar: method names, field names, transfer codings. */
/* clang-format off */
static const uint8_t tchar_tab[256] = {
	['0' ... '9'] = 1, ['A' ... 'Z'] = 1, ['a' ... 'z'] = 1,
	['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1,
	['*'] = 1, ['+'] = 1, ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1,
	['`'] = 1, ['|'] = 1, ['~'] = 1,
};
/* clang-format on */

/* RFC 9110 5.5 field-value bytes: 1 for field-vchar (VCHAR, obs-text),
 * 2 for SP/HTAB, 0 for what is never allowed (CTLs, DEL, CR, LF, NUL). */
enum { FV_BAD = 0, FV_VCHAR = 1, FV_WS = 2 };
/* clang-format off */
static const uint8_t field_tab[256] = {
	[0x21 ... 0x7e] = FV_VCHAR,
	[0x80 ... 0xff] = FV_VCHAR,
	[' '] = FV_WS,
	['\t'] = FV_WS,
};
/* clang-format on */

/* RFC 3986 host [":" port]: unreserved, sub-delims, pct-encoded, IP-literal
 * brackets and the port colon. No '/', '?', '#', '@'. 1: a reg-name's own
 * byte; 2: one with a role ('%' escape, ':' port, brackets). */
/* clang-format off */
static const uint8_t host_tab[256] = {
	['0' ... '9'] = 1, ['A' ... 'Z'] = 1, ['a' ... 'z'] = 1,
	['-'] = 1, ['.'] = 1, ['_'] = 1, ['~'] = 1,
	['!'] = 1, ['$'] = 1, ['&'] = 1, ['\''] = 1, ['('] = 1, [')'] = 1,
	['*'] = 1, ['+'] = 1, [','] = 1, [';'] = 1, ['='] = 1,
	['%'] = 2, [':'] = 2, ['['] = 2, [']'] = 2,
};
/* clang-format on */

static inline bool is_tchar(unsigned char c)
{
	return tchar_tab[c];
}

static inline bool is_ws(unsigned char c)
{
	return c == ' ' || c == '\t';
}

static inline bool is_digit(unsigned char c)
{
	return (unsigned)(c - '0') < 10;
}

static inline bool is_alpha(unsigned char c)
{
	return (unsigned)((c | 0x20) - 'a') < 26;
}

/* request-target bytes: visible ASCII only (no CTL, SP, DEL, obs-text). */
static inline bool is_target_char(unsigned char c)
{
	return c >= 0x21 && c <= 0x7e;
}

static inline int hex_value(unsigned char c)
{
	if (is_digit(c))
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static inline size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

/*
 * Word-at-a-time filters for the long runs of a head (targets and field
 * values): eight bytes are tested at once and only a word that may hold a
 * bad byte is looked at byte by byte. The tests are the classic "has a
 * byte less than n" bit tricks: they may flag a good byte next to a bad
 * one, never miss a bad one, and the byte loop decides.
 */
#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

static inline uint64_t has_less(uint64_t x, unsigned n)
{
	return (x - ONES * n) & ~x & HIGHS;
}

static inline uint64_t has_del(uint64_t x)
{
	uint64_t d = x ^ (ONES * 0x7f);

	return (d - ONES) & ~d & HIGHS;
}

static inline uint64_t load64(const char *p)
{
	uint64_t x;

	memcpy(&x, p, sizeof(x));
	return x;
}

/* Index of the first byte in p[i..n) that may not be in a field value
 * (a CTL other than HTAB, or DEL), or n. obs-text is allowed. */
static size_t scan_field_value(const char *p, size_t i, size_t n)
{
	while (i < n) {
		size_t end;

		if (n - i >= 8) {
			uint64_t x = load64(p + i);

			if (!(has_less(x, 0x20) | has_del(x))) {
				i += 8;
				continue;
			}
		}
		for (end = min_size(i + 8, n); i < end; i++)
			if (field_tab[(unsigned char)p[i]] == FV_BAD)
				return i;
	}
	return n;
}

/* Index of the first byte in p[i..n) that is not visible ASCII, or n. */
static size_t scan_target(const char *p, size_t i, size_t n)
{
	while (i < n) {
		size_t end;

		if (n - i >= 8) {
			uint64_t x = load64(p + i);

			if (!(has_less(x, 0x21) | has_del(x) | (x & HIGHS))) {
				i += 8;
				continue;
			}
		}
		for (end = min_size(i + 8, n); i < end; i++)
			if (!is_target_char(p[i]))
				return i;
	}
	return n;
}

/*
 * Compare s (n bytes) with lower, a lowercase literal of letters, digits
 * and '-'. Folding with | 0x20 is exact here because s has been checked
 * first: the only other bytes that fold onto those (CR onto '-', 0x10-0x19
 * onto digits) are control characters, which never reach this point.
 */
static bool ieq(const char *s, const char *lower, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] | 0x20) != (unsigned char)lower[i])
			return false;
	return true;
}

/*
 * Next element of a comma-separated list (RFC 9110 5.6.1), with the OWS
 * around it removed. Empty elements are reported as such (len 0), so that
 * callers decide whether they are acceptable. Returns false at the end.
 */
static bool list_next(const char *v, size_t n, size_t *pos, const char **elem, size_t *len)
{
	size_t i = *pos;
	size_t start;
	size_t end;

	if (i > n)
		return false;
	while (i < n && is_ws(v[i]))
		i++;
	start = i;
	while (i < n && v[i] != ',')
		i++;
	end = i;
	while (end > start && is_ws(v[end - 1]))
		end--;
	*elem = v + start;
	*len = end - start;
	*pos = i + 1;
	return true;
}

static bool all_tchar(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_tchar(s[i]))
			return false;
	return n > 0;
}

/* ---- request line ---- */

enum { REQ_LINE = 0, REQ_FIELDS, REQ_DONE, REQ_ERROR };

static enum vk_http_method method_of(const char *m, size_t n)
{
	switch (n) {
	case 3:
		if (memcmp(m, "GET", 3) == 0)
			return VK_HTTP_GET;
		if (memcmp(m, "PUT", 3) == 0)
			return VK_HTTP_PUT;
		break;
	case 4:
		if (memcmp(m, "HEAD", 4) == 0)
			return VK_HTTP_HEAD;
		if (memcmp(m, "POST", 4) == 0)
			return VK_HTTP_POST;
		break;
	case 5:
		if (memcmp(m, "PATCH", 5) == 0)
			return VK_HTTP_PATCH;
		if (memcmp(m, "TRACE", 5) == 0)
			return VK_HTTP_TRACE;
		break;
	case 6:
		if (memcmp(m, "DELETE", 6) == 0)
			return VK_HTTP_DELETE;
		break;
	case 7:
		if (memcmp(m, "OPTIONS", 7) == 0)
			return VK_HTTP_OPTIONS;
		if (memcmp(m, "CONNECT", 7) == 0)
			return VK_HTTP_CONNECT;
		break;
	}
	return VK_HTTP_OTHER;
}

/* authority-form (CONNECT only): host ":" port, port required. */
static bool authority_form_ok(const char *t, size_t n)
{
	size_t colon = n;

	for (size_t i = 0; i < n; i++) {
		if (!host_tab[(unsigned char)t[i]])
			return false;
		if (t[i] == ':')
			colon = i;
	}
	if (colon == 0 || colon >= n - 1)
		return false;
	for (size_t i = colon + 1; i < n; i++)
		if (!is_digit(t[i]))
			return false;
	return true;
}

/* absolute-form: scheme ":" ... ; the rest was checked as visible ASCII. */
static bool absolute_form_ok(const char *t, size_t n)
{
	size_t i = 1;

	if (!is_alpha(t[0]))
		return false;
	while (i < n &&
	       (is_alpha(t[i]) || is_digit(t[i]) || t[i] == '+' || t[i] == '-' || t[i] == '.'))
		i++;
	return i < n && t[i] == ':';
}

/* RFC 9112 3.2: the four forms of request-target, by method. */
static bool target_form_ok(enum vk_http_method m, const char *t, size_t n)
{
	if (m == VK_HTTP_CONNECT)
		return authority_form_ok(t, n);
	if (t[0] == '/')
		return true;
	if (n == 1 && t[0] == '*')
		return m == VK_HTTP_OPTIONS;
	return absolute_form_ok(t, n);
}

/*
 * method SP request-target SP HTTP-version, exactly one SP each (RFC 9112
 * 3: lenient whitespace parsing is a MAY that we refuse). p is the line in
 * the head buffer without its CRLF; n > 0. Syntax errors come first, then
 * 505, then 501, so the answer does not depend on check order elsewhere.
 */
static int parse_request_line(struct vk_http_request *req, char *p, size_t n)
{
	size_t i = 0;
	size_t t;
	const char *v;

	while (i < n && is_tchar(p[i]))
		i++;
	if (i == 0 || i >= n || p[i] != ' ')
		return -400;
	req->method_len = (uint16_t)i;
	req->method = method_of(p, i);
	p[i++] = '\0';

	t = i;
	i = scan_target(p, i, n);
	if (i == t || i >= n || p[i] != ' ')
		return -400;
	if (!target_form_ok(req->method, p + t, i - t))
		return -400;
	req->target_off = (uint16_t)(p + t - req->buf);
	req->target_len = (uint16_t)(i - t);
	p[i++] = '\0';

	v = p + i;
	if (n - i != 8 || memcmp(v, "HTTP/", 5) != 0 || !is_digit(v[5]) || v[6] != '.' ||
	    !is_digit(v[7]))
		return -400;
	p[n] = '\0'; /* the CR */
	if (v[5] != '1')
		return -505;
	req->version = v[7] == '0' ? 10 : 11;

	if (req->method == VK_HTTP_OTHER && !(req->limits.flags & VK_HTTP_ALLOW_OTHER_METHODS))
		return -501;
	return 0;
}

/* ---- header fields ---- */

static int digest_content_length(struct vk_http_request *req, const char *v, size_t n)
{
	size_t pos = 0;
	const char *e;
	size_t len;

	while (list_next(v, n, &pos, &e, &len)) {
		uint64_t x = 0;

		if (len == 0)
			return -400;
		for (size_t i = 0; i < len; i++) {
			unsigned d = (unsigned char)e[i] - '0';

			if (d > 9)
				return -400;
			if (x > (UINT64_MAX - d) / 10)
				return -400;
			x = x * 10 + d;
		}
		if (req->has_content_length && req->content_length != x)
			return -400;
		req->has_content_length = true;
		req->content_length = x;
	}
	return 0;
}

/*
 * Transfer-Encoding, possibly over several fields: the codings form one
 * list, and chunked may only be its last element. Anything but a bare
 * token is refused: parameters on chunked are not allowed, and on other
 * codings they would be ignored anyway.
 */
static int digest_transfer_encoding(struct vk_http_request *req, const char *v, size_t n)
{
	size_t pos = 0;
	const char *e;
	size_t len;

	while (list_next(v, n, &pos, &e, &len)) {
		if (!all_tchar(e, len))
			return -400;
		if (req->te_last_chunked)
			return -400;
		req->te_last_chunked = len == 7 && ieq(e, "chunked", 7);
		req->te_count++;
	}
	return 0;
}

static void digest_connection(struct vk_http_request *req, const char *v, size_t n)
{
	size_t pos = 0;
	const char *e;
	size_t len;

	while (list_next(v, n, &pos, &e, &len)) {
		if (len == 5 && ieq(e, "close", 5))
			req->conn_close = true;
		else if (len == 10 && ieq(e, "keep-alive", 10))
			req->conn_keep_alive = true;
	}
}

/* pct-encoded: '%' HEXDIG HEXDIG at v[i]. */
static bool escape_at(const char *v, size_t n, size_t i)
{
	return n - i >= 3 && hex_value((unsigned char)v[i + 1]) >= 0 &&
	       hex_value((unsigned char)v[i + 2]) >= 0;
}

/* IPv6address or IPvFuture, the inside of an IP-literal's brackets. */
static bool ip_literal_ok(const char *v, size_t n)
{
	char text[INET6_ADDRSTRLEN];
	unsigned char addr[16];
	size_t i = 1;

	if (n > 0 && (v[0] | 0x20) == 'v') {
		/* "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" ) */
		while (i < n && hex_value((unsigned char)v[i]) >= 0)
			i++;
		if (i == 1 || i >= n - 1 || v[i] != '.')
			return false;
		for (i++; i < n; i++)
			if (!host_tab[(unsigned char)v[i]] || v[i] == '%' || v[i] == '[' ||
			    v[i] == ']')
				return false;
		return true;
	}
	if (n == 0 || n >= sizeof(text))
		return false;
	memcpy(text, v, n);
	text[n] = '\0';
	return inet_pton(AF_INET6, text, addr) == 1;
}

/*
 * RFC 9112 3.2: Host = uri-host [ ":" port ], RFC 3986 3.2.2: a host is
 * an IP-literal in brackets or a reg-name (unreserved, sub-delims, whole
 * escapes; IPv4 is one), and a port is digits. So one colon at most
 * outside brackets. The value may be empty (no authority). v[n] is the
 * NUL that parse_field() ends every value with (a value holds none): the
 * loops stop on it instead of testing i < n at each byte, which took
 * "127.0.0.1:8080" from 125 instructions to 95 (callgrind).
 */
static bool host_ok(const char *v, size_t n)
{
	size_t i = 0;

	if (n > 0 && v[0] == '[') {
		const char *close = memchr(v, ']', n);

		if (!close || !ip_literal_ok(v + 1, (size_t)(close - v) - 1))
			return false;
		i = (size_t)(close - v) + 1;
	} else {
		/*
		 * One test a byte for a reg-name's own bytes (a check per byte
		 * cost 2% of a keep-alive request's instructions), then the
		 * byte that stopped it: an escape goes on, ':' starts the port.
		 */
		for (;;) {
			while (host_tab[(unsigned char)v[i]] == 1)
				i++;
			if (v[i] == '%' && escape_at(v, n, i)) {
				i += 3;
				continue;
			}
			break;
		}
	}
	if (i == n)
		return true;
	if (v[i] != ':')
		return false;
	do
		i++;
	while (is_digit(v[i]));
	return i == n;
}

static int digest_host(struct vk_http_request *req, const char *v, size_t n)
{
	if (++req->host_count > 1)
		return -400;
	return host_ok(v, n) ? 0 : -400;
}

/* RFC 9110 10.1.1: 100-continue anywhere in the Expect list. */
static void digest_expect(struct vk_http_request *req, const char *v, size_t n)
{
	size_t pos = 0;
	const char *e;
	size_t len;

	while (list_next(v, n, &pos, &e, &len))
		if (len == 12 && ieq(e, "100-continue", 12))
			req->expect_continue = true;
}

/* Fields that decide framing and connection handling are read as they
 * arrive; the name is matched on its length first. */
static int digest_field(struct vk_http_request *req, const char *name, size_t nlen, const char *v,
			size_t vlen)
{
	switch (nlen) {
	case 4:
		if (ieq(name, "host", 4))
			return digest_host(req, v, vlen);
		break;
	case 6:
		/* RFC 9110 10.1.1: ignore 100-continue from HTTP/1.0. */
		if (ieq(name, "expect", 6) && req->version == 11)
			digest_expect(req, v, vlen);
		break;
	case 10:
		if (ieq(name, "connection", 10))
			digest_connection(req, v, vlen);
		break;
	case 14:
		if (ieq(name, "content-length", 14))
			return digest_content_length(req, v, vlen);
		break;
	case 17:
		if (ieq(name, "transfer-encoding", 17))
			return digest_transfer_encoding(req, v, vlen);
		break;
	}
	return 0;
}

/*
 * field-name ":" OWS field-value OWS. p is the line without its CRLF
 * (p[n] is the CR); n > 0. The name and the trimmed value are
 * NUL-terminated in place.
 */
static int parse_field(struct vk_http_request *req, char *p, size_t n)
{
	size_t i = 0;
	size_t nlen;
	size_t vs;
	size_t ve;
	struct vk_http_field *f;

	/* obs-fold and whitespace before the colon both fail here. */
	while (i < n && is_tchar(p[i]))
		i++;
	if (i == 0 || i >= n || p[i] != ':')
		return -400;
	nlen = i;
	p[i] = '\0';

	i++;
	while (i < n && is_ws(p[i]))
		i++;
	vs = i;
	if (scan_field_value(p, i, n) != n)
		return -400;
	ve = n;
	while (ve > vs && is_ws(p[ve - 1]))
		ve--;

	if (req->nfields >= req->limits.max_headers)
		return -431;
	p[ve] = '\0';
	f = &req->fields[req->nfields++];
	f->name_off = (uint16_t)(p - req->buf);
	f->name_len = (uint16_t)nlen;
	f->value_off = (uint16_t)(p + vs - req->buf);
	f->value_len = (uint16_t)(ve - vs);
	return digest_field(req, p, nlen, p + vs, ve - vs);
}

/* The empty line: cross-field checks (RFC 9112 6.1, 6.3, 3.2). */
static int finish_head(struct vk_http_request *req)
{
	if (req->version == 11 && req->host_count == 0)
		return -400;
	req->has_host = req->host_count > 0;

	if (req->te_count) {
		if (req->version == 10 || req->has_content_length || !req->te_last_chunked)
			return -400;
		if (req->te_count > 1)
			return -501;
		req->chunked = true;
	}
	if (req->has_content_length && req->content_length > req->limits.max_body)
		return -413;

	if (req->version == 11)
		req->keep_alive = !req->conn_close;
	else
		req->keep_alive = req->conn_keep_alive && !req->conn_close;
	return 1;
}

/* A complete line, LF included, is at buf[line..used). */
static int end_of_line(struct vk_http_request *req)
{
	char *p = req->buf + req->line;
	size_t n = req->used - req->line;
	int rc;

	if (n < 2 || p[n - 2] != '\r')
		return -400; /* bare LF */
	n -= 2;

	if (req->state == REQ_FIELDS) {
		if (n == 0)
			return finish_head(req);
		rc = parse_field(req, p, n);
	} else if (n == 0) {
		/* RFC 9112 2.2: empty lines before the request line. */
		if (++req->empty_lines > VK_HTTP_MAX_EMPTY_LINES)
			return -400;
		req->used = req->line;
		return 0;
	} else {
		rc = parse_request_line(req, p, n);
		req->state = REQ_FIELDS;
	}
	if (rc)
		return rc;
	req->line = req->used;
	return 0;
}

/*
 * How many more bytes the current line may take: both the line limit and
 * the head buffer bound it. For the request line (which starts at buf[0])
 * both mean "line too long", -414; for a field line both mean -431. So
 * the error does not depend on where the input was split.
 */
static size_t head_room(const struct vk_http_request *req)
{
	size_t cur = req->used - req->line;

	return min_size(req->limits.max_line - cur, req->cap - req->used);
}

void vk_http_request_init(struct vk_http_request *req, char *buf, size_t cap,
			  const struct vk_http_limits *limits)
{
	memset(req, 0, offsetof(struct vk_http_request, fields));
	req->buf = buf;
	req->cap = min_size(cap, VK_HTTP_MAX_HEAD);
	req->limits = limits ? *limits : vk_http_limits_default;
	req->limits.max_headers = min_size(req->limits.max_headers, VK_HTTP_MAX_FIELDS);
	req->state = REQ_LINE;
}

/*
 * An incomplete request line whose method already holds a byte that no
 * token may (a TLS ClientHello sent to a plain port, binary noise) can
 * never parse: say 400 now, not at max_line or the header timeout. A lone
 * CR may still be the start of an empty line.
 */
static bool method_prefix_ok(const struct vk_http_request *req)
{
	for (size_t i = 0; i < req->used; i++) {
		unsigned char c = (unsigned char)req->buf[i];

		if (c == ' ')
			return i > 0;
		if (!is_tchar(c))
			return i == 0 && c == '\r' && req->used == 1;
	}
	return true;
}

static int request_stop(struct vk_http_request *req, int rc)
{
	req->state = rc == 1 ? REQ_DONE : REQ_ERROR;
	req->result = rc;
	return rc;
}

/*
 * A line that does not fit: final when a limit says so, resumable (after
 * vk_http_request_grow()) when only the buffer is too small. When both
 * bounds are equal a larger buffer would not help: that is the limit.
 */
static int head_full(struct vk_http_request *req, int rc)
{
	size_t cur = req->used - req->line;

	if (req->cap - req->used < req->limits.max_line - cur) {
		req->full = true;
		req->result = rc;
		return rc;
	}
	return request_stop(req, rc);
}

int vk_http_request_grow(struct vk_http_request *req, char *buf, size_t cap)
{
	cap = min_size(cap, VK_HTTP_MAX_HEAD);
	if (cap <= req->cap)
		return -EINVAL;
	memcpy(buf, req->buf, req->used);
	req->buf = buf;
	req->cap = cap;
	if (req->full) {
		req->full = false;
		req->result = 0;
	}
	return 0;
}

int vk_http_request_parse(struct vk_http_request *req, const char *data, size_t len,
			  size_t *consumed)
{
	size_t pos = 0;

	if (req->state >= REQ_DONE || req->full) {
		*consumed = 0;
		return req->result;
	}
	while (pos < len) {
		size_t room = head_room(req);
		size_t n = min_size(len - pos, room);
		const char *lf = memchr(data + pos, '\n', n);
		int rc;

		if (!lf) {
			bool too_long = len - pos > room;

			memcpy(req->buf + req->used, data + pos, n);
			req->used += n;
			pos += n;
			/* Before 414, so that the answer does not depend on the split. */
			if (req->state == REQ_LINE && !method_prefix_ok(req)) {
				*consumed = pos;
				return request_stop(req, -400);
			}
			if (too_long) {
				*consumed = pos;
				return head_full(req, req->state == REQ_LINE ? -414 : -431);
			}
			break;
		}
		n = (size_t)(lf - (data + pos)) + 1;
		memcpy(req->buf + req->used, data + pos, n);
		req->used += n;
		pos += n;
		rc = end_of_line(req);
		if (rc) {
			*consumed = pos;
			return request_stop(req, rc);
		}
	}
	*consumed = pos;
	return 0;
}

const char *vk_http_request_path(const struct vk_http_request *req, size_t *len)
{
	const char *t = vk_http_request_target(req);
	const char *end = t + req->target_len;
	const char *query;

	if (req->method == VK_HTTP_CONNECT) {
		*len = 0;
		return end;
	}
	if (t[0] != '/' && t[0] != '*') {
		/* absolute-form: the parser saw "scheme:" */
		t = strchr(t, ':') + 1;
		if (t[0] == '/' && t[1] == '/')
			t += 2 + strcspn(t + 2, "/?");
	}
	/*
	 * The target ends at `end` and holds no NUL: memchr() finds the
	 * query as strcspn(t, "?") did, in half its instructions on a short
	 * target (18 against 37 for "/", callgrind).
	 */
	query = memchr(t, '?', (size_t)(end - t));
	*len = query ? (size_t)(query - t) : (size_t)(end - t);
	if (*len == 0) {
		*len = 1;
		return "/";
	}
	return t;
}

bool vk_http_request_started(const struct vk_http_request *req)
{
	/* A request line never starts with CR: a CR there begins an empty line. */
	return req->state != REQ_LINE || (req->used > 0 && req->buf[0] != '\r');
}

enum vk_http_body vk_http_request_body(const struct vk_http_request *req)
{
	if (req->chunked)
		return VK_HTTP_BODY_CHUNKED;
	if (req->has_content_length && req->content_length > 0)
		return VK_HTTP_BODY_LENGTH;
	return VK_HTTP_BODY_NONE;
}

/* Case-insensitive equality of two NUL-terminated strings (ASCII). */
static bool name_eq(const char *a, const char *b)
{
	for (;; a++, b++) {
		unsigned char x = (unsigned char)*a;
		unsigned char y = (unsigned char)*b;

		if ((unsigned)(x - 'A') < 26)
			x |= 0x20;
		if ((unsigned)(y - 'A') < 26)
			y |= 0x20;
		if (x != y)
			return false;
		if (x == '\0')
			return true;
	}
}

const char *vk_http_header(const struct vk_http_request *req, const char *name)
{
	for (size_t i = 0; i < req->nfields; i++) {
		const struct vk_http_field *f = &req->fields[i];

		if (name_eq(req->buf + f->name_off, name))
			return req->buf + f->value_off;
	}
	return NULL;
}

/* ---- chunked body ---- */

enum {
	CH_SIZE0 = 0, /* first hex digit of a chunk size */
	CH_SIZE,      /* more hex digits, or what follows them */
	CH_EXT_BWS,   /* whitespace after the size: must lead to ';' */
	CH_EXT,	      /* chunk extension, ignored up to CR */
	CH_SIZE_LF,
	CH_DATA,
	CH_DATA_CR,
	CH_DATA_LF,
	CH_T_START, /* start of a trailer line, or of the final CRLF */
	CH_T_NAME,
	CH_T_VALUE,
	CH_T_LF,
	CH_T_END_LF,
	CH_DONE,
	CH_ERROR,
};

void vk_http_chunked_init(struct vk_http_chunked *ch, const struct vk_http_limits *limits)
{
	const struct vk_http_limits *l = limits ? limits : &vk_http_limits_default;

	memset(ch, 0, sizeof(*ch));
	ch->max_body = l->max_body;
	ch->max_line = l->max_line;
	ch->max_fields = l->max_headers;
	ch->state = CH_SIZE0;
}

static int chunk_size_digit(struct vk_http_chunked *ch, int d)
{
	if (ch->size > (UINT64_MAX >> 4))
		return -400;
	ch->size = ch->size << 4 | (unsigned)d;
	if (ch->size > ch->max_body - ch->total)
		return -413;
	ch->state = CH_SIZE;
	return 0;
}

static int chunk_size_end(struct vk_http_chunked *ch)
{
	ch->line = 0;
	if (ch->size == 0) {
		ch->state = CH_T_START;
		return 0;
	}
	ch->total += ch->size;
	ch->state = CH_DATA;
	return 0;
}

/* One framing byte. Framing is short, so a byte at a time is fine here;
 * the data itself never goes through this. */
static int chunked_byte(struct vk_http_chunked *ch, unsigned char c)
{
	int d;

	if (ch->state != CH_DATA_CR && ch->state != CH_DATA_LF && ++ch->line > ch->max_line)
		return -400;

	switch (ch->state) {
	case CH_SIZE0:
	case CH_SIZE:
		d = hex_value(c);
		if (d >= 0)
			return chunk_size_digit(ch, d);
		if (ch->state == CH_SIZE0)
			return -400;
		if (c == '\r')
			ch->state = CH_SIZE_LF;
		else if (c == ';')
			ch->state = CH_EXT;
		else if (is_ws(c))
			ch->state = CH_EXT_BWS;
		else
			return -400;
		return 0;
	case CH_EXT_BWS:
		if (c == ';')
			ch->state = CH_EXT;
		else if (!is_ws(c))
			return -400;
		return 0;
	case CH_EXT:
		if (c == '\r')
			ch->state = CH_SIZE_LF;
		else if (field_tab[c] == FV_BAD)
			return -400;
		return 0;
	case CH_SIZE_LF:
		if (c != '\n')
			return -400;
		return chunk_size_end(ch);
	case CH_DATA_CR:
		if (c != '\r')
			return -400;
		ch->state = CH_DATA_LF;
		return 0;
	case CH_DATA_LF:
		if (c != '\n')
			return -400;
		ch->size = 0;
		ch->line = 0;
		ch->state = CH_SIZE0;
		return 0;
	case CH_T_START:
		if (c == '\r') {
			ch->state = CH_T_END_LF;
			return 0;
		}
		/* obs-fold, an empty name and stray bytes all fail here. */
		if (!is_tchar(c) || ++ch->nfields > ch->max_fields)
			return -400;
		ch->state = CH_T_NAME;
		return 0;
	case CH_T_NAME:
		if (c == ':')
			ch->state = CH_T_VALUE;
		else if (!is_tchar(c))
			return -400;
		return 0;
	case CH_T_VALUE:
		if (c == '\r')
			ch->state = CH_T_LF;
		else if (field_tab[c] == FV_BAD)
			return -400;
		return 0;
	case CH_T_LF:
		if (c != '\n')
			return -400;
		ch->line = 0;
		ch->state = CH_T_START;
		return 0;
	case CH_T_END_LF:
		if (c != '\n')
			return -400;
		return 2;
	}
	return -400;
}

int vk_http_chunked_decode(struct vk_http_chunked *ch, const char *in, size_t len, size_t *consumed,
			   const char **data, size_t *data_len)
{
	size_t pos = 0;

	*data = NULL;
	*data_len = 0;
	if (ch->state >= CH_DONE) {
		*consumed = 0;
		return ch->result;
	}
	while (pos < len) {
		int rc;

		if (ch->state == CH_DATA) {
			size_t n = len - pos;

			if (ch->size < n)
				n = (size_t)ch->size;
			*data = in + pos;
			*data_len = n;
			ch->size -= n;
			if (ch->size == 0)
				ch->state = CH_DATA_CR;
			*consumed = pos + n;
			return 1;
		}
		rc = chunked_byte(ch, (unsigned char)in[pos++]);
		if (rc) {
			ch->state = rc == 2 ? CH_DONE : CH_ERROR;
			ch->result = rc;
			*consumed = pos;
			return rc;
		}
	}
	*consumed = pos;
	return 0;
}

/* ---- responses ---- */

static const char *reason_of(int status, size_t *len)
{
#define R(s)                          \
	do {                          \
		*len = sizeof(s) - 1; \
		return s;             \
	} while (0)
	/* clang-format off */
	switch (status) {
	case 100: R("Continue");
	case 101: R("Switching Protocols");
	case 103: R("Early Hints");
	case 200: R("OK");
	case 201: R("Created");
	case 202: R("Accepted");
	case 203: R("Non-Authoritative Information");
	case 204: R("No Content");
	case 205: R("Reset Content");
	case 206: R("Partial Content");
	case 300: R("Multiple Choices");
	case 301: R("Moved Permanently");
	case 302: R("Found");
	case 303: R("See Other");
	case 304: R("Not Modified");
	case 305: R("Use Proxy");
	case 307: R("Temporary Redirect");
	case 308: R("Permanent Redirect");
	case 400: R("Bad Request");
	case 401: R("Unauthorized");
	case 402: R("Payment Required");
	case 403: R("Forbidden");
	case 404: R("Not Found");
	case 405: R("Method Not Allowed");
	case 406: R("Not Acceptable");
	case 407: R("Proxy Authentication Required");
	case 408: R("Request Timeout");
	case 409: R("Conflict");
	case 410: R("Gone");
	case 411: R("Length Required");
	case 412: R("Precondition Failed");
	case 413: R("Content Too Large");
	case 414: R("URI Too Long");
	case 415: R("Unsupported Media Type");
	case 416: R("Range Not Satisfiable");
	case 417: R("Expectation Failed");
	case 421: R("Misdirected Request");
	case 422: R("Unprocessable Content");
	case 426: R("Upgrade Required");
	case 428: R("Precondition Required");
	case 429: R("Too Many Requests");
	case 431: R("Request Header Fields Too Large");
	case 500: R("Internal Server Error");
	case 501: R("Not Implemented");
	case 502: R("Bad Gateway");
	case 503: R("Service Unavailable");
	case 504: R("Gateway Timeout");
	case 505: R("HTTP Version Not Supported");
	}
#undef R
	/* clang-format on */
	*len = 0;
	return "";
}

const char *vk_http_reason(int status)
{
	size_t len;

	return reason_of(status, &len);
}

/* 9999-12-31T23:59:59Z: the last second with a four-digit year. */
#define DATE_MAX INT64_C(253402300799)

static void put2(char *p, int v)
{
	p[0] = (char)('0' + v / 10);
	p[1] = (char)('0' + v % 10);
}

const char *vk_http_date(time_t now)
{
	static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	static _Thread_local char buf[VK_HTTP_DATE_LEN + 1];
	static _Thread_local time_t cached;
	static _Thread_local bool valid;
	time_t t = now;
	struct tm tm;

	if (valid && now == cached)
		return buf;
	if (t < 0)
		t = 0;
	else if ((int64_t)t > DATE_MAX)
		t = (time_t)DATE_MAX;
	if (!gmtime_r(&t, &tm))
		return buf; /* cannot happen within the clamp */

	/* "Sun, 06 Nov 1994 08:49:37 GMT" */
	memcpy(buf, days[tm.tm_wday], 3);
	buf[3] = ',';
	buf[4] = ' ';
	put2(buf + 5, tm.tm_mday);
	buf[7] = ' ';
	memcpy(buf + 8, months[tm.tm_mon], 3);
	buf[11] = ' ';
	put2(buf + 12, (tm.tm_year + 1900) / 100);
	put2(buf + 14, (tm.tm_year + 1900) % 100);
	buf[16] = ' ';
	put2(buf + 17, tm.tm_hour);
	buf[19] = ':';
	put2(buf + 20, tm.tm_min);
	buf[22] = ':';
	put2(buf + 23, tm.tm_sec);
	memcpy(buf + 25, " GMT", 5); /* with the NUL */
	cached = now;
	valid = true;
	return buf;
}

void vk_http_out_init(struct vk_http_out *out, char *buf, size_t cap)
{
	out->buf = buf;
	out->cap = cap;
	out->len = 0;
	out->error = 0;
}

/* Reserve n bytes: returns where to write them, or NULL (error set). */
static char *out_reserve(struct vk_http_out *out, size_t n)
{
	char *p;

	if (out->error)
		return NULL;
	if (n > out->cap - out->len) {
		out->error = -ENOSPC;
		return NULL;
	}
	p = out->buf + out->len;
	out->len += n;
	return p;
}

int vk_http_out_status(struct vk_http_out *out, int status)
{
	const char *reason;
	size_t rlen;
	char *p;

	if (out->error)
		return out->error;
	if (status < 100 || status > 599)
		return out->error = -EINVAL;
	reason = reason_of(status, &rlen);
	p = out_reserve(out, 13 + rlen + 2);
	if (!p)
		return out->error;
	memcpy(p, "HTTP/1.1 ", 9);
	p[9] = (char)('0' + status / 100);
	put2(p + 10, status % 100);
	p[12] = ' ';
	memcpy(p + 13, reason, rlen);
	memcpy(p + 13 + rlen, "\r\n", 2);
	return 0;
}

static bool field_value_ok(const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (field_tab[(unsigned char)v[i]] == FV_BAD)
			return false;
	return true;
}

int vk_http_out_header(struct vk_http_out *out, const char *name, size_t name_len,
		       const char *value, size_t value_len)
{
	char *p;

	if (out->error)
		return out->error;
	if (!all_tchar(name, name_len) || !field_value_ok(value, value_len))
		return out->error = -EINVAL;
	p = out_reserve(out, name_len + 2 + value_len + 2);
	if (!p)
		return out->error;
	memcpy(p, name, name_len);
	p += name_len;
	*p++ = ':';
	*p++ = ' ';
	memcpy(p, value, value_len);
	p += value_len;
	*p++ = '\r';
	*p = '\n';
	return 0;
}

int vk_http_out_header_u64(struct vk_http_out *out, const char *name, size_t name_len,
			   uint64_t value)
{
	char digits[20];
	size_t i = sizeof(digits);

	do {
		digits[--i] = (char)('0' + value % 10);
		value /= 10;
	} while (value);
	return vk_http_out_header(out, name, name_len, digits + i, sizeof(digits) - i);
}

int vk_http_out_date(struct vk_http_out *out, time_t now)
{
	char *p = out_reserve(out, 6 + VK_HTTP_DATE_LEN + 2);

	if (!p)
		return out->error;
	memcpy(p, "Date: ", 6);
	memcpy(p + 6, vk_http_date(now), VK_HTTP_DATE_LEN);
	memcpy(p + 6 + VK_HTTP_DATE_LEN, "\r\n", 2);
	return 0;
}

int vk_http_out_end(struct vk_http_out *out)
{
	char *p = out_reserve(out, 2);

	if (!p)
		return out->error;
	memcpy(p, "\r\n", 2);
	return 0;
}

int vk_http_out_bytes(struct vk_http_out *out, const void *src, size_t n)
{
	char *p = out_reserve(out, n);

	if (!p)
		return out->error;
	memcpy(p, src, n);
	return 0;
}
