/*
 * check_proxy_answer.c - unit tests for proxy.so's upstream answer parser
 * (src/apps/proxy_answer.c): the status line, the fields, the framing
 * (Content-Length, chunked, close-delimited, none) and malformed heads.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "check_run.h"
#include "proxy_answer.h"

/* Parse `len` bytes of `text` (which may hold NULs) from a copy. */
static char copy[70000];

static int parse_n(const char *text, size_t len, struct proxy_answer *a)
{
	ck_assert_uint_le(len, sizeof(copy));
	memcpy(copy, text, len);
	return proxy_answer_parse(copy, len, a);
}

static int parse(const char *text, struct proxy_answer *a)
{
	return parse_n(text, strlen(text), a);
}

START_TEST(test_status_line)
{
	struct proxy_answer a;

	ck_assert_int_eq(parse("HTTP/1.1 200 OK\r\n\r\n", &a), 0);
	ck_assert_int_eq(a.status, 200);
	ck_assert_int_eq(a.version, 11);
	ck_assert_int_eq(a.close, 0);
	ck_assert_int_eq(parse("HTTP/1.0 404 Not Found\r\n\r\n", &a), 0);
	ck_assert_int_eq(a.status, 404);
	ck_assert_int_eq(a.version, 10);
	ck_assert_int_eq(a.close, 1); /* 1.0: no keep-alive to the upstream */
	/* The reason may be empty or missing, and hold tabs and obs-text. */
	ck_assert_int_eq(parse("HTTP/1.1 204\r\n\r\n", &a), 0);
	ck_assert_int_eq(a.status, 204);
	ck_assert_int_eq(parse("HTTP/1.1 500 \r\n\r\n", &a), 0);
	ck_assert_int_eq(parse("HTTP/1.1 200 a\tb \xe9t\xe9\r\n\r\n", &a), 0);
	ck_assert_int_eq(parse("HTTP/1.1 100 Continue\r\n\r\n", &a), 0);
	ck_assert_int_eq(parse("HTTP/1.1 599 X\r\n\r\n", &a), 0);
}
END_TEST

static const char *const bad_status[] = {
    "HTTP/1.1 099 X\r\n\r\n",		 /* below 100 */
    "HTTP/1.1 600 X\r\n\r\n",		 /* above 599: the library cannot send it */
    "HTTP/1.1 999 X\r\n\r\n",		 /* the same */
    "HTTP/1.1 20 X\r\n\r\n",		 /* two digits */
    "HTTP/1.1 2000 X\r\n\r\n",		 /* four */
    "HTTP/1.1  200 X\r\n\r\n",		 /* two spaces */
    "HTTP/1.1 2x0 X\r\n\r\n",		 /* not a number */
    "HTTP/2 200 X\r\n\r\n",		 /* another version */
    "HTTP/1.10 200 X\r\n\r\n",		 /* the same */
    "http/1.1 200 X\r\n\r\n",		 /* the name's case */
    "HTTP/1.1 200 a\x01z\r\n\r\n",	 /* a control byte in the reason */
    "HTTP/1.1\r\n\r\n",			 /* no status */
    "HTTP/1.\r\n\r\n",			 /* cut short */
    "\r\n",				 /* an empty line only */
    "HTTP/1.1 200 OK\n\r\n",		 /* a bare LF */
    "HTTP/1.1 200 O\rK\r\n\r\n",	 /* a bare CR */
    "X-A: 1\r\nHTTP/1.1 200 OK\r\n\r\n", /* a field first */
};

START_TEST(test_status_bad)
{
	struct proxy_answer a;

	ck_assert_msg(parse(bad_status[_i], &a) == -1, "took %s", bad_status[_i]);
}
END_TEST

/* The i-th field of a: its name, or its value when `value`. */
static const char *field(const struct proxy_answer *a, unsigned i, int value)
{
	const char *at = NULL, *n = NULL, *v = NULL;

	for (unsigned k = 0; k <= i; k++)
		ck_assert_int_eq(proxy_answer_next(a, &at, &n, &v), 1);
	return value ? v : n;
}

START_TEST(test_fields)
{
	struct proxy_answer a;
	const char *at = NULL, *n, *v;

	ck_assert_int_eq(parse("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-A:1\r\n"
			       "X-B: \t two words \t\r\nX-Empty:\r\nSet-Cookie: a=b\r\n\r\n",
			       &a),
			 0);
	ck_assert_uint_eq(a.nfields, 5);
	ck_assert_str_eq(field(&a, 0, 0), "Content-Type");
	ck_assert_str_eq(field(&a, 0, 1), "text/html");
	ck_assert_str_eq(a.type, "text/html");
	ck_assert_str_eq(field(&a, 1, 0), "X-A");
	ck_assert_str_eq(field(&a, 1, 1), "1");
	ck_assert_str_eq(field(&a, 2, 1), "two words");
	ck_assert_str_eq(field(&a, 3, 1), "");
	ck_assert_str_eq(field(&a, 4, 0), "Set-Cookie");
	for (unsigned k = 0; k < 5; k++)
		ck_assert_int_eq(proxy_answer_next(&a, &at, &n, &v), 1);
	ck_assert_int_eq(proxy_answer_next(&a, &at, &n, &v), 0);
	ck_assert_int_eq(parse("HTTP/1.1 204 No Content\r\n\r\n", &a), 0);
	at = NULL;
	ck_assert_int_eq(proxy_answer_next(&a, &at, &n, &v), 0);
	ck_assert_int_eq(a.length, -1);
	ck_assert_int_eq(a.chunked, 0);
}
END_TEST

/* Field lines a strict parser refuses: each would let the hop be read two ways. */
static const char *const bad_fields[] = {
    "HTTP/1.1 200 OK\r\nX-A : 1\r\n\r\n",	   /* space before the colon */
    "HTTP/1.1 200 OK\r\n X-A: 1\r\n\r\n",	   /* obs-fold */
    "HTTP/1.1 200 OK\r\nX-A: 1\r\n\tmore\r\n\r\n", /* obs-fold */
    "HTTP/1.1 200 OK\r\nX-A 1\r\n\r\n",		   /* no colon */
    "HTTP/1.1 200 OK\r\n: 1\r\n\r\n",		   /* no name */
    "HTTP/1.1 200 OK\r\nX(A): 1\r\n\r\n",	   /* not a token */
    "HTTP/1.1 200 OK\r\nX-A: 1\nX-B: 2\r\n\r\n",   /* a bare LF */
    "HTTP/1.1 200 OK\r\nX-A: 1\rX-B: 2\r\n\r\n",   /* a bare CR */
    "HTTP/1.1 200 OK\r\nX-A: a\x01z\r\n\r\n",	   /* a control byte */
    "HTTP/1.1 200 OK\r\nX-A: a\x7fz\r\n\r\n",	   /* DEL */
    "HTTP/1.1 200 OK\r\nX-A: 1\r\n",		   /* no empty line */
    "HTTP/1.1 200 OK\r\nX-A: 1",		   /* cut short */
    "HTTP/1.1 200 OK\r\nX-A: 1\r\n\n",		   /* an empty line without CR */
    "HTTP/1.1 200 OK\r\nConnection: a\r\nConnection: b\r\nConnection: c\r\n"
    "Connection: d\r\nConnection: e\r\nConnection: f\r\nConnection: g\r\n"
    "Connection: h\r\nConnection: i\r\n\r\n", /* more Connection fields than kept */
};

START_TEST(test_fields_bad)
{
	struct proxy_answer a;

	ck_assert_msg(parse(bad_fields[_i], &a) == -1, "took %s", bad_fields[_i]);
}
END_TEST

/* A NUL would end the value early in C: what follows it would pass unchecked. */
START_TEST(test_nul)
{
	static const char field[] = "HTTP/1.1 200 OK\r\nX-A: 1\0\r\nContent-Length: 9\r\n\r\n";
	static const char length[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\0 junk\r\n\r\n";
	static const char reason[] = "HTTP/1.1 200 O\0K\r\n\r\n";
	static const char name[] = "HTTP/1.1 200 OK\r\nX\0A: 1\r\n\r\n";
	struct proxy_answer a;

	ck_assert_int_eq(parse_n(field, sizeof(field) - 1, &a), -1);
	ck_assert_int_eq(parse_n(length, sizeof(length) - 1, &a), -1);
	ck_assert_int_eq(parse_n(reason, sizeof(reason) - 1, &a), -1);
	ck_assert_int_eq(parse_n(name, sizeof(name) - 1, &a), -1);
}
END_TEST

START_TEST(test_too_many_fields)
{
	char head[8192];
	size_t len = (size_t)snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\n");
	struct proxy_answer a;

	for (int i = 0; i < PROXY_FIELDS_MAX; i++)
		len += (size_t)snprintf(head + len, sizeof(head) - len, "X-%d: %d\r\n", i, i);
	len += (size_t)snprintf(head + len, sizeof(head) - len, "\r\n");
	ck_assert_int_eq(parse_n(head, len, &a), 0);
	ck_assert_uint_eq(a.nfields, PROXY_FIELDS_MAX);
	len -= 2;
	len += (size_t)snprintf(head + len, sizeof(head) - len, "X-Last: 1\r\n\r\n");
	ck_assert_int_eq(parse_n(head, len, &a), -1);
}
END_TEST

/* A field longer than the old 2048-byte room for a reply's fields. */
START_TEST(test_long_field)
{
	static char head[20000];
	size_t len = (size_t)snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nX-Long: ");
	struct proxy_answer a;

	memset(head + len, 'v', 10000);
	len += 10000;
	len += (size_t)snprintf(head + len, sizeof(head) - len, "\r\n\r\n");
	ck_assert_int_eq(parse_n(head, len, &a), 0);
	ck_assert_uint_eq(strlen(field(&a, 0, 1)), 10000);
}
END_TEST

START_TEST(test_length)
{
	struct proxy_answer a;

	ck_assert_int_eq(parse("HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n", &a), 0);
	ck_assert_int_eq(a.length, 42);
	ck_assert_int_eq(proxy_answer_framing(&a, 0), PROXY_BODY_LENGTH);
	ck_assert_int_eq(parse("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", &a), 0);
	ck_assert_int_eq(a.length, 0);
	ck_assert_int_eq(proxy_answer_framing(&a, 0), PROXY_BODY_LENGTH);
	/* The same length twice, as a list or as two fields: one length. */
	ck_assert_int_eq(parse("HTTP/1.1 200 OK\r\nContent-Length: 7, 7\r\n\r\n", &a), 0);
	ck_assert_int_eq(a.length, 7);
	ck_assert_int_eq(
	    parse("HTTP/1.1 200 OK\r\nContent-Length: 7\r\nContent-Length: 7\r\n\r\n", &a), 0);
	ck_assert_int_eq(a.length, 7);
	ck_assert_int_eq(
	    parse("HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775807\r\n\r\n", &a), 0);
	ck_assert_int_eq(a.length, INT64_MAX);
}
END_TEST

static const char *const bad_length[] = {
    "HTTP/1.1 200 OK\r\nContent-Length: 7, 8\r\n\r\n",
    "HTTP/1.1 200 OK\r\nContent-Length: 7\r\nContent-Length: 8\r\n\r\n",
    "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
    "HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\n",
    "HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n",
    "HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\n",
    "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n",
    "HTTP/1.1 200 OK\r\nContent-Length: ,\r\n\r\n",
    "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\n",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
};

START_TEST(test_length_bad)
{
	struct proxy_answer a;

	ck_assert_msg(parse(bad_length[_i], &a) == -1, "took %s", bad_length[_i]);
}
END_TEST

START_TEST(test_framing)
{
	struct proxy_answer a;

	ck_assert_int_eq(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n", &a), 0);
	ck_assert_int_eq(a.chunked, 1);
	ck_assert_int_eq(proxy_answer_framing(&a, 0), PROXY_BODY_CHUNKED);
	ck_assert_int_eq(proxy_answer_framing(&a, 1), PROXY_BODY_NONE);
	/* Neither: the body ends with the connection, which is not kept. */
	ck_assert_int_eq(parse("HTTP/1.1 200 OK\r\nX-A: 1\r\n\r\n", &a), 0);
	ck_assert_int_eq(proxy_answer_framing(&a, 0), PROXY_BODY_CLOSE);
	ck_assert_int_eq(parse("HTTP/1.0 200 OK\r\n\r\n", &a), 0);
	ck_assert_int_eq(proxy_answer_framing(&a, 0), PROXY_BODY_CLOSE);
	ck_assert_int_eq(a.close, 1);
	/* No body whatever the fields say: HEAD, 1xx, 204, 304. */
	ck_assert_int_eq(parse("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", &a), 0);
	ck_assert_int_eq(proxy_answer_framing(&a, 1), PROXY_BODY_NONE);
	ck_assert_int_eq(parse("HTTP/1.1 204 No Content\r\n\r\n", &a), 0);
	ck_assert_int_eq(proxy_answer_framing(&a, 0), PROXY_BODY_NONE);
	ck_assert_int_eq(parse("HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n\r\n", &a), 0);
	ck_assert_int_eq(proxy_answer_framing(&a, 0), PROXY_BODY_NONE);
	ck_assert_int_eq(parse("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n", &a), 0);
	ck_assert_int_eq(proxy_answer_framing(&a, 0), PROXY_BODY_NONE);
}
END_TEST

START_TEST(test_connection)
{
	struct proxy_answer a;

	ck_assert_int_eq(
	    parse("HTTP/1.1 200 OK\r\nConnection: X-Hop, Close\r\nX-Hop: 1\r\nX-Keep: 2\r\n"
		  "Keep-Alive: timeout=5\r\nServer: up\r\n\r\n",
		  &a),
	    0);
	ck_assert_int_eq(a.close, 1);
	ck_assert_int_eq(proxy_answer_dropped(&a, "x-hop"), 1);
	ck_assert_int_eq(proxy_answer_dropped(&a, "X-Keep"), 0);
	ck_assert_int_eq(proxy_answer_dropped(&a, "keep-alive"), 1);
	ck_assert_int_eq(proxy_answer_dropped(&a, "Server"), 1);
	ck_assert_int_eq(proxy_answer_dropped(&a, "Connection"), 1);
	ck_assert_int_eq(proxy_answer_dropped(&a, "Content-Length"), 1);
	ck_assert_int_eq(proxy_answer_dropped(&a, "Transfer-Encoding"), 1);
	ck_assert_int_eq(parse("HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n\r\n", &a), 0);
	ck_assert_int_eq(a.close, 0);
	ck_assert_int_eq(proxy_list_has("a, b,c", "c"), 1);
	ck_assert_int_eq(proxy_list_has("a, bc", "b"), 0);
	ck_assert_int_eq(proxy_list_has("", "b"), 0);
}
END_TEST

static Suite *answer_suite(void)
{
	Suite *s = suite_create("proxy_answer");
	TCase *tc = tcase_create("head");

	tcase_add_test(tc, test_status_line);
	tcase_add_loop_test(tc, test_status_bad, 0, sizeof(bad_status) / sizeof(bad_status[0]));
	tcase_add_test(tc, test_fields);
	tcase_add_loop_test(tc, test_fields_bad, 0, sizeof(bad_fields) / sizeof(bad_fields[0]));
	tcase_add_test(tc, test_nul);
	tcase_add_test(tc, test_too_many_fields);
	tcase_add_test(tc, test_long_field);
	suite_add_tcase(s, tc);
	tc = tcase_create("framing");
	tcase_add_test(tc, test_length);
	tcase_add_loop_test(tc, test_length_bad, 0, sizeof(bad_length) / sizeof(bad_length[0]));
	tcase_add_test(tc, test_framing);
	tcase_add_test(tc, test_connection);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(answer_suite());
}
