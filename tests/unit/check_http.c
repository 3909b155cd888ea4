/*
 * check_http.c - unit tests for the HTTP/1.1 parser, the chunked decoder
 * and the response helpers (src/vk/vk_http.c).
 *
 * Every request and body in the tables is fed three ways: whole, split in
 * two at every byte boundary, and one byte at a time; each way must give
 * exactly the expected result.
 */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check_run.h"
#include "vk_http.h"

#define RAW(s) .raw = (s), .len = sizeof(s) - 1
#define NO_CL (-1)

struct hdr {
	const char *name;
	const char *value; /* NULL: must be absent */
};

struct req_case {
	const char *what;
	const char *raw;
	size_t len;
	int rc;
	unsigned flags;
	/* Checked when rc == 1. */
	size_t head_len; /* 0: the whole input */
	enum vk_http_method method;
	const char *method_str; /* NULL: not checked */
	const char *target;
	int version;
	int64_t cl;
	bool chunked;
	bool keep_alive;
	bool expect_continue;
	bool has_host;
	int nfields;
	enum vk_http_body body;
	struct hdr hdrs[4];
};

#define GET11 .method = VK_HTTP_GET, .target = "/", .version = 11, .cl = NO_CL

static const struct req_case requests[] = {
    /* ---- valid ---- */
    {"minimal GET", RAW("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 1, GET11, .method_str = "GET",
     .keep_alive = true, .has_host = true, .nfields = 1,
     .hdrs = {{"Host", "a"}, {"host", "a"}, {"HOST", "a"}, {"Hos", NULL}}},
    {"trimmed values",
     RAW("GET /p?q=1&r=%20 HTTP/1.1\r\nHost:   example.com  \r\n"
	 "X-Empty:\r\nX-Tab:\t v  w \t\r\nX-Spaces:    \r\n\r\n"),
     1, .method = VK_HTTP_GET, .target = "/p?q=1&r=%20", .version = 11, .cl = NO_CL,
     .keep_alive = true, .has_host = true, .nfields = 4,
     .hdrs = {{"host", "example.com"}, {"x-empty", ""}, {"X-TAB", "v  w"}, {"x-spaces", ""}}},
    {"HEAD HTTP/1.0 closes", RAW("HEAD /x HTTP/1.0\r\n\r\n"), 1, .method = VK_HTTP_HEAD,
     .method_str = "HEAD", .target = "/x", .version = 10, .cl = NO_CL, .nfields = 0,
     .hdrs = {{"Host", NULL}}},
    {"HTTP/1.0 keep-alive", RAW("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"), 1,
     .method = VK_HTTP_GET, .target = "/", .version = 10, .cl = NO_CL, .keep_alive = true,
     .nfields = 1},
    {"HTTP/1.0 keep-alive, close", RAW("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n"),
     1, .method = VK_HTTP_GET, .target = "/", .version = 10, .cl = NO_CL, .nfields = 1},
    {"HTTP/1.1 close", RAW("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"), 1, GET11,
     .has_host = true, .nfields = 2},
    {"connection list", RAW("GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade,, CLOSE \r\n\r\n"), 1,
     GET11, .has_host = true, .nfields = 2},
    {"connection close in a second field",
     RAW("GET / HTTP/1.1\r\nHost: a\r\nConnection: foo\r\nconnection: close\r\n\r\n"), 1, GET11,
     .has_host = true, .nfields = 3, .hdrs = {{"Connection", "foo"}}},
    {"connection: closed is not close",
     RAW("GET / HTTP/1.1\r\nHost: a\r\nConnection: closed\r\n\r\n"), 1, GET11, .keep_alive = true,
     .has_host = true, .nfields = 2},
    {"POST with length and body",
     RAW("POST /f HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"), 1, .head_len = 48,
     .method = VK_HTTP_POST, .target = "/f", .version = 11, .cl = 5, .keep_alive = true,
     .has_host = true, .nfields = 2, .body = VK_HTTP_BODY_LENGTH},
    {"identical Content-Length twice",
     RAW("PUT /f HTTP/1.1\r\nHost: a\r\nContent-Length: 7\r\ncontent-length: 7\r\n\r\n"), 1,
     .method = VK_HTTP_PUT, .target = "/f", .version = 11, .cl = 7, .keep_alive = true,
     .has_host = true, .nfields = 3, .body = VK_HTTP_BODY_LENGTH},
    {"identical Content-Length list",
     RAW("PUT /f HTTP/1.1\r\nHost: a\r\nContent-Length: 7 ,7, 007\r\n\r\n"), 1,
     .method = VK_HTTP_PUT, .target = "/f", .version = 11, .cl = 7, .keep_alive = true,
     .has_host = true, .nfields = 2, .body = VK_HTTP_BODY_LENGTH},
    {"Content-Length 0", RAW("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"), 1,
     .method = VK_HTTP_POST, .target = "/", .version = 11, .cl = 0, .keep_alive = true,
     .has_host = true, .nfields = 2, .body = VK_HTTP_BODY_NONE},
    {"Content-Length at max_body",
     RAW("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1048576\r\n\r\n"), 1,
     .method = VK_HTTP_POST, .target = "/", .version = 11, .cl = 1048576, .keep_alive = true,
     .has_host = true, .nfields = 2, .body = VK_HTTP_BODY_LENGTH},
    {"chunked", RAW("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), 1,
     .head_len = 56, .method = VK_HTTP_POST, .target = "/", .version = 11, .cl = NO_CL,
     .chunked = true, .keep_alive = true, .has_host = true, .nfields = 2,
     .body = VK_HTTP_BODY_CHUNKED},
    {"chunked, any case, OWS",
     RAW("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:  ChUnKeD \r\n\r\n"), 1,
     .method = VK_HTTP_POST, .target = "/", .version = 11, .cl = NO_CL, .chunked = true,
     .keep_alive = true, .has_host = true, .nfields = 2, .body = VK_HTTP_BODY_CHUNKED,
     .hdrs = {{"transfer-encoding", "ChUnKeD"}}},
    {"expect 100-continue",
     RAW("PUT /u HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n"), 1,
     .method = VK_HTTP_PUT, .target = "/u", .version = 11, .cl = 3, .expect_continue = true,
     .keep_alive = true, .has_host = true, .nfields = 3, .body = VK_HTTP_BODY_LENGTH},
    {"expect ignored from HTTP/1.0",
     RAW("PUT /u HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n"), 1,
     .method = VK_HTTP_PUT, .target = "/u", .version = 10, .cl = 3, .nfields = 2,
     .body = VK_HTTP_BODY_LENGTH},
    {"other expectation ignored", RAW("GET / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n"), 1,
     GET11, .keep_alive = true, .has_host = true, .nfields = 2},
    {"OPTIONS *", RAW("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"), 1, .method = VK_HTTP_OPTIONS,
     .target = "*", .version = 11, .cl = NO_CL, .keep_alive = true, .has_host = true, .nfields = 1},
    {"CONNECT authority-form",
     RAW("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"), 1,
     .method = VK_HTTP_CONNECT, .method_str = "CONNECT", .target = "example.com:443", .version = 11,
     .cl = NO_CL, .keep_alive = true, .has_host = true, .nfields = 1},
    {"absolute-form", RAW("GET http://example.com/x?y HTTP/1.1\r\nHost: example.com\r\n\r\n"), 1,
     .method = VK_HTTP_GET, .target = "http://example.com/x?y", .version = 11, .cl = NO_CL,
     .keep_alive = true, .has_host = true, .nfields = 1},
    {"leading empty lines", RAW("\r\n\r\nDELETE /r HTTP/1.1\r\nHost: a\r\n\r\n"), 1,
     .method = VK_HTTP_DELETE, .method_str = "DELETE", .target = "/r", .version = 11, .cl = NO_CL,
     .keep_alive = true, .has_host = true, .nfields = 1},
    {"eight leading empty lines",
     RAW("\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), 1, GET11,
     .keep_alive = true, .has_host = true, .nfields = 1},
    {"HTTP/1.2 read as 1.1", RAW("PATCH /p HTTP/1.2\r\nHost: a\r\n\r\n"), 1,
     .method = VK_HTTP_PATCH, .target = "/p", .version = 11, .cl = NO_CL, .keep_alive = true,
     .has_host = true, .nfields = 1},
    {"TRACE", RAW("TRACE / HTTP/1.1\r\nHost: a\r\n\r\n"), 1, .method = VK_HTTP_TRACE, .target = "/",
     .version = 11, .cl = NO_CL, .keep_alive = true, .has_host = true, .nfields = 1},
    {"obs-text in a value", RAW("GET / HTTP/1.1\r\nHost: a\r\nX-Name: caf\xc3\xa9\r\n\r\n"), 1,
     GET11, .keep_alive = true, .has_host = true, .nfields = 2,
     .hdrs = {{"x-name", "caf\xc3\xa9"}}},
    {"all tchars in a name", RAW("GET / HTTP/1.1\r\nHost: a\r\nX!#$%&'*+-.^_`|~09Az: v\r\n\r\n"), 1,
     GET11, .keep_alive = true, .has_host = true, .nfields = 2,
     .hdrs = {{"x!#$%&'*+-.^_`|~09az", "v"}}},
    {"colon in a value", RAW("GET / HTTP/1.1\r\nHost: a\r\nX: a:b: c\r\n\r\n"), 1, GET11,
     .keep_alive = true, .has_host = true, .nfields = 2, .hdrs = {{"X", "a:b: c"}}},
    {"empty Host", RAW("GET / HTTP/1.1\r\nHost:\r\n\r\n"), 1, GET11, .keep_alive = true,
     .has_host = true, .nfields = 1, .hdrs = {{"host", ""}}},
    {"IPv6 Host", RAW("GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n"), 1, GET11, .keep_alive = true,
     .has_host = true, .nfields = 1, .hdrs = {{"Host", "[::1]:8080"}}},
    {"repeated field: first wins",
     RAW("GET / HTTP/1.1\r\nHost: a\r\nCookie: a=1\r\nCookie: b=2\r\n\r\n"), 1, GET11,
     .keep_alive = true, .has_host = true, .nfields = 3, .hdrs = {{"cookie", "a=1"}}},
    {"other method allowed by flag", RAW("PROPFIND /d HTTP/1.1\r\nHost: a\r\n\r\n"), 1,
     .flags = VK_HTTP_ALLOW_OTHER_METHODS, .method = VK_HTTP_OTHER, .method_str = "PROPFIND",
     .target = "/d", .version = 11, .cl = NO_CL, .keep_alive = true, .has_host = true,
     .nfields = 1},

    /* ---- incomplete ---- */
    {"no final CRLF", RAW("GET / HTTP/1.1\r\nHost: a\r\n"), 0},
    {"half a CRLF", RAW("GET / HTTP/1.1\r\nHost: a\r\n\r"), 0},
    {"request line only", RAW("GET / HTTP/1.1"), 0},
    {"nothing but empty lines", RAW("\r\n\r\n"), 0},

    /* ---- request line ---- */
    {"bare LF after request line", RAW("GET / HTTP/1.1\nHost: a\r\n\r\n"), -400},
    {"bare CR in request line", RAW("GET /\r HTTP/1.1\r\nHost: a\r\n\r\n"), -400},
    {"bare LF leading line", RAW("\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), -400},
    {"nine leading empty lines",
     RAW("\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), -400},
    {"leading space", RAW(" GET / HTTP/1.1\r\nHost: a\r\n\r\n"), -400},
    {"two spaces", RAW("GET  / HTTP/1.1\r\nHost: a\r\n\r\n"), -400},
    {"tab separator", RAW("GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n"), -400},
    {"trailing space", RAW("GET / HTTP/1.1 \r\nHost: a\r\n\r\n"), -400},
    {"no version", RAW("GET /\r\nHost: a\r\n\r\n"), -400},
    {"lowercase version", RAW("GET / http/1.1\r\nHost: a\r\n\r\n"), -400},
    {"two-digit minor", RAW("GET / HTTP/1.10\r\nHost: a\r\n\r\n"), -400},
    {"bad method char", RAW("G(ET / HTTP/1.1\r\nHost: a\r\n\r\n"), -400},
    {"unknown method", RAW("BREW / HTTP/1.1\r\nHost: a\r\n\r\n"), -501},
    {"methods are case-sensitive", RAW("get / HTTP/1.1\r\nHost: a\r\n\r\n"), -501},
    {"HTTP/2.0", RAW("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), -505},
    {"HTTP/0.9", RAW("GET / HTTP/0.9\r\n\r\n"), -505},
    {"syntax before version", RAW("GET * HTTP/2.0\r\n\r\n"), -400},
    {"NUL in target", RAW("GET /a\0b HTTP/1.1\r\nHost: a\r\n\r\n"), -400},
    {"control char in target", RAW("GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n"), -400},
    {"DEL in target", RAW("GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n"), -400},
    {"raw UTF-8 in target", RAW("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n"), -400},
    {"* for GET", RAW("GET * HTTP/1.1\r\nHost: a\r\n\r\n"), -400},
    {"relative target", RAW("GET index.html HTTP/1.1\r\nHost: a\r\n\r\n"), -400},
    {"CONNECT with a path", RAW("CONNECT /x HTTP/1.1\r\nHost: a\r\n\r\n"), -400},
    {"CONNECT without port", RAW("CONNECT example.com HTTP/1.1\r\nHost: a\r\n\r\n"), -400},

    /* ---- fields ---- */
    {"bare LF after a field", RAW("GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n"), -400},
    {"bare LF ends the head", RAW("GET / HTTP/1.1\r\nHost: a\r\n\n"), -400},
    {"bare CR in a value", RAW("GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n"), -400},
    {"NUL in a value", RAW("GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n"), -400},
    {"control char in a value", RAW("GET / HTTP/1.1\r\nHost: a\r\nX: a\x1b[0m\r\n\r\n"), -400},
    {"DEL in a value", RAW("GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f\r\n\r\n"), -400},
    {"empty field name", RAW("GET / HTTP/1.1\r\nHost: a\r\n: v\r\n\r\n"), -400},
    {"no colon", RAW("GET / HTTP/1.1\r\nHost: a\r\nX-No-Colon\r\n\r\n"), -400},
    {"bad name char", RAW("GET / HTTP/1.1\r\nHost: a\r\nX(y): v\r\n\r\n"), -400},
    {"HTTP/1.1 without Host", RAW("GET / HTTP/1.1\r\nX: y\r\n\r\n"), -400},
    {"two Host fields", RAW("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"), -400},
    {"Host with a path", RAW("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"), -400},
    {"Host with a space", RAW("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), -400},
    {"Host with userinfo", RAW("GET / HTTP/1.1\r\nHost: u@a\r\n\r\n"), -400},
    {"Content-Length over max_body",
     RAW("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1048577\r\n\r\n"), -413},
    {"Content-Length UINT64_MAX",
     RAW("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551615\r\n\r\n"), -413},
};

/* Request smuggling, RFC 9112 6 and 11.2: all refused. */
static const struct req_case smuggling[] = {
    {"CL and TE",
     RAW("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n"
	 "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
     -400},
    {"TE and CL",
     RAW("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
	 "Content-Length: 4\r\n\r\n0\r\n\r\n"),
     -400},
    {"two Content-Lengths",
     RAW("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n"
	 "Content-Length: 5\r\n\r\nabcde"),
     -400},
    {"Content-Length list", RAW("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4, 5\r\n\r\n"),
     -400},
    {"Content-Length empty element",
     RAW("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4,,4\r\n\r\n"), -400},
    {"Content-Length empty", RAW("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n"), -400},
    {"Content-Length sign", RAW("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +4\r\n\r\n"), -400},
    {"Content-Length negative", RAW("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"),
     -400},
    {"Content-Length hex", RAW("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n"), -400},
    {"Content-Length inner space", RAW("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 2\r\n\r\n"),
     -400},
    {"Content-Length overflow",
     RAW("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551616\r\n\r\n"), -400},
    {"Content-Length huge",
     RAW("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n"), -400},
    {"TE chunked twice",
     RAW("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n"), -400},
    {"TE chunked in two fields",
     RAW("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
	 "Transfer-Encoding: chunked\r\n\r\n"),
     -400},
    {"TE chunked not last",
     RAW("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"), -400},
    {"TE chunked then identity",
     RAW("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
	 "Transfer-Encoding: identity\r\n\r\n"),
     -400},
    {"TE gzip only", RAW("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n"), -400},
    {"TE identity", RAW("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n"), -400},
    {"TE xchunked", RAW("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n"), -400},
    {"TE chunked with parameter",
     RAW("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;q=1\r\n\r\n"), -400},
    {"TE quoted", RAW("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \"chunked\"\r\n\r\n"),
     -400},
    {"TE empty", RAW("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n"), -400},
    {"TE trailing comma", RAW("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked,\r\n\r\n"),
     -400},
    {"TE in HTTP/1.0", RAW("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), -400},
    {"TE gzip, chunked (501)",
     RAW("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), -501},
    {"TE gzip then chunked fields (501)",
     RAW("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n"
	 "Transfer-Encoding: chunked\r\n\r\n"),
     -501},
    {"obs-fold", RAW("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n chunked\r\n\r\n"), -400},
    {"obs-fold with tab", RAW("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n\tb\r\n\r\n"), -400},
    {"space before colon", RAW("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n"),
     -400},
    {"tab before colon", RAW("POST / HTTP/1.1\r\nHost: a\r\nContent-Length\t: 4\r\n\r\n"), -400},
    {"space before name", RAW("POST / HTTP/1.1\r\n Content-Length: 4\r\nHost: a\r\n\r\n"), -400},
    {"bare LF lines", RAW("POST / HTTP/1.1\nHost: a\nContent-Length: 3\n\nabc"), -400},
    {"bare CR line end", RAW("POST / HTTP/1.1\r\nHost: a\rContent-Length: 3\r\n\r\nabc"), -400},
    {"NUL in a name", RAW("POST / HTTP/1.1\r\nHost: a\r\nContent-Length\0x: 3\r\n\r\nabc"), -400},
    {"vertical tab in value",
     RAW("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \x0b"
	 "chunked\r\n\r\n"),
     -400},
    {"form feed in value", RAW("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\x0c\r\n\r\nabc"),
     -400},
};

static void feed(struct vk_http_request *req, const char *p, size_t n, int *rc, size_t *total)
{
	size_t c = (size_t)-1;

	*rc = vk_http_request_parse(req, p, n, &c);
	ck_assert_uint_le(c, n);
	if (*rc == 0)
		ck_assert_uint_eq(c, n);
	*total += c;
}

/* Parse c->raw in two pieces cut at `cut` (or one byte at a time when
 * bytewise); returns the final status and the bytes consumed. */
static int parse_pieces(const struct req_case *c, struct vk_http_request *req, char *buf,
			size_t cap, size_t cut, bool bytewise, size_t *consumed)
{
	struct vk_http_limits l = vk_http_limits_default;
	int rc = 0;

	l.flags = c->flags;
	vk_http_request_init(req, buf, cap, &l);
	*consumed = 0;
	if (bytewise) {
		for (size_t i = 0; i < c->len && rc == 0; i++)
			feed(req, c->raw + i, 1, &rc, consumed);
		return rc;
	}
	feed(req, c->raw, cut, &rc, consumed);
	if (rc == 0)
		feed(req, c->raw + cut, c->len - cut, &rc, consumed);
	return rc;
}

/*
 * Like parse_pieces(), but the head starts in a 16-byte buffer that is
 * doubled (vk_http_request_grow()) every time the parser stops for a full
 * buffer, up to cap: the result must not change.
 */
static int parse_growing(const struct req_case *c, struct vk_http_request *req, size_t cap,
			 size_t cut, bool bytewise, size_t *consumed)
{
	static char bufs[10][4096];
	struct vk_http_limits l = vk_http_limits_default;
	size_t size = 16;
	size_t pos = 0;
	int k = 0;
	int rc = 0;

	l.flags = c->flags;
	vk_http_request_init(req, bufs[0], size, &l);
	*consumed = 0;
	while (rc == 0 && pos < c->len) {
		size_t end = bytewise ? pos + 1 : pos < cut ? cut : c->len;
		size_t got = 0;

		feed(req, c->raw + pos, end - pos, &rc, &got);
		pos += got;
		*consumed += got;
		if (rc < 0 && vk_http_request_full(req) && size < cap) {
			size *= 2;
			ck_assert_int_eq(vk_http_request_grow(req, bufs[++k], size), 0);
			ck_assert(!vk_http_request_full(req));
			rc = 0;
		}
	}
	return rc;
}

static void check_request(const struct req_case *c, const struct vk_http_request *req, int rc,
			  size_t consumed, const char *mode, size_t cut)
{
	size_t head_len = c->head_len ? c->head_len : c->len;

	ck_assert_msg(rc == c->rc, "%s [%s %zu]: rc %d, expected %d", c->what, mode, cut, rc,
		      c->rc);
	if (rc == 0)
		ck_assert_msg(consumed == c->len, "%s [%s %zu]: consumed %zu of %zu", c->what, mode,
			      cut, consumed, c->len);
	if (rc != 1)
		return;
	ck_assert_msg(consumed == head_len, "%s [%s %zu]: consumed %zu, head is %zu", c->what, mode,
		      cut, consumed, head_len);
	ck_assert_msg(req->method == c->method, "%s: method %d", c->what, req->method);
	if (c->method_str)
		ck_assert_str_eq(vk_http_request_method_str(req), c->method_str);
	ck_assert_str_eq(vk_http_request_target(req), c->target);
	ck_assert_uint_eq(req->target_len, strlen(c->target));
	ck_assert_int_eq(req->version, c->version);
	ck_assert_int_eq(req->has_content_length, c->cl != NO_CL);
	if (c->cl != NO_CL)
		ck_assert_uint_eq(req->content_length, (uint64_t)c->cl);
	ck_assert_msg(req->chunked == c->chunked, "%s: chunked %d", c->what, req->chunked);
	ck_assert_msg(req->keep_alive == c->keep_alive, "%s: keep_alive %d", c->what,
		      req->keep_alive);
	ck_assert_msg(req->expect_continue == c->expect_continue, "%s: expect %d", c->what,
		      req->expect_continue);
	ck_assert_msg(req->has_host == c->has_host, "%s: has_host %d", c->what, req->has_host);
	ck_assert_int_eq(req->nfields, c->nfields);
	ck_assert_int_eq(vk_http_request_body(req), c->body);
	for (size_t i = 0; i < 4 && c->hdrs[i].name; i++) {
		const char *v = vk_http_header(req, c->hdrs[i].name);

		if (!c->hdrs[i].value) {
			ck_assert_msg(v == NULL, "%s: %s present", c->what, c->hdrs[i].name);
			continue;
		}
		ck_assert_msg(v != NULL, "%s: %s missing", c->what, c->hdrs[i].name);
		ck_assert_str_eq(v, c->hdrs[i].value);
	}
}

/* Whole, every two-piece split, byte by byte. */
static void run_request_case(const struct req_case *c)
{
	static char buf[4096];
	struct vk_http_request req;
	size_t consumed;
	int rc;

	rc = parse_pieces(c, &req, buf, sizeof(buf), c->len, false, &consumed);
	check_request(c, &req, rc, consumed, "whole", c->len);
	for (size_t cut = 0; cut <= c->len; cut++) {
		rc = parse_pieces(c, &req, buf, sizeof(buf), cut, false, &consumed);
		check_request(c, &req, rc, consumed, "cut", cut);
	}
	rc = parse_pieces(c, &req, buf, sizeof(buf), 0, true, &consumed);
	check_request(c, &req, rc, consumed, "bytewise", 0);
	/* A head that outgrows its buffer moves on, with the same result. */
	rc = parse_growing(c, &req, sizeof(buf), c->len, false, &consumed);
	check_request(c, &req, rc, consumed, "growing", c->len);
	for (size_t cut = 0; cut <= c->len; cut += 7) {
		rc = parse_growing(c, &req, sizeof(buf), cut, false, &consumed);
		check_request(c, &req, rc, consumed, "growing cut", cut);
	}
	rc = parse_growing(c, &req, sizeof(buf), 0, true, &consumed);
	check_request(c, &req, rc, consumed, "growing bytewise", 0);
}

START_TEST(test_request_table)
{
	run_request_case(&requests[_i]);
}
END_TEST

START_TEST(test_smuggling_table)
{
	ck_assert_int_lt(smuggling[_i].rc, 0);
	run_request_case(&smuggling[_i]);
}
END_TEST

/* A server loop: read the stream in pieces cut at `cut`, hand each piece
 * to the parser, carry what it did not consume over to the next request,
 * skip Content-Length bodies. Records the targets seen. */
static int serve(const char *stream, size_t len, size_t cut, char targets[][16], int max)
{
	struct vk_http_request req;
	char buf[512];
	size_t pieces[2][2] = {{0, cut}, {cut, len - cut}};
	uint64_t skip = 0;
	int n = 0;

	vk_http_request_init(&req, buf, sizeof(buf), NULL);
	for (int k = 0; k < 2; k++) {
		const char *p = stream + pieces[k][0];
		size_t left = pieces[k][1];

		while (left > 0) {
			size_t c;
			int rc;

			if (skip) {
				c = skip < left ? (size_t)skip : left;
				skip -= c;
				p += c;
				left -= c;
				continue;
			}
			rc = vk_http_request_parse(&req, p, left, &c);
			ck_assert_int_ge(rc, 0);
			p += c;
			left -= c;
			if (rc == 0)
				continue;
			ck_assert_int_lt(n, max);
			snprintf(targets[n++], 16, "%s", vk_http_request_target(&req));
			if (vk_http_request_body(&req) == VK_HTTP_BODY_LENGTH)
				skip = req.content_length;
			vk_http_request_init(&req, buf, sizeof(buf), NULL);
		}
	}
	return n;
}

/* Parse one whole head with default limits. */
static int parse_one(const char *head, struct vk_http_request *req)
{
	static char buf[4096];
	size_t c;

	vk_http_request_init(req, buf, sizeof(buf), NULL);
	return vk_http_request_parse(req, head, strlen(head), &c);
}

/* RFC 9112 3.2, RFC 3986 3.2.2: Host is host [":" port]. */
START_TEST(test_host_values)
{
	static const char *const good[] = {
	    "a",
	    "a:80",
	    "a:",
	    "",
	    ":80",
	    "1.2.3.4:5",
	    "%41b.example",
	    "a-b_c~d!$&'()*+,;=",
	    "[::1]",
	    "[::1]:8080",
	    "[2001:db8::7]",
	    "[::ffff:1.2.3.4]:1",
	    "[v1.x:y]",
	    "[V7f.a]",
	};
	static const char *const bad[] = {
	    "t:abc",	 "t:80:80", "t%zz", "t%4",    "t%",    "[::1",	"[::1]x",
	    "[::1]:8x",	 "[zz::1]", "::1",  "[]",     "[v1]",  "[v.x]", "[vz.x]",
	    "[1.2.3.4]", "a[b]",    "a]",   "[::1]]", "a:8 0",
	};
	struct vk_http_request req;
	char head[256];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(head, sizeof(head), "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", good[i]);
		ck_assert_msg(parse_one(head, &req) == 1, "Host: %s refused", good[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(head, sizeof(head), "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", bad[i]);
		ck_assert_msg(parse_one(head, &req) == -400, "Host: %s accepted", bad[i]);
	}
}
END_TEST

/* RFC 9110 10.1.1: 100-continue anywhere in the Expect list, in any case. */
START_TEST(test_expect_list)
{
	static const struct {
		const char *value;
		bool expect;
	} cases[] = {
	    {"100-continue", true},
	    {"100-Continue, x-other", true},
	    {"x-other, 100-CONTINUE", true},
	    {"x-a,100-continue,x-b", true},
	    {" ,100-continue", true},
	    {"100-continued", false},
	    {"x-100-continue", false},
	    {"100-continue=1", false},
	    {"", false},
	};
	struct vk_http_request req;
	char head[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(head, sizeof(head),
			 "POST / HTTP/1.1\r\nHost: a\r\nExpect: %s\r\nContent-Length: 1\r\n\r\n",
			 cases[i].value);
		ck_assert_int_eq(parse_one(head, &req), 1);
		ck_assert_msg(req.expect_continue == cases[i].expect, "Expect: %s gave %d",
			      cases[i].value, req.expect_continue);
	}
	/* Not from HTTP/1.0, list or not. */
	ck_assert_int_eq(parse_one("POST / HTTP/1.0\r\nExpect: x, 100-continue\r\n"
				   "Content-Length: 1\r\n\r\n",
				   &req),
			 1);
	ck_assert(!req.expect_continue);
}
END_TEST

START_TEST(test_pipelined)
{
	static const char two[] = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
				  "GET /b HTTP/1.1\r\nHost: h\r\n\r\n";
	static const char stream[] =
	    "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n"
	    "POST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nG\r\n\r\n"
	    "\r\nGET /3 HTTP/1.1\r\nHost: h\r\n\r\n"
	    "HEAD /4 HTTP/1.0\r\n\r\n";
	struct vk_http_request req;
	char buf[512];
	char targets[8][16];
	size_t c;

	/* *consumed stops exactly at the end of the first head. */
	vk_http_request_init(&req, buf, sizeof(buf), NULL);
	ck_assert_int_eq(vk_http_request_parse(&req, two, sizeof(two) - 1, &c), 1);
	ck_assert_uint_eq(c, 28);
	ck_assert_str_eq(vk_http_request_target(&req), "/a");
	/* Once done, it stays done and consumes nothing. */
	ck_assert_int_eq(vk_http_request_parse(&req, two + c, sizeof(two) - 1 - c, &c), 1);
	ck_assert_uint_eq(c, 0);
	vk_http_request_init(&req, buf, sizeof(buf), NULL);
	ck_assert_int_eq(vk_http_request_parse(&req, two + 28, sizeof(two) - 1 - 28, &c), 1);
	ck_assert_uint_eq(c, 28);
	ck_assert_str_eq(vk_http_request_target(&req), "/b");

	/* Byte by byte, the head completes on its last byte. */
	vk_http_request_init(&req, buf, sizeof(buf), NULL);
	for (size_t i = 0; i < 27; i++) {
		ck_assert_int_eq(vk_http_request_parse(&req, two + i, 1, &c), 0);
		ck_assert_uint_eq(c, 1);
	}
	ck_assert_int_eq(vk_http_request_parse(&req, two + 27, 2, &c), 1);
	ck_assert_uint_eq(c, 1);

	/* A body that looks like a request, an empty line between requests,
	 * every read boundary. */
	for (size_t cut = 0; cut < sizeof(stream); cut++) {
		int n = serve(stream, sizeof(stream) - 1, cut, targets, 8);

		ck_assert_int_eq(n, 4);
		ck_assert_str_eq(targets[0], "/1");
		ck_assert_str_eq(targets[1], "/2");
		ck_assert_str_eq(targets[2], "/3");
		ck_assert_str_eq(targets[3], "/4");
	}
}
END_TEST

static int parse_with(const char *s, size_t len, size_t cap, const struct vk_http_limits *l,
		      struct vk_http_request *req, char *buf)
{
	size_t c;

	vk_http_request_init(req, buf, cap, l);
	return vk_http_request_parse(req, s, len, &c);
}

/* ---- what an app routes on: the path of each target form ---- */

static const struct {
	const char *line; /* request line, CRLF and Host added */
	const char *path; /* NULL: no path */
} paths[] = {
    {"GET / HTTP/1.1", "/"},
    {"GET /echo HTTP/1.1", "/echo"},
    {"GET /a/b?c=d&e HTTP/1.1", "/a/b"},
    {"GET /?x HTTP/1.1", "/"},
    {"GET /a?b?c HTTP/1.1", "/a"},
    {"GET http://h/ HTTP/1.1", "/"},
    {"GET http://h HTTP/1.1", "/"},
    {"GET http://h?q HTTP/1.1", "/"},
    {"GET http://h:8080/echo?q=/x HTTP/1.1", "/echo"},
    {"GET HTTPS://user@h/a/b HTTP/1.1", "/a/b"},
    {"GET urn:x/y HTTP/1.1", "x/y"},
    {"OPTIONS * HTTP/1.1", "*"},
    {"CONNECT h:443 HTTP/1.1", NULL},
};

START_TEST(test_request_path)
{
	char in[256], buf[512];
	struct vk_http_request req;
	const char *path;
	size_t len = 99;
	int n = snprintf(in, sizeof(in), "%s\r\nHost: h\r\n\r\n", paths[_i].line);

	ck_assert_int_eq(parse_with(in, (size_t)n, sizeof(buf), NULL, &req, buf), 1);
	path = vk_http_request_path(&req, &len);
	if (!paths[_i].path) {
		ck_assert_uint_eq(len, 0);
		return;
	}
	ck_assert_msg(len == strlen(paths[_i].path) && memcmp(path, paths[_i].path, len) == 0,
		      "%s: path '%.*s', want '%s'", paths[_i].line, (int)len, path, paths[_i].path);
}
END_TEST

/* Empty lines before a request are skipped and start nothing; a byte does. */
START_TEST(test_request_started)
{
	static const struct {
		const char *in;
		bool started;
	} cases[] = {
	    {"", false},
	    {"\r", false},
	    {"\r\n", false},
	    {"\r\n\r\n\r", false},
	    {"G", true},
	    {"\r\nGET / HT", true},
	    {"GET / HTTP/1.1\r\n", true},
	    {"GET / HTTP/1.1\r\nHost: a\r\n\r\n", true},
	};
	char buf[256];
	struct vk_http_request req;
	size_t used;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		vk_http_request_init(&req, buf, sizeof(buf), NULL);
		vk_http_request_parse(&req, cases[i].in, strlen(cases[i].in), &used);
		ck_assert_msg(vk_http_request_started(&req) == cases[i].started, "'%s'",
			      cases[i].in);
	}
}
END_TEST

/* A method that can no longer be a token is refused before its line ends. */
START_TEST(test_request_early_400)
{
	static const struct {
		const char *in;
		size_t len;
		int rc;
	} cases[] = {
	    {"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11, -400}, /* TLS ClientHello */
	    {" GET", 4, -400},
	    {"GE@", 3, -400},
	    {"\r", 1, 0},
	    {"\rG", 2, -400},
	    {"GET", 3, 0},
	    {"GET /\x01", 6, 0}, /* the target is checked when the line ends */
	    {"FOO-BAR.1~", 10, 0},
	};
	char buf[256];
	struct vk_http_request req;
	size_t used;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		vk_http_request_init(&req, buf, sizeof(buf), NULL);
		ck_assert_msg(vk_http_request_parse(&req, cases[i].in, cases[i].len, &used) ==
				  cases[i].rc,
			      "case %zu", i);
	}
}
END_TEST

/* Build "GET /<pad> HTTP/1.1\r\n" + "Host: a\r\n" + extra + "\r\n". */
static size_t build(char *out, size_t path_len, const char *extra)
{
	size_t n = 0;

	n += (size_t)sprintf(out, "GET /");
	memset(out + n, 'p', path_len);
	n += path_len;
	n += (size_t)sprintf(out + n, " HTTP/1.1\r\nHost: a\r\n%s\r\n", extra);
	return n;
}

START_TEST(test_limits_line)
{
	struct vk_http_limits l = vk_http_limits_default;
	struct vk_http_request req;
	static char buf[20000];
	static char s[20000];
	size_t n;

	ck_assert_uint_eq(vk_http_limits_default.max_line, 8192);
	ck_assert_uint_eq(vk_http_limits_default.max_headers, 100);
	ck_assert_uint_eq(vk_http_limits_default.max_body, 1048576);

	/* Request line of exactly max_line bytes with its CRLF: "GET /" + pad
	 * + " HTTP/1.1\r\n" is 16 + pad. */
	l.max_line = 64;
	n = build(s, 64 - 16, "");
	ck_assert_int_eq(parse_with(s, n, sizeof(buf), &l, &req, buf), 1);
	ck_assert_uint_eq(req.target_len, 64 - 16 + 1);
	n = build(s, 64 - 16 + 1, "");
	ck_assert_int_eq(parse_with(s, n, sizeof(buf), &l, &req, buf), -414);

	/* A field line at and over max_line. */
	memset(s, 0, sizeof(s));
	strcpy(s, "GET / HTTP/1.1\r\nHost: a\r\nX: ");
	n = strlen(s);
	memset(s + n, 'v', 64 - 5);
	strcpy(s + n + 64 - 5, "\r\n\r\n");
	ck_assert_int_eq(parse_with(s, strlen(s), sizeof(buf), &l, &req, buf), 1);
	ck_assert_uint_eq(strlen(vk_http_header(&req, "x")), 64 - 5);
	memset(s + n, 'v', 64 - 4);
	strcpy(s + n + 64 - 4, "\r\n\r\n");
	ck_assert_int_eq(parse_with(s, strlen(s), sizeof(buf), &l, &req, buf), -431);

	/* Default: an 8 KiB URI is refused with 414 even in a large buffer. */
	n = build(s, 8192, "");
	ck_assert_int_eq(parse_with(s, n, sizeof(buf), NULL, &req, buf), -414);
	/* Found without waiting for the end of the line. */
	ck_assert_int_eq(parse_with(s, 8300, sizeof(buf), NULL, &req, buf), -414);
}
END_TEST

START_TEST(test_limits_cap)
{
	struct vk_http_limits l = vk_http_limits_default;
	struct vk_http_request req;
	static char buf[70000], buf2[512], buf3[VK_HTTP_MAX_HEAD];
	char s[512];
	size_t n = build(s, 10, "X-A: 0123456789\r\nX-B: 0123456789\r\n");
	size_t c;

	/* The whole head in exactly cap bytes parses; one byte less does not. */
	ck_assert_int_eq(parse_with(s, n, n, NULL, &req, buf), 1);
	ck_assert_int_eq(parse_with(s, n, n - 1, NULL, &req, buf), -431);
	/* The request line bigger than the buffer is a long URI. */
	ck_assert_int_eq(parse_with(s, n, 20, NULL, &req, buf), -414);
	/* Byte by byte: the error comes on the byte that does not fit. */
	vk_http_request_init(&req, buf, n - 1, NULL);
	for (size_t i = 0; i < n - 3; i++)
		ck_assert_int_eq(vk_http_request_parse(&req, s + i, 1, &c), 0);
	ck_assert_int_eq(vk_http_request_parse(&req, s + n - 3, 3, &c), -431);
	/* The bytes that fit were taken: one is left. */
	ck_assert_uint_eq(c, 2);
	/* The error sticks. */
	ck_assert_int_eq(vk_http_request_parse(&req, "\r\n", 2, &c), -431);
	ck_assert_uint_eq(c, 0);
	/* ... until the head moves to a larger buffer: then it goes on. */
	ck_assert(vk_http_request_full(&req));
	ck_assert_int_eq(vk_http_request_grow(&req, buf2, n - 1), -EINVAL);
	ck_assert_int_eq(vk_http_request_grow(&req, buf2, n), 0);
	ck_assert_int_eq(vk_http_request_parse(&req, s + n - 1, 1, &c), 1);
	ck_assert_uint_eq(c, 1);
	ck_assert_str_eq(vk_http_header(&req, "X-B"), "0123456789");
	/* cap is clamped so that 16-bit offsets cannot wrap. */
	vk_http_request_init(&req, buf, sizeof(buf), NULL);
	ck_assert_uint_eq(req.cap, VK_HTTP_MAX_HEAD);
	/* A line over max_line is final: no buffer would help. */
	l.max_line = 20;
	vk_http_request_init(&req, buf, 64, &l);
	ck_assert_int_eq(vk_http_request_parse(&req, s, n, &c), -414);
	ck_assert(!vk_http_request_full(&req));
	ck_assert_int_eq(vk_http_request_grow(&req, buf2, 128), 0);
	ck_assert_int_eq(vk_http_request_parse(&req, s + c, n - c, &c), -414);
	ck_assert_uint_eq(c, 0);
	/* Both bounds at once: the limit decides, not the buffer. */
	vk_http_request_init(&req, buf, 20, &l);
	ck_assert_int_eq(vk_http_request_parse(&req, s, n, &c), -414);
	ck_assert(!vk_http_request_full(&req));
	/* A head of 64 KiB, its last field ending on the last byte, parses. */
	l = vk_http_limits_default;
	l.max_line = VK_HTTP_MAX_HEAD;
	n = (size_t)sprintf(buf3, "GET / HTTP/1.1\r\nHost: a\r\nX: ");
	memset(buf3 + n, 'v', VK_HTTP_MAX_HEAD - n - 4);
	memcpy(buf3 + VK_HTTP_MAX_HEAD - 4, "\r\n\r\n", 4);
	vk_http_request_init(&req, buf, sizeof(buf), &l);
	ck_assert_int_eq(vk_http_request_parse(&req, buf3, VK_HTTP_MAX_HEAD, &c), 1);
	ck_assert_uint_eq(strlen(vk_http_header(&req, "X")), VK_HTTP_MAX_HEAD - n - 4);
}
END_TEST

static size_t build_fields(char *s, int nfields)
{
	size_t n = (size_t)sprintf(s, "GET / HTTP/1.1\r\nHost: a\r\n");

	for (int i = 1; i < nfields; i++)
		n += (size_t)sprintf(s + n, "X-%d: %d\r\n", i, i);
	n += (size_t)sprintf(s + n, "\r\n");
	return n;
}

START_TEST(test_limits_headers)
{
	struct vk_http_limits l = vk_http_limits_default;
	struct vk_http_request req;
	static char buf[8192];
	static char s[8192];
	size_t n;

	l.max_headers = 3;
	n = build_fields(s, 3);
	ck_assert_int_eq(parse_with(s, n, sizeof(buf), &l, &req, buf), 1);
	ck_assert_int_eq(req.nfields, 3);
	ck_assert_str_eq(vk_http_header(&req, "x-2"), "2");
	n = build_fields(s, 4);
	ck_assert_int_eq(parse_with(s, n, sizeof(buf), &l, &req, buf), -431);

	n = build_fields(s, 100);
	ck_assert_int_eq(parse_with(s, n, sizeof(buf), NULL, &req, buf), 1);
	ck_assert_int_eq(req.nfields, 100);
	ck_assert_str_eq(vk_http_header(&req, "X-99"), "99");
	n = build_fields(s, 101);
	ck_assert_int_eq(parse_with(s, n, sizeof(buf), NULL, &req, buf), -431);

	/* More than the array holds is clamped, not an overflow. */
	l.max_headers = 1000;
	ck_assert_int_eq(parse_with(s, n, sizeof(buf), &l, &req, buf), -431);
}
END_TEST

START_TEST(test_limits_body)
{
	struct vk_http_limits l = vk_http_limits_default;
	struct vk_http_request req;
	char buf[512];
	static const char s[] = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n";
	static const char both[] = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n"
				   "Transfer-Encoding: chunked\r\n\r\n";

	l.max_body = 100;
	ck_assert_int_eq(parse_with(s, sizeof(s) - 1, sizeof(buf), &l, &req, buf), 1);
	ck_assert_uint_eq(req.content_length, 100);
	l.max_body = 99;
	ck_assert_int_eq(parse_with(s, sizeof(s) - 1, sizeof(buf), &l, &req, buf), -413);
	/* Smuggling outranks size: 400 before 413. */
	l.max_body = 0;
	ck_assert_int_eq(parse_with(both, sizeof(both) - 1, sizeof(buf), &l, &req, buf), -400);
}
END_TEST

/* Every byte value at every position of values and targets of many
 * lengths: the word-at-a-time scans must agree with the byte rules. */
static bool value_byte_ok(unsigned c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

START_TEST(test_value_bytes)
{
	struct vk_http_request req;
	char buf[512];
	char s[512];
	char want[64];

	for (size_t len = 1; len <= 40; len++) {
		for (size_t at = 0; at < len; at++) {
			for (unsigned c = 0; c < 256; c++) {
				size_t n = (size_t)sprintf(s, "GET / HTTP/1.1\r\nHost: a\r\nX: ");
				size_t vs = n;
				int rc;

				memset(s + n, 'v', len);
				s[n + at] = (char)c;
				n += len;
				n += (size_t)sprintf(s + n, "\r\n\r\n");
				rc = parse_with(s, n, sizeof(buf), NULL, &req, buf);
				if (!value_byte_ok(c)) {
					ck_assert_msg(rc == -400, "byte %#x at %zu of %zu: rc %d",
						      c, at, len, rc);
					continue;
				}
				ck_assert_msg(rc == 1, "byte %#x at %zu of %zu: rc %d", c, at, len,
					      rc);
				/* Leading and trailing SP/HTAB are trimmed. */
				memcpy(want, s + vs, len);
				want[len] = '\0';
				if ((c == ' ' || c == '\t') && (at == 0 || at == len - 1)) {
					memmove(want + at, want + at + 1, len - at);
				}
				ck_assert_str_eq(vk_http_header(&req, "x"), want);
			}
		}
	}
}
END_TEST

START_TEST(test_target_bytes)
{
	struct vk_http_request req;
	char buf[512];
	char s[512];
	char want[64];

	for (size_t len = 1; len <= 40; len++) {
		for (size_t at = 1; at < len; at++) {
			for (unsigned c = 0; c < 256; c++) {
				size_t n = (size_t)sprintf(s, "GET /");
				int rc;

				memset(s + n, 't', len);
				s[n + at] = (char)c;
				memcpy(want, s + n - 1, len + 1);
				want[len + 1] = '\0';
				n += len;
				n += (size_t)sprintf(s + n, " HTTP/1.1\r\nHost: a\r\n\r\n");
				rc = parse_with(s, n, sizeof(buf), NULL, &req, buf);
				if (c <= 0x20 || c >= 0x7f) {
					ck_assert_msg(rc == -400, "byte %#x at %zu of %zu: rc %d",
						      c, at, len, rc);
					continue;
				}
				ck_assert_msg(rc == 1, "byte %#x at %zu of %zu: rc %d", c, at, len,
					      rc);
				ck_assert_str_eq(vk_http_request_target(&req), want);
			}
		}
	}
}
END_TEST

/* ---- chunked ---- */

struct chunk_case {
	const char *what;
	const char *raw;
	size_t len;
	int rc;
	const char *body;
	size_t body_len;
	size_t end; /* bytes of raw in the chunked body when rc == 2 (0: all) */
	uint64_t max_body;
};

#define BODY(s) .body = (s), .body_len = sizeof(s) - 1

static const struct chunk_case chunks[] = {
    {"one chunk", RAW("5\r\nhello\r\n0\r\n\r\n"), 2, BODY("hello")},
    {"extensions", RAW("5;a=b\r\nhello\r\n6 ; name=\"q v\" ;x\r\n world\r\n0;last\r\n\r\n"), 2,
     BODY("hello world")},
    {"trailers", RAW("3\r\nabc\r\n0\r\nX-Sum: 1\r\nY:\r\nZ: a b \t\r\n\r\n"), 2, BODY("abc")},
    {"hex sizes", RAW("a\r\n0123456789\r\nA\r\nabcdefghij\r\n0\r\n\r\n"), 2,
     BODY("0123456789abcdefghij")},
    {"leading zeros", RAW("0005\r\nhello\r\n000\r\n\r\n"), 2, BODY("hello")},
    {"empty body", RAW("0\r\n\r\n"), 2, BODY("")},
    {"CRLF inside data", RAW("4\r\n\r\n\r\n\r\n0\r\n\r\n"), 2, BODY("\r\n\r\n")},
    {"NUL and CTL inside data", RAW("3\r\n\0\x01\n\r\n0\r\n\r\n"), 2, BODY("\0\x01\n")},
    {"next request follows", RAW("2\r\nok\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n"), 2, BODY("ok"),
     .end = 12},
    {"incomplete", RAW("5\r\nhel"), 0, BODY("hel")},
    {"incomplete trailers", RAW("1\r\nx\r\n0\r\nA: b\r\n"), 0, BODY("x")},
    {"at max_body", RAW("5\r\n12345\r\n5\r\n67890\r\n0\r\n\r\n"), 2, BODY("1234567890"),
     .max_body = 10},

    {"not hex", RAW("x\r\n"), -400},
    {"no size", RAW("\r\n"), -400},
    {"leading space", RAW(" 5\r\nhello\r\n0\r\n\r\n"), -400},
    {"space without extension", RAW("5 \r\nhello\r\n0\r\n\r\n"), -400},
    {"negative", RAW("-5\r\nhello\r\n0\r\n\r\n"), -400},
    {"0x prefix", RAW("0x5\r\nhello\r\n0\r\n\r\n"), -400},
    {"bare LF after size", RAW("5\nhello\r\n0\r\n\r\n"), -400},
    {"bare CR after size", RAW("5\rhello\r\n0\r\n\r\n"), -400},
    {"data too long", RAW("5\r\nhelloX\r\n0\r\n\r\n"), -400, BODY("hello")},
    {"bare LF after data", RAW("5\r\nhello\n0\r\n\r\n"), -400, BODY("hello")},
    {"no CRLF after data", RAW("5\r\nhello0\r\n\r\n"), -400, BODY("hello")},
    {"junk then LF after data", RAW("5\r\nhelloX\n0\r\n\r\n"), -400, BODY("hello")},
    {"LF LF after data", RAW("5\r\nhello\n\n0\r\n\r\n"), -400, BODY("hello")},
    {"CR CR after data", RAW("5\r\nhello\r\r0\r\n\r\n"), -400, BODY("hello")},
    {"bare LF in extension", RAW("5;a\nb\r\nhello\r\n0\r\n\r\n"), -400},
    {"NUL in extension", RAW("5;a\0\r\nhello\r\n0\r\n\r\n"), -400},
    {"overflow", RAW("10000000000000000\r\n"), -400, .max_body = UINT64_MAX},
    {"too big for max_body", RAW("10000000000000000\r\n"), -413},
    {"total over max_body", RAW("5\r\n12345\r\n6\r\n"), -413, BODY("12345"), .max_body = 10},
    {"chunk over max_body", RAW("b\r\n"), -413, .max_body = 10},
    {"bare LF at the end", RAW("0\r\n\n"), -400},
    {"trailer obs-fold", RAW("0\r\nA: b\r\n c\r\n\r\n"), -400},
    {"trailer space before colon", RAW("0\r\nA : b\r\n\r\n"), -400},
    {"trailer bare LF", RAW("0\r\nA: b\n\r\n"), -400},
    {"trailer empty name", RAW("0\r\n: v\r\n\r\n"), -400},
    {"trailer without colon", RAW("0\r\nAb\r\n\r\n"), -400},
    {"trailer control char", RAW("0\r\nA: \x01\r\n\r\n"), -400},
};

/* Decode c->raw in two pieces cut at `cut` (or bytewise); the decoded
 * bytes are gathered in out. */
static int decode_pieces(const struct chunk_case *c, size_t cut, bool bytewise, char *out,
			 size_t *out_len, size_t *consumed)
{
	struct vk_http_limits l = vk_http_limits_default;
	struct vk_http_chunked ch;
	size_t bounds[3] = {0, cut, c->len};
	int rc = 0;

	if (c->max_body)
		l.max_body = c->max_body;
	vk_http_chunked_init(&ch, &l);
	*out_len = 0;
	*consumed = 0;
	for (size_t i = 0; i < (bytewise ? c->len : 2); i++) {
		size_t pos = bytewise ? i : bounds[i];
		size_t end = bytewise ? i + 1 : bounds[i + 1];

		while (pos < end) {
			const char *data;
			size_t dlen;
			size_t n;

			rc = vk_http_chunked_decode(&ch, c->raw + pos, end - pos, &n, &data, &dlen);
			ck_assert_uint_le(n, end - pos);
			pos += n;
			*consumed += n;
			if (rc == 0) {
				ck_assert_uint_eq(pos, end);
				ck_assert_uint_eq(dlen, 0);
				break;
			}
			if (rc != 1)
				return rc;
			ck_assert_uint_gt(dlen, 0);
			ck_assert_ptr_eq(data + dlen, c->raw + pos);
			memcpy(out + *out_len, data, dlen);
			*out_len += dlen;
		}
	}
	return 0;
}

static void check_chunk(const struct chunk_case *c, int rc, const char *out, size_t out_len,
			size_t consumed, const char *mode, size_t cut)
{
	ck_assert_msg(rc == c->rc, "%s [%s %zu]: rc %d, expected %d", c->what, mode, cut, rc,
		      c->rc);
	if (rc == 2)
		ck_assert_msg(consumed == (c->end ? c->end : c->len), "%s [%s %zu]: consumed %zu",
			      c->what, mode, cut, consumed);
	if (rc >= 0 || c->body) {
		ck_assert_msg(out_len == c->body_len, "%s [%s %zu]: %zu bytes, expected %zu",
			      c->what, mode, cut, out_len, c->body_len);
		ck_assert(memcmp(out, c->body, out_len) == 0);
	}
}

START_TEST(test_chunked_table)
{
	const struct chunk_case *c = &chunks[_i];
	char out[256];
	size_t out_len;
	size_t consumed;
	int rc;

	for (size_t cut = 0; cut <= c->len; cut++) {
		rc = decode_pieces(c, cut, false, out, &out_len, &consumed);
		check_chunk(c, rc, out, out_len, consumed, "cut", cut);
	}
	rc = decode_pieces(c, 0, true, out, &out_len, &consumed);
	check_chunk(c, rc, out, out_len, consumed, "bytewise", 0);
}
END_TEST

START_TEST(test_chunked_limits)
{
	struct vk_http_limits l = vk_http_limits_default;
	struct vk_http_chunked ch;
	static char s[10000];
	const char *data;
	size_t dlen;
	size_t c;

	/* A chunk-size line (with its extension) longer than max_line. */
	l.max_line = 32;
	memset(s, 0, sizeof(s));
	memcpy(s, "1;", 2);
	memset(s + 2, 'e', 28);
	memcpy(s + 30, "\r\n", 2); /* 32 bytes: fits */
	vk_http_chunked_init(&ch, &l);
	ck_assert_int_eq(vk_http_chunked_decode(&ch, s, 32, &c, &data, &dlen), 0);
	ck_assert_uint_eq(c, 32);
	memset(s + 2, 'e', 29);
	memcpy(s + 31, "\r\n", 2); /* 33 bytes */
	vk_http_chunked_init(&ch, &l);
	ck_assert_int_eq(vk_http_chunked_decode(&ch, s, 33, &c, &data, &dlen), -400);
	/* The error sticks. */
	ck_assert_int_eq(vk_http_chunked_decode(&ch, "0\r\n\r\n", 5, &c, &data, &dlen), -400);
	ck_assert_uint_eq(c, 0);

	/* Too many trailer fields. */
	l = vk_http_limits_default;
	l.max_headers = 2;
	vk_http_chunked_init(&ch, &l);
	ck_assert_int_eq(
	    vk_http_chunked_decode(&ch, "0\r\nA: 1\r\nB: 2\r\n\r\n", 17, &c, &data, &dlen), 2);
	ck_assert_uint_eq(c, 17);
	vk_http_chunked_init(&ch, &l);
	ck_assert_int_eq(
	    vk_http_chunked_decode(&ch, "0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", 23, &c, &data, &dlen),
	    -400);

	/* Default max_body: 1 MiB exactly passes, one more byte is 413. */
	vk_http_chunked_init(&ch, NULL);
	ck_assert_int_eq(vk_http_chunked_decode(&ch, "100000\r\n", 8, &c, &data, &dlen), 0);
	vk_http_chunked_init(&ch, NULL);
	ck_assert_int_eq(vk_http_chunked_decode(&ch, "100001\r\n", 8, &c, &data, &dlen), -413);
	/* Done stays done. */
	vk_http_chunked_init(&ch, NULL);
	ck_assert_int_eq(vk_http_chunked_decode(&ch, "0\r\n\r\nxyz", 8, &c, &data, &dlen), 2);
	ck_assert_uint_eq(c, 5);
	ck_assert_int_eq(vk_http_chunked_decode(&ch, "xyz", 3, &c, &data, &dlen), 2);
	ck_assert_uint_eq(c, 0);
}
END_TEST

/* ---- responses ---- */

START_TEST(test_reason)
{
	ck_assert_str_eq(vk_http_reason(100), "Continue");
	ck_assert_str_eq(vk_http_reason(200), "OK");
	ck_assert_str_eq(vk_http_reason(204), "No Content");
	ck_assert_str_eq(vk_http_reason(304), "Not Modified");
	ck_assert_str_eq(vk_http_reason(400), "Bad Request");
	ck_assert_str_eq(vk_http_reason(404), "Not Found");
	ck_assert_str_eq(vk_http_reason(413), "Content Too Large");
	ck_assert_str_eq(vk_http_reason(414), "URI Too Long");
	ck_assert_str_eq(vk_http_reason(431), "Request Header Fields Too Large");
	ck_assert_str_eq(vk_http_reason(500), "Internal Server Error");
	ck_assert_str_eq(vk_http_reason(501), "Not Implemented");
	ck_assert_str_eq(vk_http_reason(505), "HTTP Version Not Supported");
	ck_assert_str_eq(vk_http_reason(299), "");
	ck_assert_str_eq(vk_http_reason(0), "");
	ck_assert_str_eq(vk_http_reason(-1), "");
}
END_TEST

static void check_date(time_t t)
{
	char want[64];
	struct tm tm;

	gmtime_r(&t, &tm);
	/* %a and %b are locale-dependent; the test runs in the C locale. */
	ck_assert_uint_eq(strftime(want, sizeof(want), "%a, %d %b %Y %H:%M:%S GMT", &tm), 29);
	ck_assert_str_eq(vk_http_date(t), want);
}

START_TEST(test_date)
{
	const char *a;

	ck_assert_str_eq(vk_http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
	ck_assert_uint_eq(strlen(vk_http_date(784111777)), VK_HTTP_DATE_LEN);
	check_date(0);
	check_date(951782400); /* 2000-02-29 */
	check_date(1700000000);
	check_date(1709251199); /* 2024-02-29 23:59:59 */
	check_date(4102444800); /* 2100-01-01 */
	check_date(253402300799);
	ck_assert_str_eq(vk_http_date(-1), "Thu, 01 Jan 1970 00:00:00 GMT");
	ck_assert_str_eq(vk_http_date(253402300800), "Fri, 31 Dec 9999 23:59:59 GMT");

	/* Cached per second, refreshed when the second changes. */
	a = vk_http_date(1700000000);
	ck_assert_str_eq(a, "Tue, 14 Nov 2023 22:13:20 GMT");
	ck_assert_ptr_eq(vk_http_date(1700000000), a);
	ck_assert_str_eq(vk_http_date(1700000001), "Tue, 14 Nov 2023 22:13:21 GMT");
	ck_assert_str_eq(vk_http_date(1700000000), "Tue, 14 Nov 2023 22:13:20 GMT");
}
END_TEST

START_TEST(test_out_response)
{
	static const char want[] = "HTTP/1.1 200 OK\r\n"
				   "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
				   "Content-Type: text/plain\r\n"
				   "Content-Length: 13\r\n"
				   "\r\n"
				   "Hello, world!";
	struct vk_http_out out;
	char buf[256];

	vk_http_out_init(&out, buf, sizeof(buf));
	ck_assert_int_eq(vk_http_out_status(&out, 200), 0);
	ck_assert_int_eq(vk_http_out_date(&out, 784111777), 0);
	ck_assert_int_eq(
	    vk_http_out_header(&out, VK_HTTP_S("Content-Type"), VK_HTTP_S("text/plain")), 0);
	ck_assert_int_eq(vk_http_out_header_u64(&out, VK_HTTP_S("Content-Length"), 13), 0);
	ck_assert_int_eq(vk_http_out_end(&out), 0);
	ck_assert_int_eq(vk_http_out_bytes(&out, "Hello, world!", 13), 0);
	ck_assert_int_eq(out.error, 0);
	ck_assert_uint_eq(out.len, sizeof(want) - 1);
	ck_assert(memcmp(buf, want, out.len) == 0);

	vk_http_out_init(&out, buf, sizeof(buf));
	ck_assert_int_eq(vk_http_out_status(&out, 299), 0);
	ck_assert_int_eq(vk_http_out_header_u64(&out, VK_HTTP_S("A"), 0), 0);
	ck_assert_int_eq(vk_http_out_header_u64(&out, VK_HTTP_S("B"), UINT64_MAX), 0);
	ck_assert_int_eq(vk_http_out_header(&out, VK_HTTP_S("C"), VK_HTTP_S("")), 0);
	ck_assert_uint_eq(out.len, 51);
	ck_assert(memcmp(buf, "HTTP/1.1 299 \r\nA: 0\r\nB: 18446744073709551615\r\nC: \r\n", 51) ==
		  0);

	vk_http_out_init(&out, buf, sizeof(buf));
	ck_assert_int_eq(vk_http_out_status(&out, 404), 0);
	ck_assert_uint_eq(out.len, 24);
	ck_assert(memcmp(buf, "HTTP/1.1 404 Not Found\r\n", 24) == 0);
}
END_TEST

START_TEST(test_out_errors)
{
	struct vk_http_out out;
	char buf[64];

	/* Status out of range. */
	vk_http_out_init(&out, buf, sizeof(buf));
	ck_assert_int_eq(vk_http_out_status(&out, 99), -EINVAL);
	ck_assert_int_eq(vk_http_out_end(&out), -EINVAL); /* sticky */
	ck_assert_uint_eq(out.len, 0);
	vk_http_out_init(&out, buf, sizeof(buf));
	ck_assert_int_eq(vk_http_out_status(&out, 600), -EINVAL);

	/* No response splitting through names or values. */
	vk_http_out_init(&out, buf, sizeof(buf));
	ck_assert_int_eq(vk_http_out_header(&out, VK_HTTP_S("X"), VK_HTTP_S("a\r\nSet-Cookie: x")),
			 -EINVAL);
	vk_http_out_init(&out, buf, sizeof(buf));
	ck_assert_int_eq(vk_http_out_header(&out, VK_HTTP_S("X"), VK_HTTP_S("a\nb")), -EINVAL);
	vk_http_out_init(&out, buf, sizeof(buf));
	ck_assert_int_eq(vk_http_out_header(&out, "X", 1, "a\0b", 3), -EINVAL);
	vk_http_out_init(&out, buf, sizeof(buf));
	ck_assert_int_eq(vk_http_out_header(&out, VK_HTTP_S("X Y"), VK_HTTP_S("v")), -EINVAL);
	vk_http_out_init(&out, buf, sizeof(buf));
	ck_assert_int_eq(vk_http_out_header(&out, VK_HTTP_S("X:"), VK_HTTP_S("v")), -EINVAL);
	vk_http_out_init(&out, buf, sizeof(buf));
	ck_assert_int_eq(vk_http_out_header(&out, VK_HTTP_S(""), VK_HTTP_S("v")), -EINVAL);
	ck_assert_uint_eq(out.len, 0);
	/* Tabs and obs-text are fine in a value. */
	vk_http_out_init(&out, buf, sizeof(buf));
	ck_assert_int_eq(vk_http_out_header(&out, VK_HTTP_S("X"), VK_HTTP_S("a\tb\xc3\xa9")), 0);

	/* Exact fit, then one byte short: nothing written, error sticks. */
	vk_http_out_init(&out, buf, 17);
	ck_assert_int_eq(vk_http_out_status(&out, 200), 0);
	ck_assert_uint_eq(out.len, 17);
	ck_assert_int_eq(vk_http_out_end(&out), -ENOSPC);
	ck_assert_uint_eq(out.len, 17);
	vk_http_out_init(&out, buf, 16);
	ck_assert_int_eq(vk_http_out_status(&out, 200), -ENOSPC);
	ck_assert_uint_eq(out.len, 0);
	vk_http_out_init(&out, buf, 36);
	ck_assert_int_eq(vk_http_out_date(&out, 0), -ENOSPC);
	ck_assert_int_eq(vk_http_out_end(&out), -ENOSPC); /* would fit, but sticky */
	vk_http_out_init(&out, buf, 37);
	ck_assert_int_eq(vk_http_out_date(&out, 0), 0);
	ck_assert_int_eq(vk_http_out_end(&out), -ENOSPC);
	vk_http_out_init(&out, buf, 25);
	ck_assert_int_eq(vk_http_out_header_u64(&out, VK_HTTP_S("Content-Length"), 1234567), 0);
	ck_assert_uint_eq(out.len, 25);
	ck_assert(memcmp(buf, "Content-Length: 1234567\r\n", 25) == 0);
	vk_http_out_init(&out, buf, 24);
	ck_assert_int_eq(vk_http_out_header_u64(&out, VK_HTTP_S("Content-Length"), 1234567),
			 -ENOSPC);
	vk_http_out_init(&out, buf, 4);
	ck_assert_int_eq(vk_http_out_bytes(&out, "abcde", 5), -ENOSPC);
	ck_assert_uint_eq(out.len, 0);
}
END_TEST

static Suite *http_suite(void)
{
	Suite *s = suite_create("http");
	TCase *tc;

	tc = tcase_create("request");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_request_table, 0, sizeof(requests) / sizeof(requests[0]));
	tcase_add_loop_test(tc, test_smuggling_table, 0, sizeof(smuggling) / sizeof(smuggling[0]));
	tcase_add_test(tc, test_pipelined);
	tcase_add_test(tc, test_host_values);
	tcase_add_test(tc, test_expect_list);
	tcase_add_loop_test(tc, test_request_path, 0, sizeof(paths) / sizeof(paths[0]));
	tcase_add_test(tc, test_request_started);
	tcase_add_test(tc, test_request_early_400);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_test(tc, test_limits_line);
	tcase_add_test(tc, test_limits_cap);
	tcase_add_test(tc, test_limits_headers);
	tcase_add_test(tc, test_limits_body);
	suite_add_tcase(s, tc);

	tc = tcase_create("bytes");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_value_bytes);
	tcase_add_test(tc, test_target_bytes);
	suite_add_tcase(s, tc);

	tc = tcase_create("chunked");
	tcase_add_loop_test(tc, test_chunked_table, 0, sizeof(chunks) / sizeof(chunks[0]));
	tcase_add_test(tc, test_chunked_limits);
	suite_add_tcase(s, tc);

	tc = tcase_create("response");
	tcase_add_test(tc, test_reason);
	tcase_add_test(tc, test_date);
	tcase_add_test(tc, test_out_response);
	tcase_add_test(tc, test_out_errors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(http_suite());
}
