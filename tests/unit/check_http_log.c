/*
 * check_http_log.c - unit tests for the access log line (src/http/
 * vk_http_log.c): the combined format, the time in microseconds, and
 * the escaping of the quoted fields (\xHH, as nginx writes them).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check_run.h"
#include "vk_http_log.h"

static char line[VK_HTTP_LOG_LINE_MAX];

static size_t fmt(const struct vk_http_log_entry *e)
{
	size_t n = vk_http_log_format(line, e);

	ck_assert_uint_lt(n, sizeof(line));
	line[n] = '\0';
	return n;
}

START_TEST(test_combined)
{
	struct vk_http_log_entry e = {
	    .peer = "192.0.2.7",
	    .start = 86400 + 3723, /* 02/Jan/1970:01:02:03 UTC */
	    .method = "GET",
	    .target = "/a?b=1",
	    .target_len = 6,
	    .version = 11,
	    .status = 200,
	    .bytes = 512,
	    .referer = "http://r/",
	    .agent = "curl/8",
	    .usec = 87,
	};

	fmt(&e);
	ck_assert_str_eq(line, "192.0.2.7 - - [02/Jan/1970:01:02:03 +0000] \"GET /a?b=1 HTTP/1.1\" "
			       "200 512 \"http://r/\" \"curl/8\" 87\n");
	e.version = 10;
	e.referer = NULL;
	e.agent = NULL;
	e.peer = NULL;
	fmt(&e);
	ck_assert_str_eq(line, "- - - [02/Jan/1970:01:02:03 +0000] \"GET /a?b=1 HTTP/1.0\" "
			       "200 512 \"-\" \"-\" 87\n");
}
END_TEST

START_TEST(test_unparsed)
{
	struct vk_http_log_entry e = {.peer = "::1", .start = 0, .status = 400};

	fmt(&e);
	ck_assert_str_eq(line, "::1 - - [01/Jan/1970:00:00:00 +0000] \"-\" 400 0 \"-\" \"-\" 0\n");
}
END_TEST

START_TEST(test_escaping)
{
	static const char target[] = "/x\"y\\z\x01\x7f\xff\nq";
	struct vk_http_log_entry e = {
	    .peer = "127.0.0.1",
	    .method = "GET",
	    .target = target,
	    .target_len = sizeof(target) - 1,
	    .version = 11,
	    .status = 404,
	    .referer = "a\"b",
	    .agent = "tab\there \x1b[31m",
	};

	fmt(&e);
	ck_assert_ptr_nonnull(strstr(line, "\"GET /x\\x22y\\x5Cz\\x01\\x7F\\xFF\\x0Aq HTTP/1.1\""));
	ck_assert_ptr_nonnull(strstr(line, " \"a\\x22b\" "));
	ck_assert_ptr_nonnull(strstr(line, " \"tab\\x09here \\x1B[31m\" "));
	/* One line: no raw newline, quote or control byte inside it. */
	ck_assert_ptr_eq(strchr(line, '\n'), line + strlen(line) - 1);
	for (const char *p = line; *p != '\n'; p++)
		ck_assert((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
}
END_TEST

START_TEST(test_cut)
{
	size_t big = 3 * VK_HTTP_LOG_LINE_MAX;
	char *target = malloc(big), *agent = malloc(big + 1);
	struct vk_http_log_entry e = {
	    .method = "GET",
	    .target = target,
	    .target_len = big,
	    .version = 11,
	    .status = 200,
	    .referer = agent,
	    .agent = agent,
	    .usec = 1,
	};
	size_t n;

	ck_assert_ptr_nonnull(target);
	ck_assert_ptr_nonnull(agent);
	memset(target, '"', big); /* each one 4 bytes escaped */
	memset(agent, 0x01, big);
	agent[big] = '\0';
	n = fmt(&e);
	ck_assert_uint_le(n, VK_HTTP_LOG_LINE_MAX);
	ck_assert_int_eq(line[n - 1], '\n');
	ck_assert_ptr_nonnull(strstr(line, " HTTP/1.1\" 200 0 \""));
	/* Cut on a whole escape, never inside one. */
	ck_assert_ptr_nonnull(strstr(line, "\\x22 HTTP/1.1"));
	ck_assert_ptr_nonnull(strstr(line, "\\x01\" \"\\x01"));
	free(target);
	free(agent);
}
END_TEST

static Suite *log_suite(void)
{
	Suite *s = suite_create("http_log");
	TCase *tc = tcase_create("line");

	tcase_add_test(tc, test_combined);
	tcase_add_test(tc, test_unparsed);
	tcase_add_test(tc, test_escaping);
	tcase_add_test(tc, test_cut);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	/* The time field is local time: pin it. */
	setenv("TZ", "UTC", 1);
	return check_run(log_suite());
}
