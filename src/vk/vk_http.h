/*
 * vk_http.h - HTTP/1.1 request parser, chunked decoder, response helpers.
 *
 * Pure C: no I/O, no allocation, no dependency on the rest of libvk, so the
 * parser runs inside a coroutine whose memory is a small micro-heap and is
 * unit-tested on its own.
 *
 * Everything here is streaming: input may be split at ANY byte boundary and
 * the result is the same as if it had arrived in one piece.
 *
 * Strictness (RFC 9112). Anything that could be read two ways by two
 * parsers (request smuggling) is refused, never guessed:
 *
 *  - every line must end in CRLF; a bare LF or bare CR anywhere is 400;
 *  - obs-fold (a field line starting with SP or HTAB) is 400;
 *  - whitespace between a field name and its colon is 400;
 *  - Content-Length and Transfer-Encoding together are 400;
 *  - Content-Length values that differ (repeated fields or a comma list)
 *    are 400; identical duplicates ("5, 5") are accepted as one value;
 *  - a Content-Length that is not 1*DIGIT, or overflows 64 bits, is 400;
 *  - Transfer-Encoding: chunked must be the final coding, once; any other
 *    final coding, "chunked" twice, empty list elements, parameters, or
 *    Transfer-Encoding in an HTTP/1.0 request are 400. A well-formed list
 *    ending in chunked with another coding before it ("gzip, chunked") is
 *    501: it is understood, but not implemented;
 *  - an HTTP/1.1 request without Host, or any request with two Host
 *    fields, or a Host value that is not RFC 3986 host[":" port] (a
 *    reg-name with whole escapes or a bracketed IPv6/IPvFuture literal,
 *    and a port of digits), is 400;
 *  - control characters (and NUL, DEL) in the target or a field value are
 *    400; the request target must be visible ASCII (0x21-0x7E): raw
 *    UTF-8 must be percent-encoded by the client;
 *  - method and field names must be tokens (RFC 9110 tchar);
 *  - the request line is method SP target SP "HTTP/" DIGIT "." DIGIT with
 *    exactly one SP each; the target must be in the form its method
 *    allows (RFC 9112 3.2): origin-form "/...", absolute-form
 *    "scheme:...", asterisk-form "*" for OPTIONS only, authority-form
 *    "host:port" for (and only for) CONNECT;
 *  - up to VK_HTTP_MAX_EMPTY_LINES empty lines (CRLF) before the request
 *    line are skipped (RFC 9112 2.2: a client may send one after a POST
 *    body); one more is 400.
 *
 * The parser does not check that an absolute-form target agrees with Host,
 * nor decode percent-escapes or dot segments: that is the application's.
 */
#ifndef VK_HTTP_H
#define VK_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "vk_api.h"

VK_API_BEGIN

#ifdef __cplusplus
extern "C" {
#endif

/* Size of the field array inside struct vk_http_request. */
#define VK_HTTP_MAX_FIELDS 100

/*
 * Largest usable head buffer. Field offsets are 16 bits: every offset
 * points inside the buffer, so 64 KiB is the most they can address.
 */
#define VK_HTTP_MAX_HEAD 65536

/* Empty lines (CRLF) ignored before a request line (RFC 9112 2.2). */
#define VK_HTTP_MAX_EMPTY_LINES 8

/* Literal helper: VK_HTTP_S("Server") expands to "Server", 6. */
#define VK_HTTP_S(lit) (lit), (sizeof(lit) - 1)

enum vk_http_method {
	VK_HTTP_OTHER = 0, /* a valid token not in this list */
	VK_HTTP_GET,
	VK_HTTP_HEAD,
	VK_HTTP_POST,
	VK_HTTP_PUT,
	VK_HTTP_DELETE,
	VK_HTTP_OPTIONS,
	VK_HTTP_PATCH,
	VK_HTTP_TRACE,
	VK_HTTP_CONNECT,
};

enum vk_http_body {
	VK_HTTP_BODY_NONE = 0, /* no body, or Content-Length: 0 */
	VK_HTTP_BODY_LENGTH,   /* exactly content_length bytes follow */
	VK_HTTP_BODY_CHUNKED,  /* decode with struct vk_http_chunked */
};

/* Flags for struct vk_http_limits.flags. */
enum {
	/* Accept methods outside enum vk_http_method (as VK_HTTP_OTHER)
	 * instead of refusing them with 501. */
	VK_HTTP_ALLOW_OTHER_METHODS = 1u << 0,
};

struct vk_http_limits {
	/* Longest line, CRLF included: request line, field line, chunk-size
	 * line, trailer line. Default 8192. */
	size_t max_line;
	/* Most header fields in a head (also trailer fields in a chunked
	 * body). Default 100, clamped to VK_HTTP_MAX_FIELDS. */
	size_t max_headers;
	/* Largest request body: Content-Length, or chunked total. Default
	 * 1 MiB. */
	uint64_t max_body;
	/* VK_HTTP_ALLOW_OTHER_METHODS, or 0 (default). */
	unsigned flags;
};

#define VK_HTTP_LIMITS_DEFAULT                  \
	{                                       \
		8192, 100, UINT64_C(1) << 20, 0 \
	}

/* The defaults above, for callers who want to copy and tweak them. */
extern const struct vk_http_limits vk_http_limits_default;

/* A header field: offsets and lengths into the head buffer. Both the name
 * and the value are NUL-terminated there; the value has its leading and
 * trailing whitespace removed. */
struct vk_http_field {
	uint16_t name_off;
	uint16_t name_len;
	uint16_t value_off;
	uint16_t value_len;
};

struct vk_http_request {
	/* Results, valid once vk_http_request_parse() has returned 1. Strings
	 * live in buf and are NUL-terminated: the method at buf[0], the target
	 * at buf + target_off. */
	enum vk_http_method method;
	int version; /* 10 for HTTP/1.0, 11 for HTTP/1.1 (and 1.2-1.9) */
	uint16_t method_len;
	uint16_t target_off;
	uint16_t target_len;
	uint16_t nfields;
	uint64_t content_length; /* valid when has_content_length */
	bool has_content_length;
	bool chunked;	      /* Transfer-Encoding: chunked */
	bool keep_alive;      /* the connection may carry another request */
	bool expect_continue; /* Expect (a list) holds 100-continue, HTTP/1.1 */
	bool has_host;

	/* Private: parser state. */
	char *buf;
	size_t cap;
	size_t used;
	size_t line;
	struct vk_http_limits limits;
	int state;
	int result;
	unsigned empty_lines;
	unsigned host_count;
	unsigned te_count;
	bool te_last_chunked;
	bool conn_close;
	bool conn_keep_alive;
	bool full; /* stopped because buf is full: vk_http_request_grow() */

	struct vk_http_field fields[VK_HTTP_MAX_FIELDS];
};

/*
 * vk_http_request_init - prepare req to parse one request head.
 *
 * buf/cap is the caller's head buffer: the parser copies the head into it,
 * so cap is the limit on the whole head (skipped leading empty lines do not
 * count). It is not a verbatim copy: the method, the target, and each field
 * name and trimmed value are NUL-terminated in place, over the separators.
 * buf must outlive every use of the results, and must not overlap the data
 * passed to vk_http_request_parse(). cap is clamped to VK_HTTP_MAX_HEAD.
 * limits may be NULL for vk_http_limits_default; it is copied, so it need
 * not outlive req.
 *
 * Call it again (same or another buffer) before each pipelined request.
 * It cannot fail.
 */
void vk_http_request_init(struct vk_http_request *req, char *buf, size_t cap,
			  const struct vk_http_limits *limits);

/*
 * vk_http_request_parse - feed bytes to the request-head parser.
 *
 * data/len may be any slice of the stream; *consumed is always set.
 *
 * Returns:
 *    0    need more bytes; all len bytes were consumed.
 *    1    head complete; *consumed bytes of data belonged to the head, the
 *         rest is the body or the next request. The result fields of req
 *         are filled in.
 *   -400  malformed: request line, field syntax, framing (see the
 *         strictness list at the top of this file), missing Host, more
 *         than VK_HTTP_MAX_EMPTY_LINES empty lines before the request
 *         line. A method byte that no token may hold (TLS sent to a plain
 *         port) is refused at once, before its line ends.
 *   -413  Content-Length larger than limits.max_body.
 *   -414  request line longer than max_line, or than cap.
 *   -431  a field line longer than max_line, a head larger than cap, or
 *         more than max_headers fields.
 *   -501  unknown method (a valid token that is not in enum
 *         vk_http_method) unless VK_HTTP_ALLOW_OTHER_METHODS; or a
 *         transfer coding other than chunked before chunked.
 *   -505  HTTP version other than 1.x (HTTP/1.2-1.9 are read as 1.1, as
 *         RFC 9110 2.5 asks).
 *
 * Errors are final: the connection should get that status and be closed.
 * On error *consumed is how far the parser got. Once parse has returned
 * non-zero it keeps returning the same value with *consumed = 0 (until
 * vk_http_request_grow(), for a -414 or -431 that only a full buffer
 * caused).
 */
int vk_http_request_parse(struct vk_http_request *req, const char *data, size_t len,
			  size_t *consumed);

/*
 * vk_http_request_full - whether the last -414 or -431 came from the head
 * buffer being full rather than from a limit (max_line, max_headers):
 * then vk_http_request_grow() lets the parse go on.
 */
static inline bool vk_http_request_full(const struct vk_http_request *req)
{
	return req->full;
}

/*
 * vk_http_request_grow - move the head to a larger buffer.
 *
 * Copies the head parsed so far to buf/cap (cap larger than the old one;
 * clamped to VK_HTTP_MAX_HEAD); offsets are kept, so the head moves with
 * one memcpy and no re-parse. When the parse had stopped with -414 or
 * -431 for a full buffer (vk_http_request_full()), it goes on: feed the
 * bytes after *consumed next. So the bytes parsed need not be kept by
 * the caller, and a small first buffer serves every head that fits it: a
 * large one is needed only by the heads that outgrow it. Also usable on a
 * complete head, for room past it. Returns 0, or -EINVAL (nothing
 * changed) when cap is not larger.
 */
int vk_http_request_grow(struct vk_http_request *req, char *buf, size_t cap);

/*
 * vk_http_request_body - how the body of a parsed request is framed.
 *
 * Returns VK_HTTP_BODY_CHUNKED, VK_HTTP_BODY_LENGTH (content_length > 0
 * bytes) or VK_HTTP_BODY_NONE. Only meaningful after parse returned 1;
 * the max_body check has already been made by then (-413).
 */
enum vk_http_body vk_http_request_body(const struct vk_http_request *req);

/*
 * vk_http_header - find a header field by name, case-insensitively.
 *
 * Returns the NUL-terminated, trimmed value of the first field called
 * name, or NULL when there is none. For repeated fields, walk
 * req->fields[0..nfields) with vk_http_field_name()/vk_http_field_value().
 */
const char *vk_http_header(const struct vk_http_request *req, const char *name);

static inline const char *vk_http_request_method_str(const struct vk_http_request *req)
{
	return req->buf;
}

static inline const char *vk_http_request_target(const struct vk_http_request *req)
{
	return req->buf + req->target_off;
}

/*
 * vk_http_request_path - the path of the target, what an app routes on.
 *
 * Returns a pointer into the target and its length in *len, the query
 * ("?...") left out. An absolute-form target ("http://host/a?b", which a
 * server must accept, RFC 9112 3.2.2) gives its path ("/a"), and an empty
 * path is "/" (RFC 9110 4.2.3). Asterisk-form gives "*"; CONNECT's
 * authority-form has no path (*len = 0). No percent-decoding. Only
 * meaningful after parse returned 1.
 */
const char *vk_http_request_path(const struct vk_http_request *req, size_t *len);

/*
 * vk_http_request_started - whether the bytes parsed so far began a
 * request: false while only empty lines (which the parser skips, RFC 9112
 * 2.2) or nothing at all arrived. A connection that closes or times out
 * before a request started had nothing to answer.
 */
bool vk_http_request_started(const struct vk_http_request *req);

static inline const char *vk_http_field_name(const struct vk_http_request *req, size_t i)
{
	return req->buf + req->fields[i].name_off;
}

static inline const char *vk_http_field_value(const struct vk_http_request *req, size_t i)
{
	return req->buf + req->fields[i].value_off;
}

/*
 * Chunked body decoder (RFC 9112 7.1). Chunk extensions are accepted and
 * ignored; trailer fields are checked with the same strictness as header
 * fields and ignored.
 */
struct vk_http_chunked {
	/* Private. */
	uint64_t size;	/* chunk size being read, then bytes left in it */
	uint64_t total; /* body bytes announced so far */
	uint64_t max_body;
	size_t max_line;
	size_t max_fields;
	size_t line; /* bytes in the current framing line */
	size_t nfields;
	int state;
	int result;
};

/*
 * vk_http_chunked_init - prepare to decode one chunked body.
 *
 * limits may be NULL for the defaults: max_line bounds a chunk-size or
 * trailer line, max_headers the trailer fields, max_body the decoded
 * total. It cannot fail.
 */
void vk_http_chunked_init(struct vk_http_chunked *ch, const struct vk_http_limits *limits);

/*
 * vk_http_chunked_decode - decode the next piece of a chunked body.
 *
 * Reads from in/len and never copies: decoded bytes are returned as a span
 * inside in. *consumed, *data and *data_len are always set.
 *
 * Returns:
 *    0    need more input; all len bytes were consumed, *data_len is 0.
 *    1    *data, *data_len is a non-empty span of body bytes inside in;
 *         *consumed (which includes the span) says where to resume.
 *    2    body complete, trailers consumed; *consumed bytes of in were
 *         part of the body, the rest is the next request.
 *   -400  malformed: bad chunk size (not hex, overflow), bad extension,
 *         missing CRLF, bare CR or LF, bad trailer, a framing line longer
 *         than max_line, more than max_headers trailer fields.
 *   -413  the body would exceed max_body.
 *
 * Errors are final. Once decode has returned 2 or an error it keeps
 * returning it with *consumed = 0.
 */
int vk_http_chunked_decode(struct vk_http_chunked *ch, const char *in, size_t len, size_t *consumed,
			   const char **data, size_t *data_len);

/*
 * vk_http_reason - the reason phrase for a status code.
 *
 * Returns a static string such as "Not Found" (RFC 9110 names), or "" for
 * a code it does not know: an empty reason is valid in a status line.
 */
const char *vk_http_reason(int status);

/*
 * vk_http_date - the IMF-fixdate for now, e.g. "Sun, 06 Nov 1994 08:49:37
 * GMT".
 *
 * Returns a 29-character NUL-terminated string in a per-thread buffer,
 * reformatted only when the second changes, so it is cheap to call per
 * request. The string is overwritten by the next call with another time.
 * Times before 1970 or after 9999 are clamped to those years' bounds.
 */
const char *vk_http_date(time_t now);

/* Length of the string vk_http_date() returns. */
#define VK_HTTP_DATE_LEN 29

/*
 * Response writer: appends to a caller buffer with bounds checks. Each
 * append writes all of its text or nothing; the first error sticks, and
 * later appends do nothing and return it, so a caller may check only once,
 * at the end. Nothing is NUL-terminated.
 */
struct vk_http_out {
	char *buf;
	size_t cap;
	size_t len; /* bytes written so far */
	int error;  /* 0, -ENOSPC or -EINVAL */
};

/* vk_http_out_init - write into buf/cap from the start. Cannot fail. */
void vk_http_out_init(struct vk_http_out *out, char *buf, size_t cap);

/*
 * vk_http_out_status - append "HTTP/1.1 <status> <reason>\r\n".
 *
 * Returns 0, -ENOSPC when it does not fit, -EINVAL when status is not in
 * 100..599 (or the sticky error of an earlier append).
 */
int vk_http_out_status(struct vk_http_out *out, int status);

/*
 * vk_http_out_header - append "<name>: <value>\r\n".
 *
 * Returns 0, -ENOSPC when it does not fit, -EINVAL when the name is not a
 * token or the value holds a control character (CR, LF, NUL...): a header
 * can never be used to split a response.
 */
int vk_http_out_header(struct vk_http_out *out, const char *name, size_t name_len,
		       const char *value, size_t value_len);

/* vk_http_out_header_u64 - append "<name>: <decimal value>\r\n", e.g. for
 * Content-Length. Returns as vk_http_out_header(). */
int vk_http_out_header_u64(struct vk_http_out *out, const char *name, size_t name_len,
			   uint64_t value);

/* vk_http_out_date - append "Date: <vk_http_date(now)>\r\n".
 * Returns 0 or -ENOSPC. */
int vk_http_out_date(struct vk_http_out *out, time_t now);

/* vk_http_out_end - append the empty line that ends the head.
 * Returns 0 or -ENOSPC. */
int vk_http_out_end(struct vk_http_out *out);

/* vk_http_out_bytes - append n raw bytes (a small body). Returns 0 or
 * -ENOSPC. */
int vk_http_out_bytes(struct vk_http_out *out, const void *p, size_t n);

#ifdef __cplusplus
}
#endif

VK_API_END

#endif /* VK_HTTP_H */
